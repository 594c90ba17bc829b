/**
 * The resolver records its own DNS events (src/dns/trace.ts): each question it sends, then the
 * answer that matched it or the failure, over UDP and TCP; nothing for what it answers without
 * sending (RFC 6761's localhost, the cache).
 */
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { Resolver } from '../../src/dns/resolver.js';
import { serveDns, type DnsServer } from '../../src/dns/server.js';
import { parseZone } from '../../src/dns/zone-file.js';
import { SocketLibrary } from '../../src/socket/library.js';
import { KernelStack } from '../../src/stack/kernel/stack.js';
import { TraceLog, type CallEvent, type DnsEvent } from '../../src/trace-events.js';

const ZONE = '$ORIGIN example.test.\n$TTL 300\n@ IN SOA ns1 hostmaster 1 7200 900 1209600 300\n@ IN NS ns1\nns1 IN A 127.0.0.1\nwww IN A 192.0.2.80\n';

let server: DnsServer;
before(async () => {
  server = await serveDns(new SocketLibrary(new KernelStack(), { label: 'dns-server' }), [parseZone(ZONE)], { address: '127.0.0.1', port: 0 });
});
after(() => server.close());

function traced(options: ConstructorParameters<typeof Resolver>[0] = {}): { trace: TraceLog; resolver: Resolver } {
  const trace = new TraceLog();
  const lib = new SocketLibrary(new KernelStack(), { label: 'client', trace });
  return { trace, resolver: new Resolver({ lib, trace, servers: [`127.0.0.1:${server.port}`], resolvConf: false, hosts: false, cache: false, timeout: 2000, ...options }) };
}

const dnsOf = (trace: TraceLog) => trace.events.filter((e): e is DnsEvent => e.kind === 'dns');

test('over TCP: the question on the connected socket, then the NXDOMAIN that answered it', async () => {
  const { trace, resolver } = traced({ tcp: true });
  try {
    await assert.rejects(resolver.resolve('nothing.example.test', 'A'), { code: 'ERR_DNS_NXDOMAIN' });
  } finally {
    await resolver.close();
  }
  const [query, answer, ...rest] = dnsOf(trace);
  assert.deepEqual(rest, []);
  assert.deepEqual([query!.phase, query!.transport, query!.name, query!.type, query!.who, query!.stack], ['query', 'tcp', 'nothing.example.test', 'A', 'client', 'kernel']);
  assert.deepEqual([answer!.phase, answer!.rcode, answer!.truncated, answer!.answers], ['answer', 'NXDOMAIN', false, []]);
  assert.equal(answer!.id, query!.id);
  assert.ok(answer!.elapsed! >= 0 && answer!.start === query!.start + answer!.elapsed!);
  const calls = trace.events.filter((e): e is CallEvent => e.kind === 'call' && e.fd === query!.fd);
  const connect = calls.find((e) => e.call === 'connect')!;
  const write = calls.find((e) => e.call === 'write')!;
  assert.ok(connect.start + connect.waited <= query!.start, 'the question is recorded once the connection is up');
  assert.equal(write.result, query!.size! + 2, 'the write carried the query and its two-byte length');
});

test('a server that never answers: the question, then a failure with the timeout\'s code', async () => {
  const silent = new SocketLibrary(new KernelStack(), { label: 'silent' });
  const fd = await silent.socket('udp');
  await silent.bind(fd, '127.0.0.1', 0);
  const { port } = await silent.getsockname(fd);
  const { trace, resolver } = traced({ servers: [`127.0.0.1:${port}`], timeout: 100, attempts: 1 });
  try {
    await assert.rejects(resolver.gethostbyname('www.example.test'), { code: 'ERR_DNS_TIMEOUT' });
  } finally {
    await resolver.close();
    await silent.closeAll();
  }
  const events = dnsOf(trace);
  assert.deepEqual(events.map((e) => e.phase), ['query', 'failed']);
  const [query, failed] = events;
  assert.equal(failed!.error, 'ERR_DNS_TIMEOUT');
  assert.equal(failed!.fd, query!.fd);
  assert.ok(failed!.elapsed! >= 90 && failed!.elapsed! < 2000, `gave up after its timeout (${failed!.elapsed} ms)`);
  assert.equal(failed!.rcode, undefined);
});

test('answers that send nothing record nothing: localhost, and a cached name', async () => {
  const { trace, resolver } = traced({ cache: {} });
  try {
    assert.equal(await resolver.gethostbyname('localhost'), '127.0.0.1');
    assert.deepEqual(dnsOf(trace), []);
    assert.equal((await resolver.resolve('www.example.test', 'A')).records[0]!.data, '192.0.2.80');
    assert.equal(dnsOf(trace).length, 2, 'one question and its answer');
    assert.equal((await resolver.resolve('www.example.test', 'A')).source, 'cache');
    assert.equal(dnsOf(trace).length, 2, 'the cached answer sent nothing');
  } finally {
    await resolver.close();
  }
});
