/**
 * Selective acknowledgment segment by segment: the blocks our ACKs carry
 * (RFC 2018 §3–4) and SACK-based loss recovery as a sender (RFC 6675).
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { brief, expectSeg, Harness, pattern, readAll, type Offer } from './harness.js';

async function established(offer: Offer = { mss: 1460, sack: true }, tcp = {}) {
  const h = new Harness({ tcp });
  const { conn } = await h.activeOpen(offer);
  return { h, conn };
}

/** The peer's data segment of 1460 bytes numbered n (1-based): [1 + (n−1)·1460, 1 + n·1460). */
function seg(h: Harness, n: number, len = 1460): void {
  h.send({ flags: '.', seq: 1 + (n - 1) * 1460, ack: 1, data: len });
}

const S = (n: number) => 1 + (n - 1) * 1460;

test('RFC 2018 §4: an out-of-order segment is ACKed at once with RCV.NXT and a SACK block covering it', async () => {
  const { h } = await established();
  seg(h, 2);
  const ack = h.one();
  expectSeg(ack, { flags: '.', seq: 1, ack: 1, sack: [[S(2), S(3)]] });
});

test('RFC 2018 §4: the first block is the one holding the segment that triggered the ACK, then the most recent others', async () => {
  const { h } = await established();
  seg(h, 2);
  seg(h, 4);
  seg(h, 6);
  const out = h.take();
  assert.deepEqual(out[1]!.sack, [[S(4), S(5)], [S(2), S(3)]]);
  assert.deepEqual(out[2]!.sack, [[S(6), S(7)], [S(4), S(5)], [S(2), S(3)]]);
  // Part of segment 3 joins the block of segment 2: that block comes first now.
  h.send({ flags: '.', seq: S(3), ack: 1, data: 500 });
  expectSeg(h.one(), { ack: 1, sack: [[S(2), S(3) + 500], [S(6), S(7)], [S(4), S(5)]] });
});

test('RFC 2018 §4: adjacent out-of-order segments are reported as one block', async () => {
  const { h } = await established();
  seg(h, 2);
  seg(h, 3);
  const out = h.take();
  assert.deepEqual(out[1]!.sack, [[S(2), S(4)]]);
});

test('RFC 2018 §3: without timestamps an ACK carries at most 4 blocks', async () => {
  const { h } = await established();
  for (const n of [2, 4, 6, 8, 10]) seg(h, n);
  const last = h.take().pop()!;
  assert.deepEqual(last.sack, [[S(10), S(11)], [S(8), S(9)], [S(6), S(7)], [S(4), S(5)]]);
});

test('RFC 2018 §3: next to timestamps an ACK carries at most 3 blocks (40 bytes of options)', async () => {
  const { h } = await established({ mss: 1460, sack: true, ts: true });
  for (const n of [2, 4, 6, 8]) seg(h, n);
  const last = h.take().pop()!;
  assert.deepEqual(last.sack, [[S(8), S(9)], [S(6), S(7)], [S(4), S(5)]]);
  assert.ok(last.options.timestamp);
  assert.equal(last.bytes[12]! >> 4, 15, 'a 60-byte header: 12 of timestamps, 28 of SACK');
});

test('RFC 2018 §3: the SACK option is laid out NOP NOP kind 5, length 2 + 8n, then the edges', async () => {
  const { h } = await established();
  seg(h, 2);
  const ack = h.one();
  const left = (h.peerIsn + S(2)) >>> 0;
  const right = (h.peerIsn + S(3)) >>> 0;
  const be = (v: number) => [v >>> 24, (v >>> 16) & 0xff, (v >>> 8) & 0xff, v & 0xff];
  assert.deepEqual([...ack.bytes.subarray(20, 32)], [1, 1, 5, 10, ...be(left), ...be(right)]);
});

test('RFC 2018 §4: once the hole is filled the ACK covers everything and carries no SACK option', async () => {
  const { h, conn } = await established();
  seg(h, 2);
  seg(h, 3);
  h.take();
  seg(h, 1);
  const ack = h.one();
  expectSeg(ack, { flags: '.', ack: S(4), sack: undefined });
  assert.deepEqual(readAll(conn), pattern(3 * 1460));
});

test('RFC 2018 §4: filling the first of two holes leaves the block beyond the second', async () => {
  const { h } = await established();
  seg(h, 2);
  seg(h, 4);
  h.take();
  seg(h, 1);
  expectSeg(h.one(), { ack: S(3), sack: [[S(4), S(5)]] });
});

test('RFC 2018 §2: no SACK option when the peer did not offer SACK-permitted', async () => {
  const { h } = await established({ mss: 1460 });
  seg(h, 2);
  const ack = h.one();
  expectSeg(ack, { ack: 1, sack: undefined });
  assert.deepEqual(ack.options, {});
});

test('RFC 2018 §4: a duplicate of a held out-of-order segment is ACKed at once with the same block', async () => {
  const { h } = await established();
  seg(h, 2);
  seg(h, 2);
  const out = h.take();
  assert.equal(out.length, 2);
  assert.deepEqual(out[1]!.sack, [[S(2), S(3)]]);
});

// ---- the sending side ----

/** Ten segments (the initial window) in flight to a SACK peer, with more data queued. */
async function sending() {
  // RFC 6675's figures (cwnd = ssthresh = FlightSize/2) are NewReno's; CUBIC's PRR is tested in tcp-cubic.test.ts.
  const { h, conn } = await established(undefined, { congestionControl: 'newreno' });
  conn.write(pattern(40_000));
  assert.equal(h.take().length, 10);
  return { h, conn };
}

function dup(h: Harness, sack: Array<[number, number]>, ack = 1): string[] {
  h.send({ flags: '.', seq: 1, ack, sack });
  return brief(h.take());
}

test('RFC 6675 §5: segments 1 and 3 lost: recovery retransmits only the holes the SACK blocks reveal, new data as pipe allows', async () => {
  const { h } = await sending();
  // Limited transmit on the first two duplicates (RFC 3042).
  assert.deepEqual(dup(h, [[S(2), S(3)]]), ['. 14601:1 1460']);
  assert.deepEqual(dup(h, [[S(4), S(5)], [S(2), S(3)]]), ['. 16061:1 1460']);
  // Third duplicate: segment 1 is lost (4380 bytes SACKed above it); cwnd = ssthresh = 17520 / 2.
  assert.deepEqual(dup(h, [[S(4), S(6)], [S(2), S(3)]]), ['. 1:1 1460']);
  const t = h.tcb();
  assert.equal(t.ssthresh, 8760);
  assert.equal(t.cwnd, 8760);
  // pipe (RFC 6675 §4) stays ≥ cwnd for two more ACKs.
  assert.deepEqual(dup(h, [[S(4), S(7)], [S(2), S(3)]]), []);
  assert.deepEqual(dup(h, [[S(4), S(8)], [S(2), S(3)]]), []);
  // Segment 3 is now deemed lost and there is room: it goes, and only it.
  assert.deepEqual(dup(h, [[S(4), S(9)], [S(2), S(3)]]), ['. 2921:1 1460']);
  // Then new data, one segment per segment SACKed.
  assert.deepEqual(dup(h, [[S(4), S(10)], [S(2), S(3)]]), ['. 17521:1 1460']);
  assert.deepEqual(dup(h, [[S(4), S(11)], [S(2), S(3)]]), ['. 18981:1 1460']);
  // A partial ACK (segment 1 arrived) keeps recovery going; pipe is segment 3 and the two new ones: room for three more.
  assert.deepEqual(dup(h, [[S(4), S(13)]], S(3)), ['. 20441:1 1460', '. 21901:1 1460', '. 23361:1 1460']);
  assert.equal(t.inRecovery, true);
  // The full ACK beyond the recovery point ends it.
  h.send({ flags: '.', seq: 1, ack: S(13) });
  assert.equal(t.inRecovery, false);
  const sent = h.log.filter((o) => o.at === 0).map((o) => o.seq);
  for (const n of [2, 4, 5, 6, 7, 8, 9, 10]) assert.equal(sent.filter((s) => s === S(n)).length, 1, `segment ${n} sent once`);
});

test('RFC 6675 §5 (IsLost): one duplicate ACK whose SACK covers more than 2·MSS above the hole starts recovery at once', async () => {
  const { h } = await sending();
  assert.deepEqual(dup(h, [[S(2), S(5)]]), ['. 1:1 1460']);
  assert.equal(h.tcb().inRecovery, true);
});

test('RFC 6675 §4 (IsLost): three discontiguous SACKed ranges above a hole mark it lost even when they hold under 2·MSS', async () => {
  const { h } = await sending();
  const part = (n: number): [number, number] => [S(n), S(n) + 500];
  // Window changes keep these two from counting as duplicate ACKs (RFC 5681 §2).
  h.send({ flags: '.', seq: 1, ack: 1, sack: [part(2)], window: 65534 });
  h.send({ flags: '.', seq: 1, ack: 1, sack: [part(4), part(2)], window: 65533 });
  assert.equal(h.tcb().inRecovery, false, 'two ranges, 1000 bytes: nothing lost yet');
  assert.equal(h.counter('tcp.fast-retransmit'), 0);
  h.take();
  // The first duplicate ACK, with a third range: 1500 bytes SACKed, but three ranges.
  h.send({ flags: '.', seq: 1, ack: 1, sack: [part(6), part(4), part(2)], window: 65533 });
  assert.deepEqual(brief(h.take()), ['. 1:1 1460']);
  assert.equal(h.tcb().inRecovery, true);
});

test('RFC 2018 §8: SACK blocks beyond what we sent are ignored: they neither start recovery nor mark anything (nor count as a duplicate, RFC 6675 §2)', async () => {
  const { h } = await sending();
  assert.deepEqual(dup(h, [[S(20), S(25)]]), []);
  assert.equal(h.tcb().inRecovery, false);
  assert.equal(h.tcb().scoreboard!.ranges.length, 0);
});

test('RFC 6675 §2: with SACK, duplicate ACKs that SACK nothing new are not duplicates: three bare ones, or three repeating a block, start no recovery', async () => {
  const { h } = await sending();
  for (let i = 0; i < 3; i++) h.send({ flags: '.', seq: 1, ack: 1 });
  h.none('no limited transmit, no fast retransmit');
  assert.deepEqual(dup(h, [[S(2), S(3)]]), ['. 14601:1 1460'], 'new SACK information: a duplicate (limited transmit)');
  assert.deepEqual(dup(h, [[S(2), S(3)]]), []);
  assert.deepEqual(dup(h, [[S(2), S(3)]]), []);
  assert.equal(h.tcb().dupAcks, 1);
  assert.equal(h.counter('tcp.fast-retransmit'), 0);
});

test('RFC 6675 §5.1: after a timeout the go-back-N resend skips what the receiver SACKed', async () => {
  const { h } = await sending();
  // Segment 3 SACKed (one duplicate, no recovery), then nothing: the RTO fires.
  dup(h, [[S(3), S(4)]]);
  h.advance(1000);
  assert.deepEqual(brief(h.take()), ['. 1:1 1460']);
  h.advance(10);
  h.send({ flags: '.', seq: 1, ack: S(2), sack: [[S(3), S(4)]] });
  assert.deepEqual(brief(h.take()), ['. 1461:1 1460']);
  // Segment 2 fills the hole before the SACKed segment 3: the ACK jumps past it, and 3 is never resent.
  h.send({ flags: '.', seq: 1, ack: S(4) });
  // Slow start: cwnd 2920 + 2920 acknowledged = 4 segments.
  assert.deepEqual(brief(h.take()), ['. 4381:1 1460', '. 5841:1 1460', '. 7301:1 1460', '. 8761:1 1460']);
  assert.equal(h.log.filter((o) => o.at > 0 && o.seq === S(3)).length, 0);
});

test('RFC 6675: a SACK peer gets no NewReno inflation: further duplicates in recovery send nothing while pipe ≥ cwnd', async () => {
  const { h } = await sending();
  dup(h, [[S(2), S(5)]]);
  assert.deepEqual(dup(h, [[S(2), S(5)]]), []);
  assert.deepEqual(dup(h, [[S(2), S(5)]]), []);
  assert.equal(h.tcb().cwnd, 14600 / 2, 'cwnd = ssthresh, unchanged by duplicates');
});

test("Linux's tcp_check_sack_reneging: an ACK that stops where a SACKed range starts means the receiver dropped it: after max(SRTT/2, 10 ms) it is resent, not skipped", async () => {
  const { h } = await sending();
  dup(h, [[S(3), S(4)]]);
  // Segments 1 and 2 arrive; the receiver has pruned segment 3 from its queue (RFC 2018 §8 allows it).
  h.send({ flags: '.', seq: 1, ack: S(3) });
  h.take();
  h.advance(9);
  assert.ok(!h.take().some((o) => o.seq === S(3)), 'not before 10 ms');
  h.advance(1);
  assert.deepEqual(brief(h.take()), ['. 2921:1 1460']);
  assert.equal(h.counter('tcp.sack-reneging'), 1);
  assert.equal(h.tcb().scoreboard!.ranges.length, 0, 'the SACK marks are forgotten');
});
