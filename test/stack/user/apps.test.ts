/**
 * The project's applications on the user-space stack: the DNS resolver and
 * server, the HTTP client and server, each host with its own UserStack on a
 * simulated link, on virtual time. Nothing here touches the OS's network.
 */
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { test } from 'node:test';
import { Resolver } from '../../../src/dns/resolver.js';
import { serveDns } from '../../../src/dns/server.js';
import { parseZone } from '../../../src/dns/zone-file.js';
import { Agent } from '../../../src/http/agent.js';
import { request } from '../../../src/http/client.js';
import { fetch } from '../../../src/http/fetch.js';
import { serve } from '../../../src/http/server/index.js';
import { SocketLibrary } from '../../../src/socket/library.js';
import { TraceLog, type CallEvent } from '../../../src/trace-events.js';
import { DnsError } from '../../../src/wire/dns/errors.js';
import { TYPE } from '../../../src/wire/dns/types.js';
import type { LinkParams } from '../../../src/link/types.js';
import { sim, type Sim } from './sim.js';

const BIG = 40;
/** ns and www, and a name with BIG addresses: about 700 bytes of answer, past the 512 a client without EDNS takes. */
const ZONE = `$ORIGIN example.test.
$TTL 300
@    IN SOA ns.example.test. admin.example.test. 1 3600 600 86400 300
@    IN NS  ns.example.test.
ns   IN A   10.0.0.2
www  IN A   10.0.0.3
${Array.from({ length: BIG }, (_, i) => `big  IN A   192.0.2.${i + 1}`).join('\n')}
`;

/** host1 the client, host2 the DNS server on port 53, host3 (if any) the web server. */
async function dnsNet(params: Partial<LinkParams> = {}, seed = 1): Promise<{ s: Sim; close: () => Promise<void> }> {
  const s = sim(3, { latencyMs: 1, ...params }, { seed });
  const dns = await s.run(() => serveDns(s.hosts[1]!.lib, [parseZone(ZONE)], { address: '10.0.0.2', port: 53 }));
  return { s, close: () => s.run(() => dns.close()) };
}

function resolverOn(lib: SocketLibrary, extra: ConstructorParameters<typeof Resolver>[0] = {}): Resolver {
  return new Resolver({ lib, servers: ['10.0.0.2:53'], hosts: false, resolvConf: false, cache: false, ...extra });
}

/** Deterministic bytes: xorshift32 from a seed. */
function pattern(length: number, seed: number): Uint8Array {
  const out = new Uint8Array(length);
  let x = seed >>> 0 || 1;
  for (let i = 0; i < length; i++) {
    x ^= x << 13;
    x ^= x >>> 17;
    x ^= x << 5;
    out[i] = x & 0xff;
  }
  return out;
}

const sha256 = (bytes: Uint8Array) => createHash('sha256').update(bytes).digest('hex');

test('DNS over UDP: the resolver asks our server across the link and gets its A record', async () => {
  const { s, close } = await dnsNet();
  const [client, server] = s.hosts as [Sim['hosts'][0], Sim['hosts'][0]];
  const trace = new TraceLog();
  const lib = new SocketLibrary(client.stack, { label: 'client', trace });
  const resolver = resolverOn(lib);
  const start = s.net.clock.now();
  const answer = await s.run(() => resolver.resolve('www.example.test', 'A'));
  assert.equal(answer.via, 'udp');
  assert.deepEqual(answer.server, { address: '10.0.0.2', port: 53 });
  assert.deepEqual(answer.records.map((r) => r.data), ['10.0.0.3']);
  // One round trip on a 1 ms link.
  assert.equal(s.net.clock.now() - start, 2);
  assert.equal(await s.run(() => resolver.gethostbyname('ns.example.test')), '10.0.0.2');
  await assert.rejects(s.run(() => resolver.gethostbyname('nope.example.test')), (e: unknown) => e instanceof DnsError && e.code === 'ERR_DNS_NXDOMAIN');
  const calls = (trace.events as CallEvent[]).filter((e) => e.kind === 'call').map((e) => e.call);
  assert.deepEqual(calls.slice(0, 5), ['socket', 'bind', 'sendto', 'recvfrom', 'close']);
  assert.equal(calls.filter((c) => c === 'sendto').length, 3);
  assert.ok(!calls.includes('connect'), 'no TCP for answers that fit');
  assert.equal(client.stack.counters.get('udp.out'), 3);
  assert.equal(server.stack.counters.get('udp.in'), 3);
  assert.equal(client.stack.counters.get('tcp.out'), 0);
  await close();
});

test('DNS over TCP: forced with tcp: true, and as the fallback when the UDP answer comes back truncated (TC)', async () => {
  const { s, close } = await dnsNet();
  const client = s.hosts[0]!;
  const forced = await s.run(() => resolverOn(client.lib, { tcp: true }).resolve('www.example.test', 'A'));
  assert.equal(forced.via, 'tcp');
  assert.deepEqual(forced.records.map((r) => r.data), ['10.0.0.3']);
  assert.equal(client.stack.counters.get('udp.out'), 0);
  assert.ok(client.stack.counters.get('tcp.out') >= 4, 'SYN, ACK, the query, FIN');

  // Without EDNS the client takes 512 bytes over UDP; BIG A records do not fit, so the server sets TC.
  const trace = new TraceLog();
  const lib = new SocketLibrary(client.stack, { label: 'client', trace });
  const udpBefore = client.stack.counters.get('udp.out');
  const big = await s.run(() => resolverOn(lib, { udpSize: 0 }).resolve('big.example.test', 'A'));
  assert.equal(big.via, 'tcp');
  assert.equal(big.records.length, BIG);
  assert.deepEqual(new Set(big.records.map((r) => r.data)), new Set(Array.from({ length: BIG }, (_, i) => `192.0.2.${i + 1}`)));
  assert.equal(client.stack.counters.get('udp.out') - udpBefore, 1, 'one UDP query, then TCP');
  const calls = (trace.events as CallEvent[]).filter((e) => e.kind === 'call');
  const udpAnswer = calls.find((e) => e.call === 'recvfrom')!;
  assert.ok((udpAnswer.result as number) <= 512, `the truncated answer fits 512 bytes (${String(udpAnswer.result)})`);
  const connect = calls.find((e) => e.call === 'connect')!;
  assert.equal(`${connect.address}:${connect.port}`, '10.0.0.2:53');
  assert.ok(calls.indexOf(connect) > calls.indexOf(udpAnswer), 'TCP only after the truncated UDP answer');
  // The same question with EDNS (1232 bytes) fits over UDP.
  const edns = await s.run(() => resolverOn(client.lib).resolve('big.example.test', TYPE.A));
  assert.equal(edns.via, 'udp');
  assert.equal(edns.records.length, BIG);
  await close();
});

test('DNS to a host with no server: ICMP port unreachable comes back, the unconnected socket ignores it, the resolver times out', async () => {
  const { s, close } = await dnsNet();
  const [client, , silent] = s.hosts as [Sim['hosts'][0], Sim['hosts'][0], Sim['hosts'][0]];
  const resolver = new Resolver({ lib: client.lib, servers: ['10.0.0.3:53'], hosts: false, resolvConf: false, cache: false, timeout: 500, attempts: 3 });
  const start = s.net.clock.now();
  await assert.rejects(s.run(() => resolver.gethostbyname('www.example.test')), (e: unknown) => e instanceof DnsError && e.code === 'ERR_DNS_TIMEOUT');
  // As on Linux: an unconnected UDP socket is not told about ICMP errors, so each try waits its whole timeout.
  assert.equal(s.net.clock.now() - start, 1500);
  assert.equal(silent.stack.counters.get('udp.no-port'), 3, 'each query reached the host and found no socket');
  assert.equal(client.stack.counters.get('icmp.error-in'), 3, 'and each drew a port unreachable back');
  assert.equal(resolver.queriesSent, 3);
  // Over TCP the refusal is heard: the SYN draws a RST, connect fails with ECONNREFUSED, and the resolver says unreachable at once.
  const overTcp = new Resolver({ lib: client.lib, servers: ['10.0.0.3:53'], hosts: false, resolvConf: false, cache: false, tcp: true, timeout: 500, attempts: 1 });
  const t0 = s.net.clock.now();
  await assert.rejects(s.run(() => overTcp.gethostbyname('www.example.test')), (e: unknown) => {
    assert.ok(e instanceof DnsError && e.code === 'ERR_DNS_UNREACHABLE', String(e));
    assert.equal((e.cause as { code?: string }).code, 'ECONNREFUSED');
    return true;
  });
  assert.equal(s.net.clock.now() - t0, 2, 'one round trip, no timeout');
  assert.equal(silent.stack.counters.get('tcp.reset-sent'), 1);
  await close();
});

/** A web server on host3:80 that answers / with a page, /big with `bigBody`, anything else with its path. */
async function webNet(params: Partial<LinkParams> = {}, seed = 1, bigBody: Uint8Array = new Uint8Array(0)) {
  const { s, close: closeDns } = await dnsNet(params, seed);
  const webHost = s.hosts[2]!;
  const web = await s.run(() =>
    serve(
      async (req, res) => {
        if (req.url === '/big') {
          res.setHeader('content-type', 'application/octet-stream');
          return res.end(bigBody);
        }
        if (req.method === 'POST') return res.end(`got ${(await req.bytes()).length} bytes`);
        res.setHeader('content-type', 'text/plain');
        return res.end(`hello ${req.url} from ${req.remoteAddress}`);
      },
      { lib: webHost.lib, host: '10.0.0.3', port: 80 },
    ),
  );
  const client = s.hosts[0]!;
  const agent = new Agent({ lib: client.lib, resolver: resolverOn(client.lib), proxy: false });
  return {
    s,
    web,
    agent,
    close: async () => {
      await s.run(async () => {
        await agent.close();
        await web.close();
      });
      await closeDns();
    },
  };
}

test('HTTP: request and fetch by name across the link; keep-alive reuses one connection', async () => {
  const { s, web, agent, close } = await webNet();
  const first = await s.run(async () => {
    const res = await request('http://www.example.test/one', { agent });
    return { res, text: await res.body.text() };
  });
  assert.equal(first.res.statusCode, 200);
  assert.equal(first.text, 'hello /one from 10.0.0.1');
  assert.equal(first.res.reused, false);
  assert.ok(first.res.timings.lookup > 0, 'the name went through DNS on the link');
  const second = await s.run(async () => {
    const res = await request('http://www.example.test/two', { agent });
    return { res, text: await res.body.text() };
  });
  assert.equal(second.text, 'hello /two from 10.0.0.1');
  assert.equal(second.res.reused, true, 'the second request rode the kept-alive connection');
  const posted = await s.run(async () => {
    const r = await fetch('http://www.example.test/up', { method: 'POST', body: 'x'.repeat(5000), agent });
    return { status: r.status, text: await r.text() };
  });
  assert.deepEqual(posted, { status: 200, text: 'got 5000 bytes' });
  assert.equal(web.stats.connections, 1, 'one TCP connection for all three');
  assert.equal(web.stats.requests, 3);
  // HTTP/1.0 as in the seed: the server answers, then closes the connection; the next request needs a new one.
  const old = await s.run(async () => {
    const res = await request('http://www.example.test/old', { agent, version: '1.0' });
    return { res, text: await res.body.text() };
  });
  assert.equal(old.text, 'hello /old from 10.0.0.1');
  const after = await s.run(async () => {
    const res = await request('http://www.example.test/after', { agent });
    return { res, text: await res.body.text() };
  });
  assert.equal(after.text, 'hello /after from 10.0.0.1');
  assert.equal(after.res.reused, false);
  assert.equal(web.stats.connections, 2);
  assert.equal(web.stats.requests, 5);
  await close();
});

test('HTTP: a 1 MiB body under 5% loss arrives exact, with retransmissions', async () => {
  const body = pattern(1 << 20, 42);
  const { s, agent, close } = await webNet({ loss: 0.05, bandwidthBps: 100_000_000 }, 5, body);
  const got = await s.run(async () => {
    const res = await request('http://www.example.test/big', { agent });
    return { status: res.statusCode, length: res.headers['content-length'], bytes: await res.body.bytes() };
  }, 600_000);
  assert.equal(got.status, 200);
  assert.equal(got.length, String(1 << 20));
  assert.equal(got.bytes.length, body.length);
  assert.equal(sha256(got.bytes), sha256(body));
  assert.ok(s.link.stats.lost > 0, 'the link lost packets');
  const web = s.hosts[2]!.stack.counters;
  assert.ok(web.get('tcp.retransmit') > 0, 'and the web server retransmitted');
  await close();
});
