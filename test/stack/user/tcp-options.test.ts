/**
 * Option negotiation and use, segment by segment: MSS (RFC 9293 §3.7.1,
 * RFC 6691), window scale and timestamps (RFC 7323), SACK-permitted
 * (RFC 2018), each switched off by the stack's config, and how they are
 * laid out (as Linux lays them out).
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { brief, expectSeg, flush, Harness, pattern, PEER_TS_BASE, readAll } from './harness.js';

function synOptionBytes(tcp = {}, mtu = 1500): { bytes: number[]; headerLength: number; ts: number } {
  const h = new Harness({ tcp, mtu });
  h.connect();
  const syn = h.one();
  const headerLength = (syn.bytes[12]! >> 4) * 4;
  return { bytes: [...syn.bytes.subarray(20, headerLength)], headerLength, ts: syn.options.timestamp?.value ?? 0 };
}

const be32 = (v: number) => [v >>> 24, (v >>> 16) & 0xff, (v >>> 8) & 0xff, v & 0xff];

test('RFC 7323 §3.2 with SACK off: the SYN carries MSS, NOP NOP TS, NOP WS', () => {
  const { bytes, headerLength, ts } = synOptionBytes({ sack: false });
  assert.equal(headerLength, 40);
  assert.deepEqual(bytes, [2, 4, 5, 0xb4, 1, 1, 8, 10, ...be32(ts), 0, 0, 0, 0, 1, 3, 3, 7]);
});

test('RFC 2018 §2 with timestamps off: the SYN carries MSS, NOP NOP SACK-permitted, NOP WS', () => {
  const { bytes, headerLength } = synOptionBytes({ timestamps: false });
  assert.equal(headerLength, 32);
  assert.deepEqual(bytes, [2, 4, 5, 0xb4, 1, 1, 4, 2, 1, 3, 3, 7]);
});

test('RFC 7323 §2.2 with window scaling off: no WS option, and the SYN window is at most 65535', () => {
  const h = new Harness({ tcp: { windowScaling: false } });
  h.connect({ recvBufferSize: 1 << 20 });
  const syn = h.one();
  assert.equal(syn.options.windowScale, undefined);
  expectSeg(syn, { window: 65535 });
  assert.equal((syn.bytes[12]! >> 4) * 4, 36, 'MSS + SACK-OK + TS: 16 bytes of options');
});

test('RFC 9293 §3.7.1: with every option off the SYN carries MSS only, a 24-byte header', () => {
  const { bytes, headerLength } = synOptionBytes({ sack: false, timestamps: false, windowScaling: false });
  assert.equal(headerLength, 24);
  assert.deepEqual(bytes, [2, 4, 5, 0xb4]);
});

test('RFC 9293 §3.7.1: config mss 1000 is what the SYN offers, and our segments keep to it even when the peer offers 1460', async () => {
  const h = new Harness({ tcp: { mss: 1000 } });
  const { conn, syn } = await h.activeOpen({ mss: 1460 });
  assert.equal(syn.options.mss, 1000);
  conn.write(pattern(2500));
  assert.deepEqual(
    h.take().map((o) => o.len),
    [1000, 1000, 500],
  );
});

test('RFC 9293 §3.7.1: on a 576-byte MTU link the SYN offers MSS 536', () => {
  const { bytes } = synOptionBytes({}, 576);
  assert.deepEqual(bytes.slice(0, 4), [2, 4, 0x02, 0x18]);
});

test('RFC 9293 §3.7.1 (MSS clamping): the peer offering MSS 1000 limits our segments to 1000', async () => {
  const h = new Harness();
  const { conn } = await h.activeOpen({ mss: 1000 });
  conn.write(pattern(2500));
  assert.deepEqual(brief(h.take()), ['. 1:1 1000', '. 1001:1 1000', 'P. 2001:1 500']);
});

test('RFC 6691, RFC 7323 §3: with timestamps every segment carries 12 bytes of options, so data segments hold MSS − 12 = 1448', async () => {
  const h = new Harness();
  const { conn } = await h.activeOpen({ mss: 1460, ts: true });
  conn.write(pattern(3000));
  const out = h.take();
  assert.deepEqual(
    out.map((o) => o.len),
    [1448, 1448, 104],
  );
  for (const o of out) assert.equal((o.bytes[12]! >> 4) * 4, 32);
});

test('RFC 6691: with timestamps and a peer MSS of 1000, segments hold 988', async () => {
  const h = new Harness();
  const { conn } = await h.activeOpen({ mss: 1000, ts: true });
  conn.write(pattern(2000));
  assert.deepEqual(
    h.take().map((o) => o.len),
    [988, 988, 24],
  );
});

test('RFC 7323 §3.2: once negotiated, every segment carries TSval from our 1 ms clock and TSecr = TS.Recent', async () => {
  const h = new Harness();
  const { conn, ack } = await h.activeOpen({ mss: 1460, ts: true });
  const base = ack.options.timestamp!.value;
  h.advance(250);
  h.send({ flags: 'P.', seq: 1, ack: 1, data: 10 });
  h.advance(40);
  const a = h.one();
  assert.deepEqual(a.options.timestamp, { value: (base + 290) >>> 0, echo: PEER_TS_BASE + 250 });
  h.advance(1000);
  conn.write(pattern(5));
  const b = h.one();
  assert.deepEqual(b.options.timestamp, { value: (base + 1290) >>> 0, echo: PEER_TS_BASE + 250 });
  assert.equal(b.bytes[20], 1, 'NOP');
  assert.equal(b.bytes[21], 1, 'NOP');
  assert.equal(b.bytes[22], 8, 'TS kind');
});

test('RFC 7323 §4.3: with a delayed ACK, TSecr echoes the earliest unacknowledged segment, not the latest', async () => {
  const h = new Harness();
  await h.activeOpen({ mss: 1460, ts: true });
  h.advance(10);
  h.send({ flags: 'P.', seq: 1, ack: 1, data: 10 });
  h.advance(10);
  h.send({ flags: 'P.', seq: 11, ack: 1, data: 10 });
  h.advance(30);
  const ack = h.one();
  expectSeg(ack, { ack: 21 });
  assert.equal(ack.options.timestamp!.echo, PEER_TS_BASE + 10);
});

test('RFC 7323 §4.3: an out-of-order segment does not update TS.Recent; the filling segment does', async () => {
  const h = new Harness();
  await h.activeOpen({ mss: 1460, ts: true });
  h.advance(10);
  h.send({ flags: '.', seq: 101, ack: 1, data: 100 });
  assert.equal(h.one().options.timestamp!.echo, PEER_TS_BASE, 'the out-of-order segment (TSval +10) is not echoed');
  h.advance(10);
  h.send({ flags: '.', seq: 1, ack: 1, data: 100 });
  assert.equal(h.one().options.timestamp!.echo, PEER_TS_BASE + 20);
});

test('RFC 7323 §3.2 and Linux: a segment without timestamps on a connection that negotiated them is still accepted', async () => {
  const h = new Harness();
  const { conn } = await h.activeOpen({ mss: 1460, ts: true });
  h.send({ flags: 'P.', seq: 1, ack: 1, data: 10, tsVal: false });
  assert.equal(readAll(conn).length, 10);
});

test('RFC 7323 §2.3: a window scale above 14 from the peer is taken as 14', async () => {
  const h = new Harness({ tcp: { congestionControl: 'none' } });
  const pending = h.connect();
  h.one();
  h.send({ flags: 'S.', seq: 0, ack: 1, options: { mss: 1460, windowScale: 15 } });
  h.one();
  await flush();
  const conn = pending.value();
  // A window field of 1 is 1 << 14 = 16384 bytes: 11 full segments, and the 324 left over wait (sender SWS).
  h.send({ flags: '.', seq: 1, ack: 1, window: 1 });
  conn.write(pattern(40_000));
  const out = h.take();
  assert.equal(out.length, 11);
  assert.equal(out.reduce((n, o) => n + o.len, 0), 11 * 1460);
});

test('RFC 2018 §2: with SACK off in our config a SACK-permitted SYN gets a SYN-ACK without it, and no blocks are ever sent', async () => {
  const h = new Harness({ tcp: { sack: false } });
  const { synAck } = await h.passiveOpen({ mss: 1460, sack: true });
  assert.equal(synAck.options.sackPermitted, undefined);
  h.send({ flags: '.', seq: 1461, ack: 1, data: 100 });
  expectSeg(h.one(), { ack: 1, sack: undefined });
});

test('RFC 7323 §3.2 with timestamps off in our config: a TS-bearing SYN gets a SYN-ACK without TS, and segments carry none', async () => {
  const h = new Harness({ tcp: { timestamps: false } });
  const { conn, synAck } = await h.passiveOpen({ mss: 1460, ts: true });
  assert.equal(synAck.options.timestamp, undefined);
  conn.write(pattern(10));
  const seg = h.one();
  assert.deepEqual(seg.options, {});
  expectSeg(seg, { len: 10 });
});

test('RFC 7323 §2.2 with window scaling off in our config: a WS-bearing SYN gets a SYN-ACK without WS, and windows are bytes', async () => {
  const h = new Harness({ tcp: { windowScaling: false } });
  const { conn, synAck } = await h.passiveOpen({ mss: 1460, wscale: 7 }, { recvBufferSize: 1 << 20 });
  assert.equal(synAck.options.windowScale, undefined);
  conn.write(pattern(10));
  expectSeg(h.one(), { window: 65535 });
});

test('RFC 7323 §3.2: the SYN-ACK to a SYN with timestamps echoes its TSval and keeps TS.Recent from it', async () => {
  const h = new Harness();
  const listener = h.listen();
  h.advance(5);
  h.send({ flags: 'S', seq: 0, options: h.synOptions({ mss: 1460, ts: true }), tsVal: false });
  const synAck = h.one();
  assert.equal(synAck.options.timestamp!.echo, PEER_TS_BASE + 5);
  h.peerTs = true;
  h.send({ flags: '.', seq: 1, ack: 1, tsVal: PEER_TS_BASE + 6 });
  const conn = listener.accept()!;
  conn.write(pattern(1));
  assert.equal(h.one().options.timestamp!.echo, PEER_TS_BASE + 6);
});
