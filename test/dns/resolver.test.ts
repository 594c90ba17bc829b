/** The stub resolver against a real DNS server (dnsmasq), compared with what dig gets from the same server. */
import assert from 'node:assert/strict';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { formatRecord } from '../../src/dns/present.js';
import { Resolver } from '../../src/dns/resolver.js';
import { DnsError } from '../../src/wire/dns/errors.js';
import { TYPE } from '../../src/wire/dns/types.js';
import { dig, startDnsmasq, type Dnsmasq } from './peers.js';

let server: Dnsmasq;
const resolvers: Resolver[] = [];
before(async () => {
  server = await startDnsmasq();
});
after(async () => {
  for (const r of resolvers) await r.close();
  server.stop();
});

function resolver(options: ConstructorParameters<typeof Resolver>[0] = {}): Resolver {
  const r = new Resolver({ servers: [`127.0.0.1:${server.port}`], resolvConf: false, hosts: false, timeout: 2000, ...options });
  resolvers.push(r);
  return r;
}

const normal = (line: string) => line.split(/\s+/).join(' ');

test('answers match what dig gets from the same server', async () => {
  const r = resolver();
  const cases: [string, string][] = [
    ['www.example.test', 'A'],
    ['www.example.test', 'AAAA'],
    ['txt.example.test', 'TXT'],
    ['example.test', 'MX'],
    ['_http._tcp.example.test', 'SRV'],
    ['big.example.test', 'A'],
  ];
  for (const [name, type] of cases) {
    const expected = (await dig(server.port, name, type)).sort();
    const answer = await r.resolve(name, type);
    const ours = answer.records.map((rec) => normal(formatRecord(rec))).sort();
    assert.deepEqual(ours, expected, `${name} ${type}`);
  }
});

test('gethostbyname returns one IPv4 address; getaddrinfo returns both families', async () => {
  const r = resolver();
  assert.equal(await r.gethostbyname('www.example.test'), '192.0.2.10');
  const all = await r.getaddrinfo('www.example.test', { order: 'ipv4first' });
  assert.deepEqual(all, [
    { address: '192.0.2.10', family: 4 },
    { address: '2001:db8::10', family: 6 },
  ]);
  assert.deepEqual(await r.getaddrinfo('www.example.test', { family: 6 }), [{ address: '2001:db8::10', family: 6 }]);
  assert.deepEqual(await r.getaddrinfo('v4only.example.test'), [{ address: '192.0.2.11', family: 4 }]);
  assert.deepEqual(await r.getaddrinfo('192.0.2.99'), [{ address: '192.0.2.99', family: 4 }], 'literals need no lookup');
});

test('CNAME chains are followed and reported', async () => {
  const r = resolver();
  const answer = await r.resolve('alias2.example.test', 'A');
  assert.equal(answer.canonicalName, 'www.example.test');
  assert.deepEqual(answer.chain, ['alias2.example.test', 'alias.example.test']);
  assert.deepEqual(answer.records.map((x) => x.data), ['192.0.2.10']);
  const cname = await r.resolve('alias.example.test', 'CNAME');
  assert.equal(cname.records[0]!.data, 'www.example.test');
});

test('NXDOMAIN and NODATA are told apart', async () => {
  const r = resolver();
  await assert.rejects(r.resolve('nope.example.test', 'A'), (e: any) => e instanceof DnsError && e.code === 'ERR_DNS_NXDOMAIN');
  await assert.rejects(r.resolve('www.example.test', 'MX'), (e: any) => e instanceof DnsError && e.code === 'ERR_DNS_NODATA');
  await assert.rejects(r.gethostbyname('nope.example.test'), { code: 'ERR_DNS_NXDOMAIN' });
  await assert.rejects(r.getaddrinfo('txt.example.test'), { code: 'ERR_DNS_NODATA' });
});

test('a truncated answer is asked again over TCP (RFC 7766)', async () => {
  const r = resolver({ udpSize: 0 }); // no EDNS: 512 bytes is all UDP may carry
  const answer = await r.resolve('big.example.test', 'A');
  assert.equal(answer.records.length, 60);
  assert.equal(answer.via, 'tcp');
  const forced = resolver({ tcp: true });
  assert.equal((await forced.resolve('www.example.test', 'A')).via, 'tcp');
});

test('a hosts-file hit never sends a packet; localhost is answered locally', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'hosts-'));
  const path = join(dir, 'hosts');
  writeFileSync(path, '192.0.2.50 www.example.test\n');
  const r = resolver({ hosts: path });
  assert.deepEqual(await r.getaddrinfo('www.example.test'), [{ address: '192.0.2.50', family: 4 }]);
  assert.equal(await r.gethostbyname('WWW.example.test'), '192.0.2.50');
  assert.deepEqual(await r.getaddrinfo('localhost', { order: 'ipv4first' }), [
    { address: '127.0.0.1', family: 4 },
    { address: '::1', family: 6 },
  ]);
  assert.equal(await r.gethostbyname('db.localhost'), '127.0.0.1');
  assert.equal(r.queriesSent, 0);
  assert.equal(r.lib.openCount, 0, 'not even a socket was opened');
});

test('cached answers expire at their TTL, on an injected clock', async () => {
  let now = 5_000_000;
  const r = resolver({ cache: { now: () => now } });
  const first = await r.resolve('www.example.test', 'A');
  assert.equal(first.source, 'dns');
  assert.equal(first.ttl, 60);
  assert.equal(r.queriesSent, 1);
  now += 59_000;
  const cached = await r.resolve('www.example.test', 'A');
  assert.equal(cached.source, 'cache');
  assert.equal(cached.ttl, 1);
  assert.equal(r.queriesSent, 1);
  now += 1_000;
  assert.equal((await r.resolve('www.example.test', 'A')).source, 'dns');
  assert.equal(r.queriesSent, 2);
});

test('identical questions in flight share one query', async () => {
  const r = resolver();
  const answers = await Promise.all(Array.from({ length: 20 }, () => r.resolve('www.example.test', 'AAAA')));
  assert.ok(answers.every((a) => a.records[0]!.data === '2001:db8::10'));
  assert.equal(r.queriesSent, 1);
});

test('the search list completes short names', async () => {
  const r = resolver({ search: ['nowhere.test', 'example.test'], ndots: 1 });
  const answer = await r.resolve('www', 'A');
  assert.equal(answer.name, 'www.example.test');
  assert.equal(answer.records[0]!.data, '192.0.2.10');
});

test('bad input is a typed error before anything is sent', async () => {
  const r = resolver();
  await assert.rejects(r.resolve('bad..name', 'A'), { code: 'ERR_DNS_BAD_NAME' });
  await assert.rejects(r.resolve('www.example.test', 'NOPE'), { code: 'ERR_DNS_BAD_VALUE' });
  await assert.rejects(r.getaddrinfo('192.0.2.1', { family: 6 }), { code: 'ERR_DNS_NODATA' });
  assert.equal(r.queriesSent, 0);
  assert.throws(() => new Resolver({ servers: ['dns.example'] }), { code: 'ERR_DNS_BAD_CONFIG' });
});

test('resolve() accepts numeric types', async () => {
  const r = resolver();
  assert.equal((await r.resolve('txt.example.test', TYPE.TXT)).records.length, 1);
});

test('getaddrinfo answers a cached name without a query, and the search list still applies', async () => {
  const r = resolver({ search: ['example.test'], ndots: 1 });
  const first = await r.getaddrinfo('www', { order: 'ipv4first' });
  const sent = r.queriesSent;
  const again = await r.getaddrinfo('www', { order: 'ipv4first' });
  assert.deepEqual(again, first);
  assert.deepEqual(again.map((a) => a.address), ['192.0.2.10', '2001:db8::10']);
  assert.equal(r.queriesSent, sent, 'no query for a cached name');
  assert.equal(await r.gethostbyname('www'), '192.0.2.10');
  assert.equal(r.queriesSent, sent);
});

test('getaddrinfo answers expire at the TTL too, on the injected clock', async () => {
  let now = 9_000_000;
  const r = resolver({ cache: { now: () => now } });
  assert.equal(await r.gethostbyname('www.example.test'), '192.0.2.10');
  assert.equal(r.queriesSent, 1);
  now += 59_999;
  assert.equal(await r.gethostbyname('www.example.test'), '192.0.2.10');
  assert.equal(r.queriesSent, 1);
  now += 1;
  assert.equal(await r.gethostbyname('www.example.test'), '192.0.2.10');
  assert.equal(r.queriesSent, 2, 'asked again once the 60 s TTL ran out');
});
