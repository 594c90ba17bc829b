/** The demo's trace: the seed's calls in the seed's order on every side, consistent descriptors and byte counts. */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { runDemo } from '../../src/cli/demo.js';
import { KernelStack } from '../../src/stack/kernel/stack.js';
import type { CallEvent, HttpEvent } from '../../src/trace-events.js';
import { assertDemoBytes, tapBytes } from './bytes-tap.js';

const calls = (events: readonly unknown[], who: string) =>
  (events as CallEvent[]).filter((e) => e.kind === 'call' && e.who === who && e.note !== 'closed while waiting').sort((a, b) => a.start - b.start || a.seq - b.seq);

test('HTTP/1.0, one object: the client and both servers make the seed calls in the seed order', async () => {
  const tap = tapBytes();
  const { trace, summary } = await runDemo({ stack: new KernelStack(), objects: 1, http: '1.0' }).finally(() => tap.stop());
  const client = calls(trace.events, 'client');
  assert.deepEqual(
    client.map((e) => e.call),
    ['socket', 'bind', 'sendto', 'recvfrom', 'close', 'socket', 'connect', 'write', 'read', 'read', 'close'],
    'gethostbyname over UDP, then socket → connect → write → read until the end → close',
  );
  const [udp, , query, answer] = client;
  assert.equal(udp!.note, 'udp');
  const dnsServer = calls(trace.events, 'dns-server');
  const served = dnsServer.find((e) => e.call === 'recvfrom' && e.result === query!.result)!;
  assert.ok(served, 'the DNS server received as many bytes as the client sent');
  assert.equal(dnsServer.find((e) => e.call === 'sendto')!.result, answer!.result, 'and sent as many as the client received');

  const web = calls(trace.events, 'web-server');
  assert.deepEqual(web.slice(0, 4).map((e) => e.call), ['socket', 'bind', 'listen', 'accept']);
  const connect = client.find((e) => e.call === 'connect')!;
  const accept = web.find((e) => e.call === 'accept')!;
  assert.equal(`${accept.address}:${accept.port}`, connect.local, 'the server accepted the client connection');
  assert.equal(connect.port, Number(web.find((e) => e.call === 'bind')!.local!.split(':')[1]), 'the client connected to the port the server bound');
  const conn = accept.result as number;
  const serverRead = web.find((e) => e.call === 'read' && e.fd === conn)!;
  const clientWrite = client.find((e) => e.call === 'write')!;
  assert.equal(serverRead.result, clientWrite.result, 'what the client wrote is what the server read');
  const serverWrite = web.find((e) => e.call === 'write' && e.fd === conn)!;
  const clientRead = client.filter((e) => e.call === 'read')[0]!;
  assert.equal(clientRead.result, serverWrite.result, 'what the server wrote is what the client read');
  assert.equal(client.filter((e) => e.call === 'read').at(-1)!.result, 0, 'the client read to the end of the stream');
  const moved = assertDemoBytes(tap.moved, clientWrite.fd, conn);
  assert.deepEqual(moved, { query: query!.result, answer: answer!.result, request: clientWrite.result, response: serverWrite.result }, 'and as many bytes as the trace says');
  // The web server closes first (its FIN), as web servers usually do.
  const serverFin = web.find((e) => (e.call === 'shutdown' || e.call === 'close') && e.fd === conn)!;
  const clientClose = client.at(-1)!;
  assert.ok(serverFin.start < clientClose.start, 'the server let go of the connection before the client closed');
  assert.equal(summary.connections, 1);
  assert.deepEqual(summary.statuses, [200]);
  const http = trace.events.filter((e) => e.kind === 'http') as HttpEvent[];
  assert.equal(http.length, 1);
  assert.equal(http[0]!.status, 200);
});

test('HTTP/1.0 opens a connection per object; HTTP/1.1 keeps one for all', async () => {
  const old = await runDemo({ stack: new KernelStack(), objects: 4, http: '1.0' });
  assert.equal(old.summary.connections, 4);
  assert.equal(calls(old.trace.events, 'client').filter((e) => e.call === 'connect').length, 4);
  assert.equal(calls(old.trace.events, 'web-server').filter((e) => e.call === 'accept').length, 4);
  const kept = await runDemo({ stack: new KernelStack(), objects: 4, http: '1.1' });
  assert.equal(kept.summary.connections, 1);
  assert.equal(kept.summary.roundTrips, 4);
  assert.equal(calls(kept.trace.events, 'client').filter((e) => e.call === 'connect').length, 1);
  assert.equal(calls(kept.trace.events, 'client').filter((e) => e.call === 'write').length, 4);
  assert.deepEqual(kept.summary.statuses, [200, 200, 200, 200]);
  const conns = new Set((kept.trace.events.filter((e) => e.kind === 'http') as HttpEvent[]).map((e) => e.connection));
  assert.equal(conns.size, 1);
});
