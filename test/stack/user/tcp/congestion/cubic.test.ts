/**
 * CUBIC on its own (no connection): the figures Linux's tcp_cubic.c gives and
 * the packetdrill scripts in ../shared/packetdrill/tcp/{cubic,slow_start,
 * fast_recovery} pin down, counted in segments of 1000 bytes.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { INFINITE_SSTHRESH, type CongestionController } from '../../../../../src/stack/user/tcp/congestion/index.js';
import { Cubic } from '../../../../../src/stack/user/tcp/congestion/cubic.js';
import { HyStart } from '../../../../../src/stack/user/tcp/congestion/hystart.js';

const MSS = 1000;

function started(): CongestionController {
  const c = new Cubic(10);
  c.start(MSS, 0);
  return c;
}

/** Sends `n` segments at `now` on top of `flight` bytes already out; returns the new flight. */
function send(c: CongestionController, now: number, flight: number, n: number): number {
  for (let i = 0; i < n; i++) c.onSend(now, MSS, (flight += MSS));
  return flight;
}

test('CUBIC: IW10 whatever the MSS, and an idle connection carries no state beyond the window', () => {
  const c = started();
  assert.equal(c.cwnd, 10 * MSS);
  assert.equal(c.ssthresh, INFINITE_SSTHRESH);
  assert.equal((c as unknown as { st: unknown }).st, null, 'no CUBIC or HyStart state before data moves');
});

test('slow start grows one segment per segment ACKed only while cwnd-limited (tcp_is_cwnd_limited)', () => {
  // Five segments out of a window of ten: not limited, and 10 < 2·5 is false: no growth.
  const a = started();
  let f = send(a, 0, 0, 5);
  a.onAck(100, 2 * MSS, 100, f);
  f -= 2 * MSS;
  assert.equal(a.cwnd, 10 * MSS);
  // Nine out: 10 < 2·9, so the window may grow to twice what was used, and no further.
  const b = started();
  f = send(b, 0, 0, 9);
  for (let i = 0; i < 4; i++, f -= 2 * MSS) b.onAck(100 + i, 2 * MSS, 100, f);
  assert.equal(b.cwnd, 18 * MSS);
  b.onAck(105, MSS, 100, f);
  assert.equal(b.cwnd, 18 * MSS);
  // A full window: a stretch ACK for four segments adds four (no RFC 3465 L = 2 cap).
  const c = started();
  f = send(c, 0, 0, 10);
  c.onAck(100, 4 * MSS, 100, f);
  assert.equal(c.cwnd, 14 * MSS);
});

test('loss: ssthresh = 0.7·cwnd, and PRR sends one segment per segment delivered while pipe is at ssthresh (prr-ss-10pkt-lost-1)', () => {
  const c = started();
  let f = send(c, 0, 0, 10);
  // Three SACKed, one lost: pipe 6 segments, the third SACK delivered one.
  c.onLoss(110, f, true, MSS, 6 * MSS);
  assert.equal(c.ssthresh, 7 * MSS);
  assert.equal(c.cwnd, 7 * MSS, 'pipe 6 + the fast retransmit');
  f = send(c, 110, f, 1); // the retransmission
  c.onRecoveryAck(120, 0, MSS, 6 * MSS);
  assert.equal(c.cwnd, 7 * MSS, 'one more may go');
  c.onRecoveryEnd(200, 6 * MSS);
  assert.equal(c.cwnd, 7 * MSS, 'recovery ends at ssthresh');
});

test('PRR proportional part: with pipe above ssthresh, sends ssthresh/RecoverFS of what is delivered (RFC 6937)', () => {
  const c = started();
  const f = send(c, 0, 0, 10);
  c.onLoss(110, f, true, MSS, 9 * MSS); // pipe 9 > ssthresh 7
  assert.equal(c.cwnd, 10 * MSS, 'ceil(7·1/10) = 1 segment: the fast retransmit');
  c.onSend(110, MSS, f);
  c.onRecoveryAck(111, 0, MSS, 8 * MSS);
  assert.equal(c.cwnd, 9 * MSS, 'ceil(7·2/10) − 1 = 1 more');
  c.onRecoveryAck(112, 0, MSS, 7 * MSS);
  assert.equal(c.cwnd, 7 * MSS, 'pipe is down to ssthresh: the reduction bound lets nothing more go');
});

test('timeout: cwnd one segment, ssthresh 0.7·cwnd, kept on a backed-off timeout', () => {
  const c = started();
  send(c, 0, 0, 1);
  c.onRto(300, MSS, true);
  assert.equal(c.cwnd, MSS);
  assert.equal(c.ssthresh, 7 * MSS);
  c.onRto(900, MSS, false);
  assert.equal(c.ssthresh, 7 * MSS, 'a backed-off timeout keeps ssthresh');
});

test('congestion avoidance after a loss: W_max is remembered, growth never exceeds one segment per two ACKed', () => {
  const c = started();
  let f = send(c, 0, 0, 10);
  c.onLoss(100, f, true, MSS, 6 * MSS);
  c.onRecoveryEnd(200, 0);
  f = 0;
  assert.equal(c.cwnd, 7 * MSS);
  // Ten rounds of a full window, one ACK per segment, 100 ms apart: growth concave towards W_max = 10.
  let now = 200;
  for (let round = 0; round < 10; round++) {
    const w = c.cwnd / MSS;
    f = send(c, now, f, w - f / MSS);
    now += 100;
    const before = c.cwnd;
    for (let i = 0; i < w; i++, f -= MSS) c.onAck(now, MSS, 100, f);
    assert.ok(c.cwnd - before <= (w / 2) * MSS, `round ${round}: at most 1.5× per round`);
  }
  assert.ok(c.cwnd >= 10 * MSS, `back at W_max after 10 rounds: ${c.cwnd / MSS}`);
});

test('HyStart: 8 samples in a round all 12.5% above the minimum RTT end slow start; an ACK train over half the RTT too', () => {
  const h = new HyStart();
  h.minRtt = 200;
  h.reset(0, 0);
  let found = false;
  for (let i = 0; i < 9 && !found; i++) found = h.update(1000 + 10 * i, 240, 1000 + i, 20_000);
  assert.ok(found, 'delay: 240 > 200 + 16');
  const q = new HyStart();
  q.minRtt = 200;
  q.reset(0, 0);
  for (let i = 0; i < 9; i++) assert.equal(q.update(1000 + 10 * i, 210, 1000 + i, 20_000), false, '210 < 200 + 16: no exit');
  const t = new HyStart();
  t.minRtt = 100;
  t.reset(0, 100);
  t.update(500, 100, 1, 20_000); // a new round at 500
  let train = false;
  for (let ms = 501; ms <= 560 && !train; ms++) train = t.update(ms, 100, 2 + ms, 20_000);
  assert.ok(train, 'ACKs 1 ms apart for more than 50 ms');
});

test('HyStart send clock: an ACK is timed from when the last byte it covers left', () => {
  const h = new HyStart();
  h.sent(0, 2000);
  h.sent(5, 4000);
  h.sent(9, 6000);
  assert.equal(h.sample(100, 2000), 100);
  assert.equal(h.sample(110, 4000), 105);
  assert.equal(h.sample(120, 5000), 111, 'inside the last mark');
  h.forget(6000);
  assert.equal(h.sample(130, 6000), -1, 'forgotten: no sample');
});
