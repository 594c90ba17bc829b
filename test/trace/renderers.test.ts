/**
 * The renderers of one trace, made from a real exchange on 127.0.0.1: a
 * client looks a name up over UDP with the project's resolver, fails once to
 * connect, then talks to a web server with `exchangeOn`; every side is
 * traced, and the resolver and the exchange record their own DNS and HTTP
 * events (nothing here builds one by hand). The Mermaid diagram must tell that story
 * with the real descriptors, ports and byte counts; the JSON must read back;
 * the HAR must satisfy the HAR 1.2 JSON schema.
 */
import assert from 'node:assert/strict';
import net from 'node:net';
import { before, test } from 'node:test';
import { Resolver } from '../../src/dns/resolver.js';
import { serveDns } from '../../src/dns/server.js';
import { parseZone } from '../../src/dns/zone-file.js';
import { SocketLibrary } from '../../src/socket/library.js';
import { KernelStack } from '../../src/stack/kernel/stack.js';
import { exchangeOn } from '../../src/http/exchange.js';
import { TraceLog, type CallEvent, type DnsEvent, type HttpEvent, type TraceEvent } from '../../src/trace-events.js';
import { decodeMessage, encodeMessage } from '../../src/wire/dns/message.js';
import { CLASS, TYPE } from '../../src/wire/dns/types.js';
import { renderHar } from '../../src/trace/har.js';
import { parseTraceJson, renderJson } from '../../src/trace/json.js';
import { mermaidText, renderMermaid } from '../../src/trace/mermaid.js';
import { harValidator } from './har-schema.js';

const LOOPBACK = '127.0.0.1';
const REQUEST = 'GET /?q=1 HTTP/1.1\r\nHost: 127.0.0.1\r\nCookie: a=1; b=2\r\nConnection: close\r\n\r\n';
const BODY = 'hello from the web server\n';
const RESPONSE = `HTTP/1.1 200 OK\r\nContent-Type: text/plain; charset=utf-8\r\nSet-Cookie: s=xyz; Path=/; HttpOnly\r\nContent-Length: ${BODY.length}\r\nConnection: close\r\n\r\n${BODY}`;

interface Exchange {
  events: TraceEvent[];
  dnsPort: number;
  clientUdpPort: number;
  webPort: number;
  clientTcpPort: number;
  refusedPort: number;
  /** Bytes of the DNS query and of its answer. */
  query: number;
  answer: number;
}

let x: Exchange;

before(async () => {
  x = await exchange();
});

/** A port nothing listens on: bound and let go by node:net, outside the trace. */
async function freePort(): Promise<number> {
  const s = net.createServer();
  await new Promise<void>((resolve) => s.listen(0, LOOPBACK, resolve));
  const { port } = s.address() as net.AddressInfo;
  await new Promise((resolve) => s.close(resolve));
  return port;
}

async function exchange(): Promise<Exchange> {
  const trace = new TraceLog();
  const lib = (label: string) => new SocketLibrary(new KernelStack(), { label, trace });
  const client = lib('client');
  const dns = lib('dns-server');
  const server = lib('server');

  // The DNS server answers one query: the name is 127.0.0.1.
  const dfd = await dns.socket('udp');
  await dns.bind(dfd, LOOPBACK, 0);
  const dnsPort = (await dns.getsockname(dfd)).port;
  const answered = (async () => {
    const buffer = new Uint8Array(512);
    const q = await dns.recvfrom(dfd, buffer);
    const asked = decodeMessage(buffer.subarray(0, q.bytes));
    const name = asked.questions[0]!.name;
    const reply = encodeMessage({ ...asked, qr: true, aa: true, answers: [{ name, type: TYPE.A, class: CLASS.IN, ttl: 300, data: LOOPBACK }], edns: null });
    await dns.sendto(dfd, reply, q.address, q.port);
    await dns.close(dfd);
    return q.port;
  })();

  // The web server answers one request and closes first.
  const lfd = await server.socket('tcp');
  await server.bind(lfd, LOOPBACK, 0);
  await server.listen(lfd, 8);
  const webPort = (await server.getsockname(lfd)).port;
  const served = (async () => {
    const fd = await server.accept(lfd);
    const buf = new Uint8Array(1024);
    let got = '';
    while (!got.includes('\r\n\r\n')) {
      const n = await server.read(fd, buf);
      if (n === 0) break;
      got += Buffer.from(buf.subarray(0, n)).toString('latin1');
    }
    await server.write(fd, Buffer.from(RESPONSE));
    await server.close(fd);
    await server.close(lfd);
  })();

  // The client: the lookup, a refused connect, then the seed's steps.
  const t0 = client.stack.now();
  const resolver = new Resolver({ lib: client, trace, servers: [`${LOOPBACK}:${dnsPort}`], resolvConf: false, hosts: false, cache: false, timeout: 2000 });
  assert.equal(await resolver.gethostbyname('www.example.test'), LOOPBACK);
  await resolver.close();
  const clientUdpPort = await answered;
  const t1 = client.stack.now();

  const refusedPort = await freePort();
  const bad = await client.socket('tcp');
  await assert.rejects(client.connect(bad, LOOPBACK, refusedPort), { code: 'ECONNREFUSED' });
  await client.close(bad);

  const t2 = client.stack.now();
  const fd = await client.socket('tcp');
  await client.connect(fd, LOOPBACK, webPort);
  const clientTcpPort = (await client.getsockname(fd)).port;
  const connection = { sink: trace, who: client.label, stack: client.stack.name, fd, serverAddress: LOOPBACK, connection: `${LOOPBACK}:${clientTcpPort}`, dns: t1 - t0, connect: client.stack.now() - t2 };
  const buf = new Uint8Array(4096);
  const request = { method: 'GET', url: `http://${LOOPBACK}:${webPort}/?q=1#top`, version: '1.1' as const, headers: [['Host', LOOPBACK], ['Cookie', 'a=1; b=2'], ['Connection', 'close']] as [string, string][] };
  const done = await exchangeOn(client, fd, request, { buffer: buf, trace: connection, start: t0 });
  assert.equal(done.sent, REQUEST.length);
  while ((await client.read(fd, buf)) > 0);
  await client.close(fd);
  await served;
  assert.equal(done.received, RESPONSE.length);
  const dnsEvents = trace.events.filter((e): e is DnsEvent => e.kind === 'dns');

  return { events: trace.events, dnsPort, clientUdpPort, webPort, clientTcpPort, refusedPort, query: dnsEvents[0]!.size!, answer: dnsEvents[1]!.size! };
}

/** Asserts each expected line is in the diagram, in this order. */
function inOrder(lines: readonly string[], expected: readonly (string | RegExp)[]): void {
  let from = 0;
  for (const want of expected) {
    const i = lines.findIndex((l, k) => k >= from && (typeof want === 'string' ? l.trim() === want : want.test(l)));
    assert.ok(i >= 0, `expected ${String(want)} after line ${from}:\n${lines.join('\n')}`);
    from = i + 1;
  }
}

test('the diagram names each side once, the application first', () => {
  const m = renderMermaid(x.events, { title: 'seed: lookup, connect, write, read, close' });
  const lines = m.trimEnd().split('\n');
  assert.equal(lines[0], 'sequenceDiagram');
  assert.equal(lines[1], '  title seed: lookup, connect, write, read, close');
  const participants = lines.filter((l) => l.trim().startsWith('participant '));
  assert.deepEqual(participants.map((l) => l.trim()), [
    'participant client as client (app → socket library)',
    `participant dns_server as dns-server (udp 127.0.0.1#58;${x.dnsPort})`,
    `participant server as server (web server on 127.0.0.1#58;${x.webPort})`,
    'participant network as network (peers not in the trace)',
  ]);
});

test('the diagram has the seed\'s arrows with the real descriptors, ports and byte counts, in order', () => {
  const lines = renderMermaid(x.events).trimEnd().split('\n');
  const served = RESPONSE.length;
  inOrder(lines, [
    // the servers get ready
    'dns_server->>dns_server: socket(udp) → fd 3',
    `dns_server->>dns_server: bind(fd 3, 127.0.0.1:0) → 127.0.0.1:${x.dnsPort}`,
    'server->>server: socket(tcp) → fd 3',
    `server->>server: bind(fd 3, 127.0.0.1:0) → 127.0.0.1:${x.webPort}`,
    'server->>server: listen(fd 3, backlog 8) → ok',
    // gethostbyname request and answer, on the socket the resolver recorded its question on
    'client->>client: socket(udp) → fd 3',
    `client-->>dns_server: gethostbyname request: sendto(fd 3, ${x.query} B, 127.0.0.1, ${x.dnsPort})`,
    `Note over dns_server: recvfrom(fd 3, buffer 512 B) → ${x.query} B from 127.0.0.1:${x.clientUdpPort}`,
    `Note over dns_server: sendto(fd 3, ${x.answer} B, 127.0.0.1, ${x.clientUdpPort})`,
    // The resolver offers one byte more than its EDNS size (1232), to see an oversized reply.
    `dns_server-->>client: answer: recvfrom(fd 3, buffer 1233 B) → ${x.answer} B from 127.0.0.1:${x.dnsPort}`,
    'client->>client: close(fd 3)',
    // the refused connect, on the same descriptor number reused
    'client->>client: socket(tcp) → fd 3',
    `client-->>network: connect(fd 3, 127.0.0.1, ${x.refusedPort})`,
    'network--xclient: ✗ ECONNREFUSED',
    'client->>client: close(fd 3)',
    // the seed: prepare descriptor, connect and OK, write, read, close
    'client->>client: socket(tcp) → fd 3',
    `client-->>server: connect(fd 3, 127.0.0.1, ${x.webPort})`,
    `server-->>client: OK (accept(fd 3) → fd 4, from 127.0.0.1:${x.clientTcpPort})`,
    `client->>server: write(fd 3, ${REQUEST.length} B)`,
    `Note over server: read(fd 4, buffer 1024 B) → ${REQUEST.length} B`,
    `Note over server: write(fd 4, ${served} B)`,
    /^ {2}server->>client: read\(fd 3, buffer 4096 B\) → \d+ B/,
    'Note over client: read(fd 3, buffer 4096 B) → 0 B, end of stream',
    'client-->>server: close(fd 3)',
  ]);
  // The web server closes first, as web servers usually do: its close goes to the client.
  inOrder(lines, [`Note over server: write(fd 4, ${served} B)`, 'server-->>client: close(fd 4)', 'client-->>server: close(fd 3)']);
  const readBytes = lines.map((l) => /server->>client: read\(fd 3, buffer 4096 B\) → (\d+) B(?: ×(\d+))?$/.exec(l)).filter((m) => m !== null);
  assert.equal(readBytes.reduce((sum, m) => sum + Number(m![1]) * Number(m![2] ?? 1), 0), served);
  // The HTTP exchange is a note over both ends; the listener's close is the server's own business.
  assert.ok(lines.some((l) => l.trim().startsWith(`Note over client,server: HTTP GET http://127.0.0.1:${x.webPort}/?q=1#35;top → 200 OK (fd 3, `)));
  assert.ok(lines.includes('  server->>server: close(fd 3)'));
  // Nothing Mermaid would misread: no raw ';' or '#' in any message.
  for (const l of lines.slice(1)) assert.doesNotMatch(l.slice(l.indexOf(': ') + 1).replace(/#\d+;/g, ''), /[;#%<>{}]/, l);
});

test('a lookup through the project\'s resolver and DNS server is a gethostbyname request and its answer', async () => {
  const trace = new TraceLog();
  const zone = parseZone('$ORIGIN example.test.\n$TTL 300\n@ IN SOA ns1 hostmaster 1 7200 900 1209600 300\n@ IN NS ns1\nns1 IN A 127.0.0.1\nwww IN A 192.0.2.80\n');
  const server = await serveDns(new SocketLibrary(new KernelStack(), { label: 'dns-server', trace }), [zone], { address: LOOPBACK, port: 0 });
  const resolver = new Resolver({ lib: new SocketLibrary(new KernelStack(), { label: 'client', trace }), trace, servers: [`${LOOPBACK}:${server.port}`], resolvConf: false, hosts: false, cache: false, timeout: 2000 });
  try {
    assert.equal(await resolver.gethostbyname('www.example.test'), '192.0.2.80');
  } finally {
    await resolver.close();
    await server.close();
  }
  const calls = trace.events as CallEvent[];
  // The resolver binds its socket to a random port on the wildcard address, then sends.
  const bind = calls.find((e) => e.who === 'client' && e.call === 'bind' && !e.error)!;
  const sent = calls.find((e) => e.who === 'client' && e.call === 'sendto')!;
  const got = calls.find((e) => e.who === 'client' && e.call === 'recvfrom')!;
  const heard = calls.find((e) => e.who === 'dns-server' && e.call === 'recvfrom' && !e.error)!;
  const answered = calls.find((e) => e.who === 'dns-server' && e.call === 'sendto')!;
  assert.match(bind.local!, /^0\.0\.0\.0:\d+$/);
  const lines = renderMermaid(trace.events).trimEnd().split('\n');
  assert.ok(lines.some((l) => l.trim() === `participant dns_server as dns-server (tcp 127.0.0.1#58;${server.port}#59; udp 127.0.0.1#58;${server.port})`), lines.join('\n'));
  assert.ok(lines.some((l) => l.trim().startsWith('participant client as client (app → socket library)')));
  inOrder(lines, [
    `client->>client: socket(udp) → fd ${sent.fd}`,
    `client->>client: bind(fd ${sent.fd}, 0.0.0.0:${bind.port}) → ${bind.local}`,
    `client-->>dns_server: gethostbyname request: sendto(fd ${sent.fd}, ${sent.length} B, 127.0.0.1, ${server.port})`,
    `Note over dns_server: recvfrom(fd ${heard.fd}, buffer ${heard.length} B) → ${sent.length} B from 127.0.0.1:${bind.port}`,
    `Note over dns_server: sendto(fd ${answered.fd}, ${answered.length} B, 127.0.0.1, ${bind.port})`,
    `dns_server-->>client: answer: recvfrom(fd ${got.fd}, buffer ${got.length} B) → ${answered.length} B from 127.0.0.1:${server.port}`,
    `client->>client: close(fd ${sent.fd})`,
  ]);
});

test('without the resolver\'s DNS events the same datagrams are plain sendto and recvfrom: the diagram does not guess from names or ports', () => {
  const withoutDns = x.events.filter((e) => e.kind !== 'dns');
  const lines = renderMermaid(withoutDns).trimEnd().split('\n');
  assert.ok(!lines.some((l) => /gethostbyname|answer:/.test(l)), lines.join('\n'));
  inOrder(lines, [
    `client->>dns_server: sendto(fd 3, ${x.query} B, 127.0.0.1, ${x.dnsPort})`,
    `dns_server->>client: recvfrom(fd 3, buffer 1233 B) → ${x.answer} B from 127.0.0.1:${x.dnsPort}`,
  ]);
});

test('Mermaid text escapes what would break the diagram and keeps the rest readable', () => {
  const nasty = 'a;b #1 %%{init: {"theme":"dark"}}%% <img src=x onerror=alert(1)> & style:#fff; classDef x';
  const escaped = mermaidText(nasty);
  assert.doesNotMatch(escaped.replace(/#\d+;/g, ''), /[;#%<>{}&"]/);
  assert.doesNotMatch(escaped, /style|classDef/);
  const decoded = escaped.replace(/#(\d+);/g, (_, n: string) => String.fromCodePoint(Number(n)));
  assert.equal(decoded, nasty);
  assert.equal(mermaidText('nowrap: x').replace(/#(\d+);/g, (_, n: string) => String.fromCodePoint(Number(n))), 'nowrap: x');
  assert.doesNotMatch(mermaidText('nowrap: x'), /^nowrap:/);
  assert.equal(mermaidText('host 127.0.0.1:80, b@c', true), 'host 127.0.0.1#58;80#44; b#64;c');
  assert.equal(mermaidText('line\nbreak'), 'line break');
});

test('participant ids are safe: no keywords, no leading digits, no clashes', () => {
  const call = (who: string, seq: number): CallEvent => ({ kind: 'call', seq, who, stack: 'kernel', call: 'socket', fd: 3, start: seq, waited: 0, result: 3, note: 'tcp' });
  const m = renderMermaid([call('end', 0), call('3rd party', 1), call('a-b', 2), call('a_b', 3), call('x-ray', 4)]);
  const ids = m.split('\n').filter((l) => l.includes('participant ')).map((l) => l.trim().split(' ')[1]);
  assert.deepEqual(ids, ['p_end', 'p_3rd_party', 'a_b', 'a_b_2', 'p_x_ray']);
  assert.match(m, /p_end->>p_end: socket\(tcp\) → fd 3/);
});

test('consecutive identical reads collapse into one arrow with a count; long traces are cut with a note', () => {
  const events: CallEvent[] = [];
  const add = (e: Omit<CallEvent, 'kind' | 'seq' | 'stack' | 'waited'>) => events.push({ kind: 'call', seq: events.length, stack: 'kernel', waited: 0, ...e });
  add({ who: 'client', call: 'socket', fd: 3, start: 0, result: 3, note: 'tcp' });
  add({ who: 'client', call: 'connect', fd: 3, start: 1, address: '192.0.2.1', port: 80, local: '192.0.2.7:40000', result: 'ok' });
  for (let i = 0; i < 5; i++) add({ who: 'client', call: 'read', fd: 3, start: 2 + i, length: 4096, result: 4096 });
  add({ who: 'client', call: 'read', fd: 3, start: 8, length: 4096, result: 100 });
  add({ who: 'client', call: 'read', fd: 3, start: 9, length: 4096, result: 0 });
  add({ who: 'client', call: 'write', fd: 9, start: 10, length: 1, error: 'EBADF' });
  add({ who: 'client', call: 'close', fd: 3, start: 11, result: 'ok' });
  const lines = renderMermaid(events).trimEnd().split('\n').map((l) => l.trim());
  assert.ok(lines.includes('network->>client: read(fd 3, buffer 4096 B) → 4096 B ×5'), lines.join('\n'));
  assert.ok(lines.includes('network->>client: read(fd 3, buffer 4096 B) → 100 B'));
  assert.ok(lines.includes('network-->>client: read(fd 3, buffer 4096 B) → 0 B, end of stream'), 'an untraced peer\'s close is the end of stream');
  assert.ok(lines.includes('client-xclient: write(fd 9, 1 B) ✗ EBADF'));
  assert.ok(lines.includes('client-->>network: close(fd 3)'));
  assert.ok(lines.includes('network-->>client: OK (from 192.0.2.7:40000)'));
  const cut = renderMermaid(events, { maxMessages: 3 }).trimEnd().split('\n');
  assert.equal(cut.filter((l) => /->>|-->>|-x|Note/.test(l)).length, 4);
  assert.match(cut[cut.length - 1]!, /Note over client,network: … \d+ more messages not shown/);
});

test('the JSON document reads back to the same events, keys in a fixed order', () => {
  const meta = { run: 'renderers', ports: { web: x.webPort, dns: x.dnsPort } };
  const json = renderJson(x.events, meta);
  const doc = parseTraceJson(json);
  assert.equal(doc.version, 1);
  assert.deepEqual(doc.meta, { ports: { dns: x.dnsPort, web: x.webPort }, run: 'renderers' });
  assert.deepEqual(doc.events, JSON.parse(JSON.stringify(x.events)));
  assert.equal(renderJson(doc.events, doc.meta), json, 'rendering what was read gives the same text');
  assert.deepEqual(Object.keys(JSON.parse(json)), ['version', 'meta', 'events']);
  const firstCall = doc.events.find((e) => e.kind === 'call')!;
  assert.deepEqual(Object.keys(firstCall).slice(0, 8), ['kind', 'seq', 'who', 'stack', 'call', 'fd', 'start', 'waited']);
  const http = doc.events.find((e) => e.kind === 'http') as HttpEvent;
  assert.deepEqual(Object.keys(http.timings), ['dns', 'connect', 'send', 'wait', 'receive']);
  assert.throws(() => parseTraceJson('{"version":2,"events":[]}'), /version 2/);
  assert.throws(() => parseTraceJson('{"version":1,"events":[{"kind":"nope"}]}'), /event 0/);
});

test('the HAR satisfies the HAR 1.2 JSON schema and the spec\'s conventions', () => {
  const validate = harValidator();

  const wallClockAt0 = Date.UTC(2024, 0, 2, 3, 4, 5, 0);
  const har = renderHar(x.events, { creator: { name: 'protostack-test', version: '1.0.0' }, wallClockAt0, page: { title: 'renderers' } });
  const ok = validate(har);
  assert.deepEqual(validate.errors ?? [], [], 'ajv finds no errors');
  assert.equal(ok, true);

  assert.equal(har.log.version, '1.2');
  assert.deepEqual(har.log.creator, { name: 'protostack-test', version: '1.0.0' });
  assert.equal(har.log.entries.length, 1);
  const e = har.log.entries[0]!;
  const h = x.events.find((ev): ev is HttpEvent => ev.kind === 'http')!;
  assert.equal(e.pageref, har.log.pages![0]!.id);
  assert.equal(e.startedDateTime, new Date(Math.round(wallClockAt0 + h.start)).toISOString());
  assert.equal(e.request.url, `http://127.0.0.1:${x.webPort}/?q=1`, 'no fragment');
  assert.equal(e.request.httpVersion, 'HTTP/1.1');
  assert.deepEqual(e.request.queryString, [{ name: 'q', value: '1' }]);
  assert.deepEqual(e.request.cookies, [{ name: 'a', value: '1' }, { name: 'b', value: '2' }]);
  assert.deepEqual(e.request.headers[0], { name: 'Host', value: '127.0.0.1' });
  assert.equal(e.request.headersSize, -1);
  assert.equal(e.request.bodySize, 0);
  assert.equal(e.response.status, 200);
  assert.deepEqual(e.response.cookies, [{ name: 's', value: 'xyz', path: '/', httpOnly: true }]);
  assert.deepEqual(e.response.content, { size: BODY.length, mimeType: 'text/plain; charset=utf-8' });
  assert.equal(e.response.redirectURL, '');
  assert.equal(e.response.headersSize, RESPONSE.length - BODY.length);
  assert.equal(e.response.bodySize, BODY.length);
  assert.deepEqual(e.cache, {});
  assert.equal(e.timings.blocked, -1);
  assert.equal(e.timings.ssl, -1);
  for (const k of ['send', 'wait', 'receive'] as const) assert.ok(e.timings[k] >= 0);
  for (const k of ['dns', 'connect'] as const) assert.ok(e.timings[k] >= 0, 'this exchange looked up and connected');
  const sum = [e.timings.blocked, e.timings.dns, e.timings.connect, e.timings.send, e.timings.wait, e.timings.receive].filter((t) => t >= 0).reduce((a, b) => a + b, 0);
  assert.ok(Math.abs(e.time - sum) < 1e-9, `time ${e.time} is the sum ${sum}`);
  assert.equal(e.serverIPAddress, '127.0.0.1');
  assert.equal(e.connection, `127.0.0.1:${x.clientTcpPort}`);

  // A reused connection: no lookup, no connect, -1 for both.
  const reused = renderHar([{ ...h, timings: { dns: -1, connect: -1, send: 0.1, wait: 1.25, receive: 0.2 } }], { wallClockAt0 });
  assert.equal(validate(reused), true);
  assert.deepEqual(reused.log.entries[0]!.timings, { blocked: -1, dns: -1, connect: -1, send: 0.1, wait: 1.25, receive: 0.2, ssl: -1 });
  assert.equal(reused.log.entries[0]!.time, 1.55);
  assert.equal(reused.log.creator.name, 'protostack');
  assert.equal(reused.log.pages, undefined);

  // The validator is awake: a HAR without request headers fails.
  const broken = JSON.parse(JSON.stringify(har)) as { log: { entries: { request: { headers?: unknown } }[] } };
  delete broken.log.entries[0]!.request.headers;
  assert.equal(validate(broken), false);
});
