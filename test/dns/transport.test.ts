/**
 * The resolver against scripted servers built on the socket library: forged
 * replies (RFC 5452), a server that rejects EDNS (RFC 6891 §7), a server that
 * never answers and one that fails (failover).
 */
import assert from 'node:assert/strict';
import { after, test } from 'node:test';
import { Resolver } from '../../src/dns/resolver.js';
import { decodeMessage, encodeMessage } from '../../src/wire/dns/message.js';
import { RCODE, TYPE, type DnsMessage } from '../../src/wire/dns/types.js';
import { kernelLibrary, LOOPBACK } from '../helpers.js';

const lib = kernelLibrary('fake-dns');
const resolvers: Resolver[] = [];
after(async () => {
  for (const r of resolvers) await r.close();
  await lib.closeAll();
});

interface Seen {
  id: number;
  port: number;
  edns: boolean;
}

/** A UDP "server" that hands every query to `script`, which answers however it likes. */
async function fakeServer(script: (q: DnsMessage, from: { address: string; port: number }, fd: number) => Promise<void>): Promise<{ port: number; seen: Seen[] }> {
  const fd = await lib.socket('udp');
  await lib.bind(fd, LOOPBACK, 0);
  const { port } = await lib.getsockname(fd);
  const seen: Seen[] = [];
  void (async () => {
    const buf = new Uint8Array(2048);
    for (;;) {
      let got;
      try {
        got = await lib.recvfrom(fd, buf, { timeout: 60_000 });
      } catch {
        return;
      }
      const q = decodeMessage(buf.subarray(0, got.bytes));
      seen.push({ id: q.id, port: got.port, edns: q.edns !== null });
      await script(q, got, fd).catch(() => {});
    }
  })();
  return { port, seen };
}

function reply(q: DnsMessage, fields: Partial<DnsMessage> = {}): Uint8Array {
  return encodeMessage({ ...q, qr: true, aa: true, ra: false, edns: q.edns ? { ...q.edns, options: [] } : null, ...fields });
}

const aRecord = (name: string, data: string) => ({ name, type: TYPE.A, class: 1, ttl: 30, data });

function resolver(ports: number[], options: ConstructorParameters<typeof Resolver>[0] = {}): Resolver {
  const r = new Resolver({ servers: ports.map((p) => `127.0.0.1:${p}`), resolvConf: false, hosts: false, timeout: 1000, attempts: 1, ...options });
  resolvers.push(r);
  return r;
}

test('forged replies (wrong ID, wrong port, wrong question, garbage) are dropped and the real one accepted', async () => {
  const forger = await lib.socket('udp');
  await lib.bind(forger, LOOPBACK, 0);
  const server = await fakeServer(async (q, from, fd) => {
    const name = q.questions[0]!.name;
    await lib.sendto(fd, reply(q, { id: (q.id + 1) & 0xffff, answers: [aRecord(name, '203.0.113.1')] }), from.address, from.port);
    await lib.sendto(forger, reply(q, { answers: [aRecord(name, '203.0.113.2')] }), from.address, from.port);
    await lib.sendto(fd, reply({ ...q, questions: [{ ...q.questions[0]!, name: 'other.example.test' }] }, { answers: [aRecord('other.example.test', '203.0.113.3')] }), from.address, from.port);
    await lib.sendto(fd, new Uint8Array([1, 2, 3, 4, 5]), from.address, from.port);
    await lib.sendto(fd, reply(q, { qr: false, answers: [aRecord(name, '203.0.113.4')] }), from.address, from.port);
    await lib.sendto(fd, reply(q, { answers: [aRecord(name, '192.0.2.80')] }), from.address, from.port);
  });
  const r = resolver([server.port]);
  assert.equal(await r.gethostbyname('www.example.test'), '192.0.2.80');
});

test('each query has a fresh random ID and source port (RFC 5452)', async () => {
  const server = await fakeServer(async (q, from, fd) => {
    await lib.sendto(fd, reply(q, { answers: [aRecord(q.questions[0]!.name, '192.0.2.1')] }), from.address, from.port);
  });
  const r = resolver([server.port], { cache: false });
  for (let i = 0; i < 12; i++) await r.resolve(`n${i}.example.test`, 'A');
  assert.equal(server.seen.length, 12);
  assert.ok(new Set(server.seen.map((s) => s.id)).size >= 11, 'IDs differ');
  assert.ok(new Set(server.seen.map((s) => s.port)).size >= 11, 'source ports differ');
  assert.ok(server.seen.every((s) => s.port >= 1024));
});

test('EDNS is offered at 1232 and dropped when the server answers FORMERR without OPT (RFC 6891 §7)', async () => {
  const server = await fakeServer(async (q, from, fd) => {
    if (q.edns) {
      await lib.sendto(fd, reply(q, { rcode: RCODE.FORMERR, edns: null, answers: [] }), from.address, from.port);
      return;
    }
    await lib.sendto(fd, reply(q, { answers: [aRecord(q.questions[0]!.name, '192.0.2.33')] }), from.address, from.port);
  });
  const r = resolver([server.port]);
  assert.equal(await r.gethostbyname('old.example.test'), '192.0.2.33');
  assert.deepEqual(server.seen.map((s) => s.edns), [true, false]);
});

test('a server that never answers times out and the next one is asked', async () => {
  const silent = await fakeServer(async () => {});
  const good = await fakeServer(async (q, from, fd) => {
    await lib.sendto(fd, reply(q, { answers: [aRecord(q.questions[0]!.name, '192.0.2.44')] }), from.address, from.port);
  });
  const r = resolver([silent.port, good.port], { timeout: 300 });
  const t0 = performance.now();
  assert.equal(await r.gethostbyname('www.example.test'), '192.0.2.44');
  assert.ok(performance.now() - t0 >= 280, 'waited out the silent server first');
  assert.equal(silent.seen.length, 1);
  const alone = resolver([silent.port], { timeout: 200, attempts: 2 });
  await assert.rejects(alone.gethostbyname('www.example.test'), { code: 'ERR_DNS_TIMEOUT' });
  assert.equal(silent.seen.length, 3, 'two attempts at the one server');
});

test('SERVFAIL moves on to the next server; if all fail, the error says SERVFAIL', async () => {
  const failing = await fakeServer(async (q, from, fd) => {
    await lib.sendto(fd, reply(q, { rcode: RCODE.SERVFAIL }), from.address, from.port);
  });
  const good = await fakeServer(async (q, from, fd) => {
    await lib.sendto(fd, reply(q, { answers: [aRecord(q.questions[0]!.name, '192.0.2.55')] }), from.address, from.port);
  });
  assert.equal(await resolver([failing.port, good.port]).gethostbyname('www.example.test'), '192.0.2.55');
  await assert.rejects(resolver([failing.port]).gethostbyname('www.example.test'), { code: 'ERR_DNS_SERVFAIL' });
});

test('a reply larger than the buffer we offered is not parsed; the answer is fetched over TCP instead', async () => {
  // UDP answers far past 1232 bytes; no TCP listener, so the TCP retry is refused: the oversize UDP reply is never used.
  const big = await fakeServer(async (q, from, fd) => {
    const answers = Array.from({ length: 120 }, (_, i) => aRecord(q.questions[0]!.name, `198.51.100.${i + 1}`));
    await lib.sendto(fd, reply(q, { answers }), from.address, from.port);
  });
  const r = resolver([big.port]);
  await assert.rejects(r.resolve('huge.example.test', 'A'), (e: any) => e.code === 'ERR_DNS_UNREACHABLE' && /ECONNREFUSED/.test(e.message));
});
