/**
 * The congestion controllers on their own, without a connection: the
 * window each hook leaves, with the figures the segment-level tests in
 * tcp-congestion.test.ts and tcp-sack.test.ts see through a TCB.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { DEFAULT_TCP } from '../../../../../src/stack/user/tcp/config.js';
import { createController, INFINITE_SSTHRESH, MAX_WINDOW, type CongestionController } from '../../../../../src/stack/user/tcp/congestion/index.js';
import { Cubic } from '../../../../../src/stack/user/tcp/congestion/cubic.js';
import { NewReno } from '../../../../../src/stack/user/tcp/congestion/newreno.js';
import { NoCongestionControl } from '../../../../../src/stack/user/tcp/congestion/none.js';

const MSS = 1460;

/** A NewReno after the handshake, seen as the sender sees it: through the interface. */
function started(): CongestionController {
  const c: CongestionController = new NewReno(10);
  c.start(MSS, 0);
  return c;
}

test('TcpConfig.congestionControl picks the controller: CUBIC by default, a NewReno per connection, one shared stateless none', () => {
  assert.ok(createController({ ...DEFAULT_TCP }) instanceof Cubic, 'CUBIC is the default, as on Linux');
  const a = createController({ ...DEFAULT_TCP, congestionControl: 'newreno' });
  const b = createController({ ...DEFAULT_TCP, congestionControl: 'newreno' });
  assert.ok(a instanceof NewReno);
  assert.notEqual(a, b, 'each connection has its own window');
  const n = createController({ ...DEFAULT_TCP, congestionControl: 'none' });
  assert.ok(n instanceof NoCongestionControl);
  assert.equal(n, createController({ ...DEFAULT_TCP, congestionControl: 'none' }));
});

test('NewReno: the initial window (RFC 6928), slow start by at most 2·MSS per ACK (RFC 3465), no ssthresh before a loss', () => {
  const c = started();
  assert.equal(c.cwnd, 14600);
  assert.equal(c.ssthresh, INFINITE_SSTHRESH);
  c.onAck(0, 10 * MSS, -1, 10 * MSS);
  assert.equal(c.cwnd, 14600 + 2 * MSS);
  c.onAck(0, 100, -1, 100);
  assert.equal(c.cwnd, 14600 + 2 * MSS + 100);
});

test('NewReno: fast recovery halves the flight, inflates per duplicate, deflates on a partial ACK, ends at min(ssthresh, flight + MSS)', () => {
  const c = started();
  c.onLoss(0, 12 * MSS, false, MSS, 0);
  assert.equal(c.ssthresh, 6 * MSS);
  assert.equal(c.cwnd, 9 * MSS, 'ssthresh + 3·MSS');
  c.onRecoveryAck(0, 0, MSS, 12 * MSS);
  assert.equal(c.cwnd, 10 * MSS);
  c.onRecoveryAck(0, 2 * MSS, 2 * MSS, 10 * MSS);
  assert.equal(c.cwnd, 9 * MSS, 'less what was acknowledged, plus one');
  c.onRecoveryEnd(0, MSS);
  assert.equal(c.cwnd, 2 * MSS);
  // Congestion avoidance from here on: one MSS per window of data acknowledged.
  c.onAck(0, 4 * MSS, -1, 4 * MSS);
  assert.equal(c.cwnd, 4 * MSS, 'slow start below ssthresh');
  c.onAck(0, 2 * MSS, -1, 2 * MSS);
  assert.equal(c.cwnd, 6 * MSS);
  c.onAck(0, 5 * MSS, -1, 5 * MSS);
  assert.equal(c.cwnd, 6 * MSS, 'not a whole window acknowledged yet');
  c.onAck(0, MSS, -1, MSS);
  assert.equal(c.cwnd, 7 * MSS);
});

test('NewReno with SACK: the window is ssthresh through recovery, whatever the duplicates (pipe replaces inflation)', () => {
  const c = started();
  c.onLoss(0, 12 * MSS, true, 0, 0);
  assert.equal(c.cwnd, 6 * MSS);
  c.onRecoveryAck(0, 0, MSS, 11 * MSS);
  c.onRecoveryAck(0, 3 * MSS, 4 * MSS, 7 * MSS);
  assert.equal(c.cwnd, 6 * MSS);
});

test('NewReno: a timeout leaves one segment; ssthresh halves only on the first timeout of a segment (RFC 5681 eq. 4)', () => {
  const c = started();
  c.onRto(0, 8 * MSS, true);
  assert.equal(c.cwnd, MSS);
  assert.equal(c.ssthresh, 4 * MSS);
  c.onRto(0, MSS, false);
  assert.equal(c.ssthresh, 4 * MSS, 'a backed-off timeout keeps it');
  c.onRto(0, 2 * MSS, true);
  assert.equal(c.ssthresh, 2 * MSS, 'never below 2·MSS');
});

test('NewReno: a lower MSS (path MTU) is the unit from then on', () => {
  const c = started();
  c.setMss(1000);
  c.onRto(0, 10_000, true);
  assert.equal(c.cwnd, 1000);
  assert.equal(c.ssthresh, 5000);
});

test('none: the window stays unbounded whatever happens, so only the peer window limits', () => {
  const c: CongestionController = new NoCongestionControl();
  c.start(MSS, 0);
  c.onAck(0, 10 * MSS, 10, 10 * MSS);
  c.onLoss(0, 20 * MSS, true, 0, 0);
  c.onRto(0, 20 * MSS, true);
  assert.equal(c.cwnd, MAX_WINDOW);
  assert.equal(c.ssthresh, INFINITE_SSTHRESH);
});
