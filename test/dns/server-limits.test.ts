/**
 * The DNS server's limits against abuse, on real loopback sockets: the UDP
 * answer size (1232 by default, the DNS flag day value, so a small query
 * cannot draw a 4 KB answer), optional response-rate limiting per source (as
 * BIND's RRL, with slip), and TCP connections that sit idle: at the cap the
 * longest idle one is closed for a newcomer (RFC 7766 §6.2.3 lets a server
 * close idle connections when it must).
 */
import assert from 'node:assert/strict';
import net from 'node:net';
import { after, before, test } from 'node:test';
import { DnsServer, serveDns, type DnsServerOptions } from '../../src/dns/server.js';
import { parseZone } from '../../src/dns/zone-file.js';
import type { Zone } from '../../src/dns/zone.js';
import { decodeMessage, encodeMessage, frameTcp } from '../../src/wire/dns/message.js';
import { emptyMessage, TYPE, type DnsMessage } from '../../src/wire/dns/types.js';
import { dial, kernelLibrary, LOOPBACK, readExactly } from '../helpers.js';

/** 150 A records: about 2.4 KB of answer, for a query of about 45 bytes. */
const ZONE = `$ORIGIN example.test.
$TTL 300
@     IN SOA ns1 hostmaster 1 7200 900 1209600 300
@     IN NS  ns1
ns1   IN A   192.0.2.53
www   IN A   192.0.2.80
${Array.from({ length: 150 }, (_, i) => `huge IN A 10.0.${i >> 8}.${i & 0xff}`).join('\n')}
`;

const lib = kernelLibrary('dns-limits-server');
const client = kernelLibrary('dns-limits-client');
let zone: Zone;
const servers: DnsServer[] = [];

before(() => {
  zone = parseZone(ZONE);
});

after(async () => {
  for (const s of servers) await s.close();
  await client.closeAll();
  await lib.closeAll();
});

async function server(options: DnsServerOptions = {}): Promise<DnsServer> {
  const s = await serveDns(lib, [zone], { address: LOOPBACK, port: 0, ...options });
  servers.push(s);
  return s;
}

function query(name: string, id = 0x4242, udpSize = 4096): DnsMessage {
  return emptyMessage({ id, questions: [{ name, type: TYPE.A, class: 1 }], edns: { udpSize, version: 0, dnssecOk: false, options: [] } });
}

/** Sends datagrams from one socket and collects the replies that come within `wait` ms of the last. */
async function burst(port: number, messages: DnsMessage[], wait = 300): Promise<Uint8Array[]> {
  const fd = await client.socket('udp');
  try {
    for (const m of messages) await client.sendto(fd, encodeMessage(m), LOOPBACK, port);
    const replies: Uint8Array[] = [];
    const buffer = new Uint8Array(65_536);
    for (;;) {
      try {
        const got = await client.recvfrom(fd, buffer, { timeout: wait });
        replies.push(buffer.slice(0, got.bytes));
      } catch (e) {
        if ((e as { code?: string }).code === 'ETIMEDOUT') return replies;
        throw e;
      }
    }
  } finally {
    await client.close(fd);
  }
}

// ---- UDP answer size ----

test('by default a UDP answer is at most 1232 bytes, even to a client that offers 4096; TC sends it to TCP', async () => {
  const s = await server();
  const q = encodeMessage(query('huge.example.test'));
  const [reply] = await burst(s.port, [query('huge.example.test')]);
  assert.ok(reply, 'answered');
  assert.ok(reply.length <= 1232, `a ${reply.length}-byte answer`);
  const m = decodeMessage(reply);
  assert.equal(m.tc, true);
  assert.equal(m.edns?.udpSize, 1232, 'our OPT advertises 1232');
  assert.ok(reply.length / q.length < 30, `amplification ${(reply.length / q.length).toFixed(1)}×`);
  // Over TCP the whole answer comes.
  const fd = await dial(client, s.port);
  await client.write(fd, frameTcp(q));
  const length = (await readExactly(client, fd, 2)).readUInt16BE(0);
  assert.equal(decodeMessage(await readExactly(client, fd, length)).answers.length, 150);
  await client.close(fd);
});

test('udpSize is configurable: at 4096 the whole answer comes in one datagram', async () => {
  const s = await server({ udpSize: 4096 });
  const [reply] = await burst(s.port, [query('huge.example.test')]);
  const m = decodeMessage(reply!);
  assert.deepEqual([m.tc, m.answers.length, m.edns?.udpSize], [false, 150, 4096]);
  assert.throws(() => new DnsServer(lib, [zone], { udpSize: 100 }), RangeError);
});

// ---- response-rate limiting ----

test('rateLimit: past N responses a second per source, UDP answers are dropped, every 2nd as a bare TC reply (slip)', async () => {
  const s = await server({ rateLimit: { responsesPerSecond: 10 } });
  const replies = (await burst(s.port, Array.from({ length: 60 }, (_, i) => query('www.example.test', i)))).map((r) => decodeMessage(r));
  const full = replies.filter((r) => !r.tc);
  const slipped = replies.filter((r) => r.tc);
  // The bucket holds a second's worth; the burst takes a few ms, so hardly any refill.
  assert.ok(full.length >= 10 && full.length <= 13, `${full.length} full answers`);
  assert.ok(full.every((r) => r.answers.length === 1));
  assert.ok(slipped.every((r) => r.answers.length === 0 && r.questions[0]?.name === 'www.example.test'), 'a slip is the question with TC, nothing more');
  assert.equal(s.stats.rateLimited, 60 - full.length);
  assert.equal(slipped.length, Math.floor(s.stats.rateLimited / 2));
  // TCP is not limited (a spoofed source cannot complete a handshake), and the bucket refills.
  const fd = await dial(client, s.port);
  await client.write(fd, frameTcp(encodeMessage(query('www.example.test', 999))));
  const length = (await readExactly(client, fd, 2)).readUInt16BE(0);
  assert.equal(decodeMessage(await readExactly(client, fd, length)).id, 999);
  await client.close(fd);
  await new Promise((r) => setTimeout(r, 1100));
  const later = (await burst(s.port, Array.from({ length: 5 }, (_, i) => query('www.example.test', 100 + i)))).map((r) => decodeMessage(r));
  assert.equal(later.filter((r) => !r.tc).length, 5);
});

test('rateLimit options are checked', async () => {
  await assert.rejects(serveDns(lib, [zone], { port: 0, rateLimit: { responsesPerSecond: 0 } }), RangeError);
  await assert.rejects(serveDns(lib, [zone], { port: 0, rateLimit: { responsesPerSecond: 5, slip: -1 } }), RangeError);
});

// ---- TCP: idle connections are shed ----

test('TCP at the connection cap: the longest idle connection is closed for a newcomer, which is answered at once', async () => {
  const s = await server({ maxTcpConnections: 2 });
  const oldest = await dial(client, s.port);
  await client.write(oldest, frameTcp(encodeMessage(query('www.example.test', 1))));
  await readExactly(client, oldest, 2);
  await new Promise((r) => setTimeout(r, 50));
  const younger = await dial(client, s.port); // connected, sends nothing
  await new Promise((r) => setTimeout(r, 50));
  const t0 = performance.now();
  const newcomer = await dial(client, s.port);
  await client.write(newcomer, frameTcp(encodeMessage(query('www.example.test', 3))));
  const length = (await readExactly(client, newcomer, 2)).readUInt16BE(0);
  assert.equal(decodeMessage(await readExactly(client, newcomer, length)).id, 3);
  assert.ok(performance.now() - t0 < 500, `answered after ${(performance.now() - t0).toFixed(0)} ms`);
  // The rest of its answer, then the close.
  const rest = new Uint8Array(4096);
  let n = await client.read(oldest, rest, undefined, { timeout: 1000 });
  while (n > 0) n = await client.read(oldest, rest, undefined, { timeout: 1000 });
  assert.equal(n, 0, 'the longest idle connection was closed');
  await assert.rejects(client.read(younger, rest, undefined, { timeout: 200 }), { code: 'ETIMEDOUT' }, 'the younger idle one stays open');
  assert.equal(s.stats.shed, 1);
  for (const fd of [oldest, younger, newcomer]) await client.close(fd);
});

test('TCP: 300 idle connections (more than the cap and the backlog together) do not keep a real query out', async () => {
  const s = await server();
  const idle: net.Socket[] = [];
  try {
    for (let i = 0; i < 300; i += 50) {
      await Promise.all(
        Array.from({ length: 50 }, () => new Promise<void>((resolve) => {
          const sock = net.connect(s.port, LOOPBACK, () => resolve());
          sock.on('error', () => resolve());
          idle.push(sock);
        })),
      );
    }
    await new Promise((r) => setTimeout(r, 200));
    for (let i = 0; i < 5; i++) {
      const t0 = performance.now();
      const fd = await dial(client, s.port);
      await client.write(fd, frameTcp(encodeMessage(query('www.example.test', 500 + i))));
      const length = (await readExactly(client, fd, 2)).readUInt16BE(0);
      assert.equal(decodeMessage(await readExactly(client, fd, length)).id, 500 + i);
      await client.close(fd);
      const ms = performance.now() - t0;
      assert.ok(ms < 1000, `query ${i} answered after ${ms.toFixed(0)} ms`);
    }
    assert.ok(s.stats.shed >= 300 - 64, `${s.stats.shed} shed`);
  } finally {
    for (const sock of idle) sock.destroy();
  }
});
