/**
 * The HTTP client records its own exchanges (src/http/trace.ts): one HttpEvent per exchange
 * when its body ends, in order, with timings that add up and reuse flagged, beside the
 * resolver's DNS events and the socket library's calls in one trace. With no sink, nothing.
 */
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { Resolver } from '../../src/dns/resolver.js';
import { serveDns, type DnsServer } from '../../src/dns/server.js';
import { parseZone } from '../../src/dns/zone-file.js';
import { Agent } from '../../src/http/agent.js';
import { request } from '../../src/http/client.js';
import { serve, type HttpServer } from '../../src/http/server/index.js';
import type { Dispatch } from '../../src/http/session.js';
import { SocketLibrary } from '../../src/socket/library.js';
import { KernelStack } from '../../src/stack/kernel/stack.js';
import { TraceLog, type CallEvent, type DnsEvent, type HttpEvent } from '../../src/trace-events.js';

const ZONE = '$ORIGIN example.test.\n$TTL 300\n@ IN SOA ns1 hostmaster 1 7200 900 1209600 300\n@ IN NS ns1\nns1 IN A 127.0.0.1\nwww IN A 127.0.0.1\n';

let web: HttpServer;
let dns: DnsServer;
before(async () => {
  web = await serve(async (req, res) => {
    if (req.url === '/moved') {
      res.status = 302;
      res.setHeader('Location', '/a');
      return res.end();
    }
    const got = await req.bytes();
    res.setHeader('Content-Type', 'text/plain');
    return res.end(`${req.method} ${req.url} ${got.length}\n`);
  });
  dns = await serveDns(new SocketLibrary(new KernelStack(), { label: 'dns-server' }), [parseZone(ZONE)], { address: '127.0.0.1', port: 0 });
});
after(async () => {
  await web.close();
  await dns.close();
});

/** A client whose library, resolver and agent all record into one trace. */
function client(trace: TraceLog | null): { lib: SocketLibrary; agent: Agent } {
  const lib = new SocketLibrary(new KernelStack(), { label: 'app', trace });
  const resolver = new Resolver({ lib, trace, servers: [`127.0.0.1:${dns.port}`], resolvConf: false, hosts: false, cache: false, timeout: 2000 });
  return { lib, agent: new Agent({ lib, resolver, trace, connections: 1, proxy: false }) };
}

const sum = (h: HttpEvent) => Object.values(h.timings).filter((t) => t >= 0).reduce((a, b) => a + b, 0);

test('the client and the resolver record, in order: the question, its answer, then each exchange when its body ends', async () => {
  const trace = new TraceLog();
  const { lib, agent } = client(trace);
  const base = `http://www.example.test:${web.port}`;
  const texts: string[] = [];
  try {
    for (const [path, body] of [['/a', undefined], ['/b', 'twelve bytes']] as const) {
      const t0 = lib.stack.now();
      const res = await request(`${base}${path}`, { agent, method: body ? 'POST' : 'GET', ...(body ? { body } : {}) });
      texts.push(await res.body.text());
      const h = trace.events.filter((e): e is HttpEvent => e.kind === 'http').at(-1)!;
      assert.ok(h.start >= t0 && h.start + sum(h) <= lib.stack.now() + 1e-6, 'the exchange lies inside the call, and its phases add up to no more than it took');
    }
  } finally {
    await agent.close();
  }
  assert.deepEqual(texts, ['GET /a 0\n', 'POST /b 12\n']);

  // getaddrinfo asks for A and AAAA at once: two questions, each answered, both before the first exchange ends.
  const kinds = trace.events.filter((e) => e.kind !== 'call').map((e) => (e.kind === 'dns' ? `dns ${e.phase}` : e.kind === 'http' ? `http ${e.url}` : e.kind));
  assert.deepEqual(kinds.slice(4), [`http ${base}/a`, `http ${base}/b`]);
  assert.deepEqual(kinds.slice(0, 4).sort(), ['dns answer', 'dns answer', 'dns query', 'dns query']);
  const dnsEvents = trace.events.filter((e): e is DnsEvent => e.kind === 'dns');
  const calls = trace.events.filter((e): e is CallEvent => e.kind === 'call');
  for (const type of ['A', 'AAAA']) {
    const [query, answer] = dnsEvents.filter((e) => e.type === type);
    assert.equal(query!.phase, 'query', `${type}: the question comes first`);
    assert.equal(query!.name, 'www.example.test');
    assert.equal(query!.transport, 'udp');
    assert.equal(query!.server, `127.0.0.1:${dns.port}`);
    assert.equal(answer!.phase, 'answer');
    assert.equal(answer!.id, query!.id);
    assert.equal(answer!.fd, query!.fd);
    assert.equal(answer!.rcode, 'NOERROR');
    assert.deepEqual(answer!.answers, type === 'A' ? ['A 127.0.0.1'] : [], 'www has no AAAA: NOERROR, no records');
    assert.ok(answer!.start >= query!.start && answer!.elapsed === answer!.start - query!.start);
    // The DNS events name the socket the question went on: the library's sendto and recvfrom on that descriptor.
    const sendto = calls.find((e) => e.call === 'sendto' && e.fd === query!.fd)!;
    const recvfrom = calls.find((e) => e.call === 'recvfrom' && e.fd === query!.fd)!;
    assert.equal(sendto.result, query!.size, 'the query event counts the bytes sendto sent');
    assert.equal(recvfrom.result, answer!.size);
    assert.ok(sendto.start <= query!.start && recvfrom.start + recvfrom.waited <= answer!.start);
  }
  const answer = dnsEvents.filter((e) => e.phase === 'answer').sort((a, b) => b.elapsed! - a.elapsed!)[0];
  const query = dnsEvents.filter((e) => e.phase === 'query').sort((a, b) => a.start - b.start)[0];

  const [first, second] = trace.events.filter((e): e is HttpEvent => e.kind === 'http');
  assert.equal(first!.reused, false);
  assert.ok(first!.timings.dns >= answer!.elapsed!, 'the lookup took at least the exchange with the server');
  assert.ok(first!.timings.connect >= 0);
  assert.ok(first!.start <= query!.start, 'the first exchange began before its lookup');
  assert.equal(second!.reused, true, 'the second exchange reused the connection');
  assert.equal(second!.timings.dns, -1);
  assert.equal(second!.timings.connect, -1);
  assert.equal(second!.connection, first!.connection);
  assert.equal(second!.fd, first!.fd);
  assert.ok(second!.start >= first!.start + sum(first!) - 1e-6, 'the second began after the first ended');
  for (const h of [first!, second!]) {
    for (const k of ['send', 'wait', 'receive'] as const) assert.ok(h.timings[k] >= 0, `${k} is never negative`);
    assert.equal(h.who, 'app');
    assert.equal(h.stack, 'kernel');
    assert.equal(h.serverAddress, '127.0.0.1');
    assert.equal(h.status, 200);
    assert.equal(h.statusText, 'OK');
    assert.equal(h.httpVersion, '1.1');
  }
  assert.equal(first!.method, 'GET');
  assert.equal(first!.responseBodySize, 'GET /a 0\n'.length);
  assert.equal(second!.method, 'POST');
  assert.equal(second!.requestBodySize, 12);
  assert.ok(second!.requestHeaders.some(([n, v]) => n === 'Content-Length' && v === '12'), 'the headers as sent, framing included');
  // The response head the client parsed, in bytes, as the connection's read calls received it.
  const read = calls.filter((e) => e.call === 'read' && e.fd === first!.fd && typeof e.result === 'number' && e.result > 0);
  assert.equal(read.reduce((n, e) => n + (e.result as number), 0), first!.responseHeadSize + first!.responseBodySize + second!.responseHeadSize + second!.responseBodySize);
  // The request went out after the exchange began, on the descriptor the event names.
  const connect = calls.find((e) => e.call === 'connect' && !e.error)!;
  assert.equal(connect.fd, first!.fd);
  assert.ok(calls.find((e) => e.call === 'write' && e.fd === first!.fd)!.start >= first!.start);
});

test('each redirect hop is an exchange of its own', async () => {
  const trace = new TraceLog();
  const { agent } = client(trace);
  try {
    const res = await request(`http://www.example.test:${web.port}/moved`, { agent, maxRedirects: 1 });
    assert.equal(await res.body.text(), 'GET /a 0\n');
  } finally {
    await agent.close();
  }
  const http = trace.events.filter((e): e is HttpEvent => e.kind === 'http');
  assert.deepEqual(http.map((h) => [h.status, new URL(h.url).pathname, h.reused]), [[302, '/moved', false], [200, '/a', true]]);
  assert.ok(http[0]!.responseHeaders.some(([n, v]) => n.toLowerCase() === 'location' && v === '/a'));
});

test('no sink: no HTTP or DNS event, and no exchange carries anything to trace', async () => {
  // The library keeps its own trace, so the calls show the requests did run.
  const calls = new TraceLog();
  const lib = new SocketLibrary(new KernelStack(), { label: 'app', trace: calls });
  const resolver = new Resolver({ lib, servers: [`127.0.0.1:${dns.port}`], resolvConf: false, hosts: false, cache: false, timeout: 2000 });
  const agent = new Agent({ lib, resolver, connections: 1, proxy: false });
  const dispatched: Dispatch[] = [];
  const dispatch = agent.dispatch.bind(agent);
  agent.dispatch = (url, d) => {
    dispatched.push(d);
    dispatch(url, d);
  };
  try {
    for (const path of ['/a', '/b']) assert.equal(await (await request(`http://www.example.test:${web.port}${path}`, { agent })).body.text(), `GET ${path} 0\n`);
  } finally {
    await agent.close();
  }
  assert.equal(dispatched.length, 2);
  for (const d of dispatched) assert.equal(d.traced, undefined, 'nothing noted along the way');
  assert.ok(calls.events.some((e) => e.kind === 'call' && e.call === 'sendto'), 'the lookup ran');
  assert.ok(calls.events.some((e) => e.kind === 'call' && e.call === 'write'), 'the requests ran');
  assert.deepEqual(calls.events.filter((e) => e.kind !== 'call'), []);
});
