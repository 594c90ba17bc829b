/**
 * Data transfer segment by segment: sequence and acknowledgment numbers
 * (RFC 9293 §3.4, §3.10.7.4), delayed ACKs (RFC 9293 §3.8.6.3, RFC 5681
 * §4.2), Nagle (RFC 896, RFC 9293 §3.7.4), PSH (§3.9.1.2), reassembly of
 * out-of-order segments and duplicates.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { WOULD_BLOCK, type StreamOptions } from '../../../src/stack/types.js';
import { brief, expectSeg, flush, Harness, pattern, readAll, track } from './harness.js';

async function established(options: Partial<StreamOptions> = {}, tcp = {}) {
  const h = new Harness({ tcp });
  const { conn } = await h.activeOpen({ mss: 1460 }, options);
  return { h, conn };
}

test('RFC 9293 §3.4: a 100-byte write goes as one segment <SEQ=1><ACK=1><CTL=PSH,ACK> with those bytes', async () => {
  const { h, conn } = await established();
  assert.equal(conn.write(pattern(100)), null, 'taken at once');
  const seg = h.one();
  expectSeg(seg, { flags: 'P.', seq: 1, ack: 1, window: 65535, len: 100 });
  assert.deepEqual(seg.payload, pattern(100));
  assert.deepEqual(seg.options, {});
});

test('RFC 9293 §3.9.1.2: a 5000-byte write is cut at the MSS (1460) and only its last segment carries PSH', async () => {
  const { h, conn } = await established();
  conn.write(pattern(5000));
  const out = h.take();
  assert.deepEqual(brief(out), ['. 1:1 1460', '. 1461:1 1460', '. 2921:1 1460', 'P. 4381:1 620']);
  assert.deepEqual(
    out.flatMap((o) => [...o.payload]),
    [...pattern(5000)],
  );
});

test('RFC 9293 §3.4: consecutive writes continue the sequence space; the peer ACKing them moves SND.UNA', async () => {
  const { h, conn } = await established({ noDelay: true });
  conn.write(pattern(10));
  conn.write(pattern(20));
  assert.deepEqual(brief(h.take()), ['P. 1:1 10', 'P. 11:1 20']);
  h.send({ flags: '.', seq: 1, ack: 31 });
  h.none('nothing to answer a pure ACK');
  assert.equal(h.tcb().sndUna, (h.iss! + 31) >>> 0);
});

test('RFC 9293 §3.8.6.3: one segment received is acknowledged after the 40 ms delayed-ACK timer, not before', async () => {
  const { h, conn } = await established();
  h.send({ flags: 'P.', seq: 1, ack: 1, data: 100 });
  h.none();
  h.advance(39);
  h.none();
  h.advance(1);
  expectSeg(h.one(), { flags: '.', seq: 1, ack: 101, len: 0 });
  assert.deepEqual(readAll(conn), pattern(100));
  h.advance(1000);
  h.none('one ACK only');
});

test('RFC 5681 §4.2, RFC 9293 §3.8.6.3: the second full-sized segment is acknowledged at once', async () => {
  const { h } = await established();
  h.send({ flags: '.', seq: 1, ack: 1, data: 1460 });
  h.none();
  h.send({ flags: '.', seq: 1461, ack: 1, data: 1460 });
  expectSeg(h.one(), { flags: '.', seq: 1, ack: 2921 });
  h.send({ flags: 'P.', seq: 2921, ack: 1, data: 1460 });
  h.none('the third waits for the timer again');
  h.advance(40);
  expectSeg(h.one(), { flags: '.', seq: 1, ack: 4381 });
});

test('RFC 9293 §3.8.6.3: small segments add up: 2 × MSS of data received in pieces is acknowledged at once', async () => {
  const { h } = await established();
  for (let i = 0; i < 5; i++) h.send({ flags: 'P.', seq: 1 + i * 584, ack: 1, data: 584 });
  // 584 × 5 = 2920 = 2 × 1460.
  expectSeg(h.one(), { flags: '.', seq: 1, ack: 2921 });
});

test('RFC 9293 §3.8.6.3: data we send within the delay carries the ACK, and no separate ACK follows', async () => {
  const { h, conn } = await established();
  h.send({ flags: 'P.', seq: 1, ack: 1, data: 100 });
  h.advance(10);
  conn.write(pattern(50));
  expectSeg(h.one(), { flags: 'P.', seq: 1, ack: 101, len: 50 });
  h.advance(100);
  h.none();
});

test('RFC 9293 §3.8.6.2.2: the right edge of the window stays put while the application does not read', async () => {
  const { h } = await established();
  h.send({ flags: '.', seq: 1, ack: 1, data: 1460 });
  h.send({ flags: '.', seq: 1461, ack: 1, data: 1460 });
  // RCV.NXT + RCV.WND stays 1 + 65535.
  expectSeg(h.one(), { flags: '.', ack: 2921, window: 65536 - 2921 });
});

test('RFC 896 (Nagle): a second small write waits while the first is unacknowledged, and goes when the ACK comes', async () => {
  const { h, conn } = await established();
  conn.write(pattern(10));
  expectSeg(h.one(), { flags: 'P.', seq: 1, len: 10 });
  conn.write(pattern(10, 10));
  h.none('held by Nagle');
  h.advance(500);
  h.none('still held');
  h.send({ flags: '.', seq: 1, ack: 11 });
  const seg = h.one();
  expectSeg(seg, { flags: 'P.', seq: 11, ack: 1, len: 10 });
  assert.deepEqual(seg.payload, pattern(10, 10));
});

test('RFC 896 (Nagle): small writes made while one is outstanding are coalesced into one segment', async () => {
  const { h, conn } = await established();
  conn.write(pattern(10));
  h.one();
  conn.write(pattern(5, 10));
  conn.write(pattern(5, 15));
  conn.write(pattern(5, 20));
  h.none();
  h.send({ flags: '.', seq: 1, ack: 11 });
  const seg = h.one();
  expectSeg(seg, { flags: 'P.', seq: 11, len: 15 });
  assert.deepEqual(seg.payload, pattern(15, 10));
});

test('RFC 896 (Nagle), Minshall: full-sized segments are never held; only the small tail waits', async () => {
  const { h, conn } = await established();
  conn.write(pattern(10));
  h.one();
  conn.write(pattern(3000, 10));
  assert.deepEqual(brief(h.take()), ['. 11:1 1460', '. 1471:1 1460']);
  h.send({ flags: '.', seq: 1, ack: 11 });
  assert.deepEqual(brief(h.take()), ['P. 2931:1 80']);
});

test('RFC 896, Minshall: a small write goes at once when only full-sized segments are unacknowledged', async () => {
  const { h, conn } = await established();
  conn.write(pattern(1460));
  expectSeg(h.one(), { flags: 'P.', seq: 1, len: 1460 });
  conn.write(pattern(10));
  expectSeg(h.one(), { flags: 'P.', seq: 1461, len: 10 });
});

test('RFC 9293 §3.7.4 (TCP_NODELAY): with noDelay a second small write goes at once', async () => {
  const { h, conn } = await established({ noDelay: true });
  conn.write(pattern(10));
  conn.write(pattern(10));
  assert.deepEqual(brief(h.take()), ['P. 1:1 10', 'P. 11:1 10']);
});

test('RFC 9293 §3.7.4: turning noDelay on releases data Nagle was holding', async () => {
  const { h, conn } = await established();
  conn.write(pattern(10));
  conn.write(pattern(7));
  h.take();
  conn.setOptions({ noDelay: true });
  expectSeg(h.one(), { flags: 'P.', seq: 11, len: 7 });
});

test('RFC 9293 §3.10.7.4: an out-of-order segment is held and ACKed at once with RCV.NXT; the hole filled delivers both in order', async () => {
  const { h, conn } = await established();
  h.send({ flags: '.', seq: 1461, ack: 1, data: 1460 });
  expectSeg(h.one(), { flags: '.', seq: 1, ack: 1 });
  assert.equal(conn.read(new Uint8Array(10)), WOULD_BLOCK, 'nothing readable across the hole');
  assert.equal(h.counter('tcp.out-of-order'), 1);
  h.send({ flags: '.', seq: 1, ack: 1, data: 1460 });
  expectSeg(h.one(), { flags: '.', seq: 1, ack: 2921 }, 'filling a hole is ACKed at once (RFC 5681 §4.2)');
  assert.deepEqual(readAll(conn), pattern(2920));
});

test('RFC 9293 §3.10.7.4: three segments arriving in reverse order are reassembled', async () => {
  const { h, conn } = await established();
  h.send({ flags: 'P.', seq: 201, ack: 1, data: 100 });
  h.send({ flags: '.', seq: 101, ack: 1, data: 100 });
  h.send({ flags: '.', seq: 1, ack: 1, data: 100 });
  assert.deepEqual(brief(h.take()), ['. 1:1 0', '. 1:1 0', '. 1:301 0']);
  assert.deepEqual(readAll(conn), pattern(300));
});

test('RFC 9293 §3.10.7.4: overlapping out-of-order segments are merged without duplicating bytes', async () => {
  const { h, conn } = await established();
  h.send({ flags: '.', seq: 101, ack: 1, data: 100 });
  h.send({ flags: '.', seq: 151, ack: 1, data: 100 });
  h.send({ flags: '.', seq: 81, ack: 1, data: 200 });
  h.take();
  h.send({ flags: '.', seq: 1, ack: 1, data: 90 });
  expectSeg(h.one(), { ack: 281 });
  assert.deepEqual(readAll(conn), pattern(280));
});

test('RFC 9293 §3.10.7.4: a duplicate segment is ACKed at once and its bytes are not delivered twice', async () => {
  const { h, conn } = await established();
  h.send({ flags: 'P.', seq: 1, ack: 1, data: 100 });
  h.send({ flags: 'P.', seq: 1, ack: 1, data: 100 });
  expectSeg(h.one(), { flags: '.', seq: 1, ack: 101 });
  assert.equal(readAll(conn).length, 100);
});

test('read() hands out received bytes in order across partial reads, and readable counts what is left', async () => {
  const { h, conn } = await established();
  h.send({ flags: 'P.', seq: 1, ack: 1, data: 100 });
  h.send({ flags: 'P.', seq: 101, ack: 1, data: 100 });
  assert.equal(conn.readable, 200);
  const a = new Uint8Array(50);
  assert.equal(conn.read(a), 50);
  assert.deepEqual(a, pattern(50));
  assert.equal(conn.readable, 150);
  const b = new Uint8Array(500);
  assert.equal(conn.read(b), 150);
  assert.deepEqual(b.subarray(0, 150), pattern(150, 50));
  assert.equal(conn.read(b), WOULD_BLOCK);
});

test('the application is notified when data arrives', async () => {
  const { h, conn } = await established();
  let woke = 0;
  conn.notify = () => woke++;
  h.send({ flags: 'P.', seq: 1, ack: 1, data: 10 });
  assert.ok(woke >= 1);
});

test('RFC 9293 §3.10.7.4: the peer ACKing part of a segment releases those bytes; the rest is retransmitted from there', async () => {
  const { h, conn } = await established({ noDelay: true });
  conn.write(pattern(1000));
  h.one();
  h.advance(100);
  h.send({ flags: '.', seq: 1, ack: 401 });
  h.none();
  // RTT 100 ms: RTO = 100 + 4 × 50 = 300 ms (RFC 6298 §2.2).
  h.advance(299);
  h.none();
  h.advance(1);
  const seg = h.one();
  expectSeg(seg, { flags: 'P.', seq: 401, len: 600 });
  assert.deepEqual(seg.payload, pattern(600, 400));
});

test('write() waits when the send buffer is full and settles once ACKs make room', async () => {
  const { h, conn } = await established({ sendBufferSize: 4096 }, {});
  assert.equal(conn.write(pattern(4096)), null);
  const waiting = track(conn.write(pattern(100, 4096))!);
  h.take();
  await flush();
  assert.equal(waiting.settled(), false);
  h.send({ flags: '.', seq: 1, ack: 1461 });
  await flush();
  assert.ok(waiting.settled());
  // The 100 bytes went after the rest: 4096 + 100 bytes in order.
  h.send({ flags: '.', seq: 1, ack: 4097 });
  const out = h.take();
  const tail = out[out.length - 1]!;
  assert.equal(tail.seq + tail.len, 4197);
});

test('a zero-length write sends nothing', async () => {
  const { h, conn } = await established();
  assert.equal(conn.write(new Uint8Array(0)), null);
  h.none();
});

test('RFC 9293 §3.4: data crosses the 2^32 wrap of the peer sequence space unharmed (peer ISN 2^32 − 256)', async () => {
  const { h, conn } = await established();
  for (let i = 0; i < 4; i++) h.send({ flags: '.', seq: 1 + i * 1000, ack: 1, data: 1000 });
  expectSeg(h.one(), { ack: 3001 });
  h.advance(40);
  expectSeg(h.one(), { ack: 4001 });
  assert.deepEqual(readAll(conn), pattern(4000));
});
