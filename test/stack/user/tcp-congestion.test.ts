/**
 * Congestion control with a peer that does not do SACK, segment by segment:
 * the initial window (RFC 6928), slow start and congestion avoidance
 * (RFC 5681 §3.1, RFC 3465), limited transmit (RFC 3042), fast retransmit
 * and NewReno recovery (RFC 5681 §3.2, RFC 6582).
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { brief, Harness, pattern } from './harness.js';

/** These figures are RFC 5681/6582's, so the connection runs NewReno (the default is CUBIC, tested in tcp-cubic.test.ts). */
async function established(tcp = {}, mss = 1460) {
  const h = new Harness({ tcp: { congestionControl: 'newreno', ...tcp } });
  const { conn } = await h.activeOpen({ mss });
  return { h, conn };
}

/** Ten full segments in flight (the initial window) and more data queued behind them. */
async function flight(total = 30_000, tcp = {}) {
  const { h, conn } = await established(tcp);
  conn.write(pattern(total));
  const out = h.take();
  assert.equal(out.length, 10);
  return { h, conn };
}

function dupAck(h: Harness, n = 1, ack = 1): void {
  for (let i = 0; i < n; i++) h.send({ flags: '.', seq: 1, ack });
}

test('RFC 6928: the initial window is 10 segments: a 20000-byte write sends 10 × 1460 and waits', async () => {
  const { h, conn } = await established();
  conn.write(pattern(20_000));
  const out = h.take();
  assert.equal(out.length, 10);
  assert.deepEqual(
    out.map((o) => o.seq),
    Array.from({ length: 10 }, (_, i) => 1 + i * 1460),
  );
  assert.ok(out.every((o) => o.len === 1460 && o.flags === '.'));
  h.advance(500);
  h.none();
});

test('RFC 6928: initialWindow 4 sends 4 segments', async () => {
  const { h, conn } = await established({ initialWindow: 4 });
  conn.write(pattern(20_000));
  assert.equal(h.take().length, 4);
});

test('RFC 6928: IW = min(10·MSS, max(2·MSS, 14600)): with MSS 536 that is 10 segments of 536', async () => {
  const { h, conn } = await established({}, 536);
  conn.write(pattern(20_000));
  const out = h.take();
  assert.equal(out.length, 10);
  assert.ok(out.every((o) => o.len === 536));
});

test('RFC 5681 §3.1, RFC 3465 (L = 2): an ACK for two segments in slow start lets four new ones out', async () => {
  const { h } = await flight();
  h.send({ flags: '.', seq: 1, ack: 2921 });
  assert.deepEqual(brief(h.take()), ['. 14601:1 1460', '. 16061:1 1460', '. 17521:1 1460', '. 18981:1 1460']);
  assert.equal(h.tcb().cwnd, 14600 + 2920);
});

test('RFC 5681 §3.1: an ACK for one segment in slow start lets two new ones out', async () => {
  const { h } = await flight();
  h.send({ flags: '.', seq: 1, ack: 1461 });
  assert.deepEqual(brief(h.take()), ['. 14601:1 1460', '. 16061:1 1460']);
});

test('RFC 3465: an ACK for many segments grows cwnd by at most 2·MSS', async () => {
  const { h } = await flight(60_000);
  h.send({ flags: '.', seq: 1, ack: 14601 });
  assert.equal(h.tcb().cwnd, 14600 + 2920);
  assert.equal(h.take().length, 12);
});

test('RFC 3042 (limited transmit): each of the first two duplicate ACKs sends one new segment', async () => {
  const { h } = await flight();
  dupAck(h);
  assert.deepEqual(brief(h.take()), ['. 14601:1 1460']);
  dupAck(h);
  assert.deepEqual(brief(h.take()), ['. 16061:1 1460']);
});

test('RFC 5681 §3.2: the third duplicate ACK triggers the fast retransmit of SND.UNA; ssthresh = FlightSize/2, cwnd = ssthresh + 3·MSS', async () => {
  const { h } = await flight();
  dupAck(h, 2);
  h.take();
  dupAck(h);
  assert.deepEqual(brief(h.take()), ['. 1:1 1460']);
  const t = h.tcb();
  assert.equal(t.ssthresh, 17520 / 2);
  assert.equal(t.cwnd, 8760 + 3 * 1460);
  assert.equal(h.counter('tcp.fast-retransmit'), 1);
});

test('RFC 5681 §2: an ACK that changes the window is not a duplicate: no fast retransmit', async () => {
  const { h } = await flight();
  for (const window of [65000, 64000, 63000, 62000]) h.send({ flags: '.', seq: 1, ack: 1, window });
  assert.ok(h.take().every((o) => o.seq !== 1), 'no retransmission of the first segment');
  assert.equal(h.counter('tcp.fast-retransmit'), 0);
});

test('RFC 5681 §2: an ACK carrying data is not a duplicate: no fast retransmit', async () => {
  const { h } = await flight();
  for (let i = 0; i < 4; i++) h.send({ flags: 'P.', seq: 1 + i * 10, ack: 1, data: 10 });
  assert.equal(h.counter('tcp.fast-retransmit'), 0);
  assert.ok(h.take().every((o) => o.len === 0 || o.seq !== 1));
});

test('RFC 5681 §3.2 step 4 (NewReno): further duplicate ACKs inflate cwnd by one MSS; new data goes once cwnd exceeds the flight', async () => {
  const { h } = await flight();
  dupAck(h, 3);
  h.take();
  // Flight 17520, cwnd 13140: the 4th, 5th and 6th duplicates bring cwnd to 17520, still no room.
  dupAck(h, 3);
  h.none();
  dupAck(h);
  assert.deepEqual(brief(h.take()), ['. 17521:1 1460']);
  dupAck(h);
  assert.deepEqual(brief(h.take()), ['. 18981:1 1460']);
});

test('RFC 6582 §3.2 step 3 (partial ACK): the next hole is retransmitted at once and cwnd deflates by the amount ACKed, plus one MSS', async () => {
  const { h } = await flight();
  dupAck(h, 3);
  h.take();
  const before = h.tcb().cwnd;
  // Segments 1 and 3 were lost: the retransmission of 1 brings the ACK to 2921.
  h.send({ flags: '.', seq: 1, ack: 2921 });
  assert.deepEqual(brief(h.take()), ['. 2921:1 1460']);
  assert.equal(h.tcb().cwnd, before - 2920 + 1460);
  assert.equal(h.tcb().inRecovery, true);
});

test('RFC 6582 §3.2 step 3 (full ACK): recovery ends with cwnd = min(ssthresh, max(FlightSize, MSS) + MSS)', async () => {
  const { h } = await flight(20_000);
  dupAck(h, 3);
  h.take();
  // Everything up to `recover` (17521) is ACKed; 2480 bytes are still unsent.
  h.send({ flags: '.', seq: 1, ack: 17521 });
  const t = h.tcb();
  assert.equal(t.inRecovery, false);
  assert.equal(t.cwnd, 2920);
  assert.deepEqual(brief(h.take()), ['. 17521:1 1460', 'P. 18981:1 1020']);
});

test('RFC 6582 §3.2: after a full ACK, congestion avoidance: cwnd grows by one MSS per cwnd of data acknowledged', async () => {
  const { h } = await flight(60_000);
  dupAck(h, 3);
  h.take();
  h.send({ flags: '.', seq: 1, ack: 17521 });
  const t = h.tcb();
  // cwnd 2920 < ssthresh 8760: slow start until it reaches ssthresh.
  assert.equal(t.cwnd, 2920);
  let ack = 17521;
  const ackNext = () => {
    const out = h.take();
    ack = out[out.length - 1]!.seq + 1460;
    h.send({ flags: '.', seq: 1, ack });
  };
  ackNext();
  assert.equal(t.cwnd, 2920 + 2920);
  ackNext();
  assert.equal(t.cwnd, 8760, 'reached ssthresh (5840 + 2920)');
  const sent = h.take();
  assert.equal(sent.length, 6, '8760 bytes in flight');
  // In congestion avoidance each ACK of 1460 bytes adds 1460/8760 of a segment: +1460 after 8760 bytes.
  for (let i = 0; i < 5; i++) {
    h.send({ flags: '.', seq: 1, ack: (ack += 1460) });
    assert.equal(t.cwnd, 8760);
  }
  h.send({ flags: '.', seq: 1, ack: (ack += 1460) });
  assert.equal(t.cwnd, 8760 + 1460);
});

test('RFC 5681 §3.1, §3.2: a timeout during recovery ends it: cwnd = 1 MSS and only SND.UNA is resent', async () => {
  const { h } = await flight();
  dupAck(h, 3);
  h.take();
  h.advance(1000);
  assert.deepEqual(brief(h.take()), ['. 1:1 1460']);
  const t = h.tcb();
  assert.equal(t.inRecovery, false);
  assert.equal(t.cwnd, 1460);
});

test("congestionControl 'none': only the peer window limits: 65535 bytes go at once", async () => {
  const { h, conn } = await established({ congestionControl: 'none' });
  conn.write(pattern(100_000));
  const out = h.take();
  assert.equal(out.reduce((n, o) => n + o.len, 0), 65535);
  assert.equal(out.length, 45);
  assert.equal(out[44]!.len, 65535 - 44 * 1460);
});
