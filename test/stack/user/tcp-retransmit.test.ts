/** The retransmission timer, segment by segment (RFC 6298; RFC 5681 §3.1 on a timeout; RFC 7323 §4 RTTM). */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { brief, expectSeg, Harness, pattern, thrown, type Offer } from './harness.js';
import type { StreamOptions } from '../../../src/stack/types.js';

async function established(tcp = {}, offer: Offer = { mss: 1460 }, options: Partial<StreamOptions> = { noDelay: true }) {
  const h = new Harness({ tcp });
  const { conn } = await h.activeOpen(offer, options);
  return { h, conn };
}

/** Times at which the stack sent something while `ms` of virtual time pass. */
function sendTimes(h: Harness, ms: number): number[] {
  h.advance(ms);
  return h.take().map((o) => o.at);
}

test('RFC 6298 §2.1: before any RTT sample the RTO is 1 s: the segment goes again, identical, after exactly 1000 ms', async () => {
  const { h, conn } = await established();
  conn.write(pattern(100));
  const first = h.one();
  h.advance(999);
  h.none();
  h.advance(1);
  const again = h.one();
  expectSeg(again, { flags: 'P.', seq: 1, ack: 1, len: 100 });
  assert.deepEqual(again.payload, first.payload);
  assert.equal(h.counter('tcp.retransmit'), 1);
  assert.equal(h.counter('tcp.rto'), 1);
});

test('RFC 6298 §5.5: each expiry doubles the RTO (1, 2, 4, 8, 16, 32 s), capped at maxRtoMs (60 s)', async () => {
  const { h, conn } = await established();
  conn.write(pattern(100));
  h.one();
  const times = sendTimes(h, 250_000);
  assert.deepEqual(times, [1000, 3000, 7000, 15000, 31000, 63000, 123000, 183000, 243000]);
});

test('RFC 6298 §5.5: maxRtoMs 5000 caps the backoff at 5 s', async () => {
  const { h, conn } = await established({ maxRtoMs: 5000 });
  conn.write(pattern(100));
  h.one();
  assert.deepEqual(sendTimes(h, 20_000), [1000, 3000, 7000, 12000, 17000]);
});

test('RFC 1122 §4.2.3.5 (R2): after `retries` (3) unacknowledged retransmissions the connection fails with ETIMEDOUT, without a RST', async () => {
  const { h, conn } = await established({ retries: 3 });
  conn.write(pattern(100));
  h.one();
  assert.deepEqual(sendTimes(h, 14_999), [1000, 3000, 7000]);
  assert.equal(h.state(), 'ESTABLISHED');
  h.advance(1);
  h.none('no RST');
  assert.equal(h.state(), 'none');
  assert.equal(thrown(() => conn.read(new Uint8Array(1))), 'ETIMEDOUT');
  await assert.rejects(conn.write(pattern(1))!, { code: 'ETIMEDOUT' });
});

test('RFC 1122 §4.2.3.9: a connection timing out after an ICMP host unreachable reports EHOSTUNREACH', async () => {
  const { h, conn } = await established({ retries: 1 });
  conn.write(pattern(100));
  const seg = h.one();
  h.sendIcmpUnreachable(1, seg.packet);
  h.advance(3000);
  assert.equal(h.state(), 'none');
  assert.equal(thrown(() => conn.read(new Uint8Array(1))), 'EHOSTUNREACH');
});

test('RFC 6298 §5: progress resets the retry count: a connection that gets ACKs between timeouts lives on (retries 2)', async () => {
  const { h, conn } = await established({ retries: 2 });
  conn.write(pattern(100));
  h.one();
  assert.deepEqual(sendTimes(h, 3000), [1000, 3000]);
  h.send({ flags: '.', seq: 1, ack: 101 });
  conn.write(pattern(100));
  h.take();
  // Karn: no sample from the retransmitted segment, so the RTO stays backed off at 4 s.
  assert.deepEqual(sendTimes(h, 12_000), [7000, 15000]);
  h.send({ flags: '.', seq: 1, ack: 201 });
  h.advance(60_000);
  h.none();
  assert.equal(h.state(), 'ESTABLISHED', 'four retransmissions in all, but never more than two in a row');
});

test('RFC 6298 §2.2: one RTT sample of 100 ms (timed segment, no timestamps) gives RTO = 100 + 4·50 = 300 ms', async () => {
  const { h, conn } = await established();
  conn.write(pattern(100));
  h.one();
  h.advance(100);
  h.send({ flags: '.', seq: 1, ack: 101 });
  conn.write(pattern(100));
  h.one();
  h.advance(299);
  h.none();
  h.advance(1);
  expectSeg(h.one(), { flags: 'P.', seq: 101, len: 100 });
});

test('RFC 6298 §2.3: a second sample of 100 ms gives RTTVAR 37.5 and RTO 250 ms', async () => {
  const { h, conn } = await established();
  for (const end of [101, 201]) {
    conn.write(pattern(100));
    h.one();
    h.advance(100);
    h.send({ flags: '.', seq: 1, ack: end });
  }
  conn.write(pattern(100));
  h.one();
  h.advance(249);
  h.none();
  h.advance(1);
  expectSeg(h.one(), { seq: 201, len: 100 });
});

test('RFC 6298 §2.4: the RTO never goes below minRtoMs (200 ms) however short the RTT (10 ms)', async () => {
  const { h, conn } = await established();
  conn.write(pattern(100));
  h.one();
  h.advance(10);
  h.send({ flags: '.', seq: 1, ack: 101 });
  conn.write(pattern(100));
  h.one();
  h.advance(199);
  h.none();
  h.advance(1);
  expectSeg(h.one(), { seq: 101, len: 100 });
});

test("RFC 7323 §4.1 (RTTM): the SYN-ACK echoing our SYN's TSval 100 ms later gives the first sample: RTO 300 ms", async () => {
  const h = new Harness();
  const pending = h.connect({ noDelay: true });
  const syn = h.one();
  h.advance(100);
  h.peerTs = true;
  h.send({ flags: 'S.', seq: 0, ack: 1, options: h.synOptions({ mss: 1460, ts: true }, syn.options.timestamp!.value), tsVal: false });
  h.one();
  const conn = await pending.promise;
  conn.write(pattern(100));
  h.one();
  h.advance(299);
  h.none();
  h.advance(1);
  expectSeg(h.one(), { seq: 1, len: 100 });
});

test('RFC 7323 §4.1 (RTTM): with timestamps an ACK echoing a retransmission still measures the RTT (no Karn ambiguity)', async () => {
  const h = new Harness();
  const pending = h.connect({ noDelay: true });
  const syn = h.one();
  h.advance(100);
  h.peerTs = true;
  h.send({ flags: 'S.', seq: 0, ack: 1, options: h.synOptions({ mss: 1460, ts: true }, syn.options.timestamp!.value), tsVal: false });
  h.one();
  const conn = await pending.promise;
  conn.write(pattern(100));
  h.one();
  h.advance(300);
  h.one();
  // The ACK echoes the retransmission's TSval 100 ms after it: RTT 100 again, and the backoff is undone.
  h.advance(100);
  h.send({ flags: '.', seq: 1, ack: 101 });
  conn.write(pattern(100));
  h.one();
  h.advance(249);
  h.none();
  h.advance(1);
  expectSeg(h.one(), { seq: 101, len: 100 });
});

test('RFC 6298 §3 (Karn): the ACK of a retransmitted segment gives no sample; the backed-off RTO (2 s) stays for the next segment', async () => {
  const { h, conn } = await established();
  conn.write(pattern(100));
  h.one();
  h.advance(1000);
  h.one();
  h.advance(50);
  h.send({ flags: '.', seq: 1, ack: 101 });
  conn.write(pattern(100));
  h.one();
  h.advance(1999);
  h.none('not 50 ms + 4·25 → 200 ms, nor 1 s');
  h.advance(1);
  expectSeg(h.one(), { seq: 101 });
});

test('RFC 6298 §5.3: an ACK of new data restarts the timer for what is still outstanding', async () => {
  const { h, conn } = await established();
  conn.write(pattern(100));
  h.one();
  h.advance(500);
  conn.write(pattern(100));
  h.one();
  h.advance(300);
  // The first segment, timed from 0, is ACKed at 800: RTT 800, RTO 800 + 4·400 = 2400.
  h.send({ flags: '.', seq: 1, ack: 101 });
  h.advance(2399);
  h.none('the second segment is timed from the ACK at 800, not from its send at 500');
  h.advance(1);
  expectSeg(h.one(), { flags: 'P.', seq: 101, len: 100 });
});

test('RFC 6298 §5.2: when everything is acknowledged the timer stops: nothing more is sent', async () => {
  const { h, conn } = await established();
  conn.write(pattern(100));
  h.one();
  h.send({ flags: '.', seq: 1, ack: 101 });
  h.advance(300_000);
  h.none();
});

test('RFC 5681 §3.1 and eq. (4): after a timeout only the first segment goes (cwnd = 1 MSS); ssthresh = max(FlightSize/2, 2·MSS)', async () => {
  // Eq. (4) is NewReno's; CUBIC's 0.7·cwnd is in tcp-cubic.test.ts.
  const { h, conn } = await established({ congestionControl: 'newreno' });
  conn.write(pattern(4380));
  assert.equal(h.take().length, 3);
  h.advance(1000);
  assert.deepEqual(brief(h.take()), ['. 1:1 1460']);
  const t = h.tcb();
  assert.equal(t.cwnd, 1460);
  assert.equal(t.ssthresh, 2920);
});

test('RFC 5681 §3.1: after the timeout, slow start from 1 MSS resends the rest as ACKs arrive (go-back-N)', async () => {
  const { h, conn } = await established();
  conn.write(pattern(4380));
  h.take();
  h.advance(1000);
  h.take();
  h.advance(10);
  h.send({ flags: '.', seq: 1, ack: 1461 });
  assert.deepEqual(brief(h.take()), ['. 1461:1 1460', 'P. 2921:1 1460']);
});

test('RFC 6298 §5.4: the retransmission carries the current ACK and window', async () => {
  const { h, conn } = await established();
  conn.write(pattern(100));
  h.one();
  h.send({ flags: 'P.', seq: 1, ack: 1, data: 50 });
  h.advance(40);
  expectSeg(h.one(), { flags: '.', ack: 51 });
  h.advance(960);
  expectSeg(h.one(), { flags: 'P.', seq: 1, ack: 51, len: 100 });
});

test('RFC 6298 §5: a FIN riding on data is retransmitted with it', async () => {
  const { h, conn } = await established({}, { mss: 1460 }, {});
  conn.write(pattern(10));
  conn.write(pattern(10));
  h.take();
  conn.shutdown('write');
  expectSeg(h.one(), { flags: 'FP.', seq: 11, len: 10 });
  h.advance(100);
  h.send({ flags: '.', seq: 1, ack: 11 });
  h.advance(299);
  h.none();
  h.advance(1);
  expectSeg(h.one(), { flags: 'FP.', seq: 11, len: 10 });
});

test('RFC 6298 §5: a retransmission after a timeout takes a full MSS even if the original was sent in smaller pieces', async () => {
  const { h, conn } = await established();
  conn.write(pattern(500));
  conn.write(pattern(500));
  conn.write(pattern(500));
  assert.deepEqual(brief(h.take()), ['P. 1:1 500', 'P. 501:1 500', 'P. 1001:1 500']);
  h.advance(1000);
  assert.deepEqual(brief(h.take()), ['. 1:1 1460']);
});

test('Linux TCP_USER_TIMEOUT (5 s): the RTO is clamped to the user timeout and the connection fails with ETIMEDOUT when it passes, long before `retries`', async () => {
  const { h, conn } = await established({}, { mss: 1460 }, { noDelay: true, userTimeoutMs: 5000 });
  conn.write(pattern(100));
  const first = h.one();
  const times = sendTimes(h, 4999).map((at) => at - first.at);
  assert.deepEqual(times, [1000, 3000], 'the third timeout would be at 7 s; it is clamped to 5 s');
  assert.equal(h.state(), 'ESTABLISHED');
  h.advance(1);
  h.none('no RST');
  assert.equal(h.state(), 'none');
  assert.equal(thrown(() => conn.read(new Uint8Array(1))), 'ETIMEDOUT');
});

test('Linux TCP_USER_TIMEOUT: an ACK of part of the data restarts the count', async () => {
  const { h, conn } = await established({}, { mss: 1460 }, { noDelay: true, userTimeoutMs: 3000 });
  conn.write(pattern(100));
  const first = h.one();
  conn.write(pattern(100));
  h.take();
  h.advance(2000);
  h.take();
  h.send({ flags: '.', seq: 1, ack: 101 });
  h.advance(2500);
  assert.equal(h.state(), 'ESTABLISHED', 'the oldest data now waited only 2.5 s');
  h.advance(600);
  assert.equal(h.state(), 'none');
  assert.ok(h.now() - first.at >= 5000);
});
