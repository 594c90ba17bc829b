/**
 * Blind in-window attacks (RFC 5961) and the segment acceptability test
 * (RFC 9293 §3.10.7.4 step 1), PAWS (RFC 7323 §5).
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { WOULD_BLOCK } from '../../../src/stack/types.js';
import { expectSeg, flush, Harness, PEER_TS_BASE, pattern, readAll, thrown } from './harness.js';

async function established(tcp = {}) {
  const h = new Harness({ tcp });
  const { conn } = await h.activeOpen();
  return { h, conn };
}

test('RFC 5961 §3.2: a RST inside the window but not at RCV.NXT gets a challenge ACK <SEQ=SND.NXT><ACK=RCV.NXT>; the connection lives', async () => {
  const { h, conn } = await established();
  h.send({ flags: 'R', seq: 100 });
  expectSeg(h.one(), { flags: '.', seq: 1, ack: 1, len: 0 });
  assert.equal(h.state(), 'ESTABLISHED');
  assert.equal(h.counter('tcp.challenge-ack'), 1);
  assert.equal(conn.read(new Uint8Array(1)), WOULD_BLOCK);
});

test('RFC 5961 §3.2: the challenge ACK carries the current RCV.NXT and SND.NXT', async () => {
  const { h, conn } = await established();
  conn.write(pattern(50));
  h.one();
  h.send({ flags: 'P.', seq: 1, ack: 51, data: 100 });
  h.send({ flags: 'R', seq: 5000 });
  expectSeg(h.one(), { flags: '.', seq: 51, ack: 101 });
});

test('RFC 5961 §3.2: a RST exactly at RCV.NXT resets, whatever its ACK field says', async () => {
  const { h, conn } = await established();
  h.send({ flags: 'R.', seq: 1, ack: 0x4000 });
  h.none();
  assert.equal(h.state(), 'none');
  assert.equal(thrown(() => conn.read(new Uint8Array(1))), 'ECONNRESET');
});

test('RFC 5961 §3.2: a RST outside the window (beyond it, or before RCV.NXT) is dropped without a word', async () => {
  const { h } = await established();
  h.send({ flags: 'R', seq: 1 + 65535 });
  h.send({ flags: 'R', seq: 1 + 200_000 });
  h.send({ flags: 'R', seq: 0 });
  h.send({ flags: 'R', seq: -1000 });
  h.none();
  assert.equal(h.state(), 'ESTABLISHED');
});

test('RFC 5961 §3.2: a RST at the last sequence number of the window still gets a challenge ACK', async () => {
  const { h } = await established();
  h.send({ flags: 'R', seq: 65535 });
  expectSeg(h.one(), { flags: '.', seq: 1, ack: 1 });
});

test('RFC 5961 §3.2: a RST carrying data at RCV.NXT resets; its data is not delivered', async () => {
  const { h, conn } = await established();
  h.send({ flags: 'R', seq: 1, data: 10 });
  h.none();
  assert.equal(thrown(() => conn.read(new Uint8Array(20))), 'ECONNRESET');
});

test('RFC 5961 §4.2: a SYN in ESTABLISHED, in the window, gets a challenge ACK and changes nothing', async () => {
  const { h, conn } = await established();
  h.send({ flags: 'S', seq: 500, options: { mss: 1460 } });
  expectSeg(h.one(), { flags: '.', seq: 1, ack: 1 });
  assert.equal(h.state(), 'ESTABLISHED');
  // Data still flows in both directions.
  h.send({ flags: 'P.', seq: 1, ack: 1, data: 'ok' });
  assert.equal(new TextDecoder().decode(readAll(conn)), 'ok');
});

test('RFC 5961 §4.2: a SYN-ACK in ESTABLISHED, in the window, gets a challenge ACK', async () => {
  const { h } = await established();
  h.send({ flags: 'S.', seq: 77, ack: 1 });
  expectSeg(h.one(), { flags: '.', seq: 1, ack: 1 });
  assert.equal(h.counter('tcp.challenge-ack'), 1);
});

test('RFC 9293 §3.10.7.4: the peer retransmitting its SYN-ACK (our ACK was lost) gets our ACK again', async () => {
  const { h } = await established();
  h.send({ flags: 'S.', seq: 0, ack: 1, options: { mss: 1460 } });
  expectSeg(h.one(), { flags: '.', seq: 1, ack: 1 });
  assert.equal(h.state(), 'ESTABLISHED');
});

test('Linux (tcp_ack): an ACK above SND.NXT is dropped silently, the segment with its data; no ACK answers it', async () => {
  const { h, conn } = await established();
  h.send({ flags: 'P.', seq: 1, ack: 1000, data: 50 });
  h.none('no ACK: Linux drops it silently (packetdrill ts_recent/invalid_ack.pkt)');
  assert.equal(h.counter('tcp.ack-unsent-data'), 1);
  assert.equal(conn.read(new Uint8Array(100)), WOULD_BLOCK);
  assert.equal(h.state(), 'ESTABLISHED');
});

test('RFC 5961 §5.2: an ACK more than MAX.SND.WND below SND.UNA gets a challenge ACK; a merely old one is ignored and its data taken', async () => {
  const h = new Harness();
  const { conn } = await h.activeOpen({ mss: 1460, window: 1000 });
  conn.write(pattern(3000));
  for (const end of [1001, 2001, 3001]) {
    h.take();
    h.send({ flags: '.', seq: 1, ack: end, window: 1000 });
  }
  h.none();
  // SND.UNA = 3001 and MAX.SND.WND = 1000: an ACK of 1500 is too old.
  h.send({ flags: 'P.', seq: 1, ack: 1500, data: 10 });
  expectSeg(h.one(), { flags: '.', seq: 3001, ack: 1 });
  // An ACK of 2500 is within MAX.SND.WND: a stale duplicate, its data is accepted.
  h.send({ flags: 'P.', seq: 1, ack: 2500, data: 10, window: 1000 });
  assert.equal(readAll(conn).length, 10);
  h.advance(40);
  expectSeg(h.one(), { flags: '.', seq: 3001, ack: 11 });
});

test('RFC 5961 §7: challenge ACKs are limited per second (challengeAckLimit 2), the budget refills the next second', async () => {
  // The per-connection limit (tcp_invalid_ratelimit) is off here: this is the stack-wide budget alone.
  const { h } = await established({ challengeAckLimit: 2, invalidRateLimitMs: 0 });
  h.advance(1000 - (h.now() % 1000));
  for (let i = 0; i < 5; i++) h.send({ flags: 'R', seq: 100 + i });
  assert.equal(h.take().length, 2);
  assert.equal(h.counter('tcp.challenge-ack'), 5);
  assert.equal(h.counter('tcp.challenge-ack-limited'), 3);
  // SYNs share the same budget.
  h.send({ flags: 'S', seq: 300 });
  h.none();
  h.advance(1000);
  h.send({ flags: 'S', seq: 300 });
  expectSeg(h.one(), { flags: '.', seq: 1, ack: 1 });
});

test('RFC 5961 §7: the challenge ACK limit does not hold back ordinary ACKs', async () => {
  const { h } = await established({ challengeAckLimit: 1 });
  h.send({ flags: 'R', seq: 100 });
  h.send({ flags: 'R', seq: 101 });
  assert.equal(h.take().length, 1);
  h.send({ flags: 'P.', seq: 1, ack: 1, data: 1460 });
  h.send({ flags: 'P.', seq: 1461, ack: 1, data: 1460 });
  expectSeg(h.one(), { flags: '.', seq: 1, ack: 2921 });
});

test('RFC 9293 §3.10.7.4: data beyond the window is answered with an ACK of RCV.NXT and dropped', async () => {
  const { h, conn } = await established();
  h.send({ flags: 'P.', seq: 1 + 65535, ack: 1, data: 100 });
  expectSeg(h.one(), { flags: '.', seq: 1, ack: 1 });
  assert.equal(conn.read(new Uint8Array(200)), WOULD_BLOCK);
  assert.equal(h.counter('tcp.out-of-window'), 1);
});

test('RFC 9293 §3.10.7.4: an old duplicate (wholly below RCV.NXT) is answered with an ACK of RCV.NXT and not delivered twice', async () => {
  const { h, conn } = await established();
  h.send({ flags: 'P.', seq: 1, ack: 1, data: 100 });
  assert.equal(readAll(conn).length, 100);
  h.send({ flags: 'P.', seq: 1, ack: 1, data: 100 });
  expectSeg(h.one(), { flags: '.', seq: 1, ack: 101 });
  assert.equal(conn.read(new Uint8Array(200)), WOULD_BLOCK);
});

test('RFC 9293 §3.10.7.4: a segment that starts before RCV.NXT and runs past it is acceptable; only the new bytes are delivered', async () => {
  const { h, conn } = await established();
  h.send({ flags: 'P.', seq: 1, ack: 1, data: 100 });
  h.send({ flags: 'P.', seq: 51, ack: 1, data: 100 });
  const got = readAll(conn);
  assert.equal(got.length, 150);
  assert.deepEqual(got, pattern(150));
});

test('RFC 9293 §3.10.7.4: a segment without ACK in ESTABLISHED is dropped silently', async () => {
  const { h, conn } = await established();
  h.send({ flags: 'P', seq: 1, data: 10 });
  h.none();
  assert.equal(conn.read(new Uint8Array(20)), WOULD_BLOCK);
});

test('RFC 7323 §5.3 (PAWS): a segment whose TSval is older than TS.Recent is dropped and ACKed', async () => {
  const h = new Harness();
  const { conn } = await h.activeOpen({ mss: 1460, ts: true });
  h.advance(100);
  h.send({ flags: 'P.', seq: 1, ack: 1, data: 10 });
  h.advance(40);
  h.one();
  h.send({ flags: 'P.', seq: 11, ack: 1, data: 10, tsVal: PEER_TS_BASE + 50 });
  const ack = h.one();
  expectSeg(ack, { flags: '.', seq: 1, ack: 11 });
  assert.equal(ack.options.timestamp?.echo, PEER_TS_BASE + 100, 'echoes TS.Recent, not the old value');
  assert.equal(h.counter('tcp.paws-rejected'), 1);
  assert.equal(readAll(conn).length, 10);
});

test('RFC 7323 §5.3: PAWS does not apply to RST: an exact RST with an old TSval still resets', async () => {
  const h = new Harness();
  const { conn } = await h.activeOpen({ mss: 1460, ts: true });
  h.advance(100);
  h.send({ flags: '.', seq: 1, ack: 1 });
  h.send({ flags: 'R', seq: 1, tsVal: PEER_TS_BASE });
  h.none();
  assert.equal(thrown(() => conn.read(new Uint8Array(1))), 'ECONNRESET');
});

test('RFC 7323 §5.3: a TSval equal to TS.Recent passes PAWS', async () => {
  const h = new Harness();
  const { conn } = await h.activeOpen({ mss: 1460, ts: true });
  h.send({ flags: 'P.', seq: 1, ack: 1, data: 10 });
  h.send({ flags: 'P.', seq: 11, ack: 1, data: 10 });
  assert.equal(readAll(conn).length, 20);
  assert.equal(h.counter('tcp.paws-rejected'), 0);
});

test('RFC 7323 §5.3: TSvals compare modulo 2^32: a value just past the wrap is newer, one before TS.Recent is not', async () => {
  const h = new Harness();
  const pending = h.connect();
  const syn = h.one();
  h.peerTs = true;
  h.send({ flags: 'S.', seq: 0, ack: 1, options: { mss: 1460, timestamp: { value: 0xfffffff0, echo: syn.options.timestamp!.value } }, tsVal: false });
  h.one();
  await flush();
  const conn = pending.value();
  h.send({ flags: 'P.', seq: 1, ack: 1, data: 10, tsVal: 0x00000010 });
  assert.equal(readAll(conn).length, 10);
  assert.equal(h.counter('tcp.paws-rejected'), 0);
  h.send({ flags: 'P.', seq: 11, ack: 1, data: 10, tsVal: 0xfffffff8 });
  assert.equal(h.counter('tcp.paws-rejected'), 1);
  assert.equal(readAll(conn).length, 0);
});

// ---- tcp_invalid_ratelimit: one ACK per 500 ms per connection for segments that deserve no more ----

test('tcp_invalid_ratelimit (RFC 5961 §7, Linux): pure ACKs outside the window draw one ACK per 500 ms per connection', async () => {
  const { h } = await established();
  for (let i = 0; i < 10; i++) h.send({ flags: '.', seq: 200_000 + i * 1000, ack: 1 });
  expectSeg(h.one('one ACK for ten blind ACKs'), { flags: '.', seq: 1, ack: 1 });
  assert.equal(h.counter('tcp.oow-ack-limited'), 9);
  h.advance(499);
  h.send({ flags: '.', seq: 300_000, ack: 1 });
  h.none('still within 500 ms');
  h.advance(1);
  h.send({ flags: '.', seq: 300_000, ack: 1 });
  expectSeg(h.one('500 ms later'), { flags: '.', seq: 1, ack: 1 });
});

test('tcp_invalid_ratelimit: segments carrying data are exempt: every old duplicate is ACKed (its sender needs the ACK)', async () => {
  const { h } = await established();
  h.send({ flags: 'P.', seq: 1, ack: 1, data: 100 });
  h.advance(40);
  h.one();
  for (let i = 0; i < 3; i++) h.send({ flags: 'P.', seq: 1, ack: 1, data: 100 });
  assert.deepEqual(
    h.take().map((o) => o.ack),
    [101, 101, 101],
  );
  assert.equal(h.counter('tcp.oow-ack-limited'), 0);
});

test('tcp_invalid_ratelimit: a challenge ACK counts against the same per-connection limit (Linux checks it before the stack-wide budget)', async () => {
  const { h } = await established();
  h.send({ flags: 'R', seq: 100 });
  h.send({ flags: 'R', seq: 200 });
  h.send({ flags: '.', seq: 500_000, ack: 1 });
  expectSeg(h.one(), { flags: '.', seq: 1, ack: 1 });
  assert.equal(h.counter('tcp.challenge-ack'), 2);
  h.advance(500);
  h.send({ flags: 'R', seq: 300 });
  expectSeg(h.one(), { flags: '.', seq: 1, ack: 1 });
});

test('tcp_invalid_ratelimit: PAWS-failing pure ACKs are limited; PAWS-failing data still draws an ACK each', async () => {
  const h = new Harness();
  await h.activeOpen({ mss: 1460, ts: true });
  h.advance(100);
  h.send({ flags: '.', seq: 1, ack: 1 });
  const old = PEER_TS_BASE + 10;
  for (let i = 0; i < 3; i++) h.send({ flags: '.', seq: 1, ack: 1, tsVal: old });
  assert.equal(h.take().length, 1);
  for (let i = 0; i < 3; i++) h.send({ flags: 'P.', seq: 1, ack: 1, data: 10, tsVal: old });
  assert.equal(h.take().length, 3);
  assert.equal(h.counter('tcp.paws-rejected'), 6);
});

test('RFC 5961 §4.2: a SYN outside the window gets a challenge ACK too, within the same limits', async () => {
  const { h } = await established();
  h.send({ flags: 'S', seq: 900_000 });
  expectSeg(h.one(), { flags: '.', seq: 1, ack: 1 });
  assert.equal(h.counter('tcp.challenge-ack'), 1);
  h.send({ flags: 'S', seq: 900_000 });
  h.none();
});

test('tcp_invalid_ratelimit: a retransmitted SYN in SYN-RECEIVED gets the SYN-ACK again at most once per 500 ms (Linux tcp_check_req)', () => {
  const h = new Harness();
  h.listen();
  h.send({ flags: 'S', seq: 0, options: { mss: 1460 } });
  h.one();
  h.advance(100);
  h.send({ flags: 'S', seq: 0, options: { mss: 1460 } });
  expectSeg(h.one(), { flags: 'S.', seq: 0, ack: 1 });
  h.advance(100);
  h.send({ flags: 'S', seq: 0, options: { mss: 1460 } });
  h.none();
  h.advance(400);
  h.send({ flags: 'S', seq: 0, options: { mss: 1460 } });
  expectSeg(h.one(), { flags: 'S.', seq: 0, ack: 1 });
});

test('tcp_invalid_ratelimit: the limit is per connection: another connection still gets its ACK', async () => {
  const h = new Harness();
  const listener = h.listen();
  for (const port of [40000, 40001]) {
    h.iss = null; // each connection has its own ISS: learn it from its SYN-ACK
    h.send({ flags: 'S', seq: 0, srcPort: port, options: { mss: 1460 } });
    h.take();
    h.send({ flags: '.', seq: 1, ack: 1, srcPort: port });
    assert.ok(listener.accept());
  }
  h.send({ flags: '.', seq: 200_000, ack: 1, srcPort: 40000 });
  h.send({ flags: '.', seq: 200_000, ack: 1, srcPort: 40000 });
  h.send({ flags: '.', seq: 200_000, ack: 1, srcPort: 40001 });
  assert.deepEqual(
    h.take().map((o) => o.dstPort),
    [40000, 40001],
  );
});

test('tcp_invalid_ratelimit: invalidRateLimitMs 0 turns the limit off', async () => {
  const { h } = await established({ invalidRateLimitMs: 0 });
  for (let i = 0; i < 5; i++) h.send({ flags: '.', seq: 200_000, ack: 1 });
  assert.equal(h.take().length, 5);
});

test('RFC 7323 §4.3: a segment dropped for an ACK above SND.NXT does not move TS.Recent, so it cannot make later segments fail PAWS', async () => {
  const h = new Harness({ tcp: { invalidRateLimitMs: 0 } });
  const { conn } = await h.activeOpen({ mss: 1460, ts: true });
  h.advance(100);
  h.send({ flags: '.', seq: 1, ack: 1 });
  const recent = h.tcb().tsRecent;
  // A forged FIN acknowledging data never sent, with a TSval far ahead: dropped silently, as Linux does.
  h.send({ flags: 'F.', seq: 1, ack: 9999, tsVal: PEER_TS_BASE + 200_000 });
  h.none();
  assert.equal(h.tcb().tsRecent, recent, 'TS.Recent unchanged by the dropped segment');
  // The peer's real data, with its real clock, passes PAWS and is echoed.
  h.send({ flags: 'P.', seq: 1, ack: 1, data: 1000 });
  assert.equal(readAll(conn).length, 1000);
  assert.equal(h.counter('tcp.paws-rejected'), 0);
});
