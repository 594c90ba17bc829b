/**
 * When to acknowledge in-order data at once and when to delay (RFC 9293
 * §3.8.6.3 allows either within 500 ms), the way Linux decides: a connection
 * starts in quick-ACK mode, acknowledging its first segments at once so the
 * sender's slow start is not held back by delayed ACKs (tcp_incr_quickack,
 * up to 16 ACKs); the mode comes back after the sender fell silent for longer
 * than an RTO. A connection that answers data with data (request/response)
 * is in "ping-pong" mode, where a delayed ACK can ride on the reply; it
 * leaves that mode when the delayed-ACK timer fires with nothing to carry it.
 */
import type { Tcb } from './tcb.js';

/** In-order data arrived at `now`: enters quick-ACK mode at the first data and after a long silence (tcp_event_data_recv). */
export function onDataReceived(t: Tcb, now: number): void {
  if (t.lastDataIn < 0 || now - t.lastDataIn > t.rtt.rto) enterQuickAck(t);
  t.lastDataIn = now;
}

/** tcp_incr_quickack: one quick ACK per two segments the window holds, at least 2, at most TcpConfig.quickAcks. */
export function enterQuickAck(t: Tcb): void {
  const n = Math.min(t.host.config.quickAcks, Math.max(2, Math.floor(t.receiveWindow() / (2 * t.mss))));
  if (n > t.quickAcks) t.quickAcks = n;
}

/** Whether the data just received is to be acknowledged now (tcp_in_quickack_mode). */
export function ackNow(t: Tcb): boolean {
  return t.quickAcks > 0 && !t.pingpong;
}

/** An ACK of new data went out: one quick ACK fewer (tcp_dec_quickack_mode). */
export function onAckSent(t: Tcb): void {
  if (t.quickAcks > 0) t.quickAcks--;
}

/** Data went out at `now`: a reply within the delayed-ACK time to data received makes the connection interactive (tcp_event_data_sent). */
export function onDataSent(t: Tcb, now: number): void {
  if (t.lastDataIn >= 0 && t.lastDataOut < t.lastDataIn && now - t.lastDataIn < t.host.config.delayedAckMs) t.pingpong = true;
  t.lastDataOut = now;
}

/** The delayed-ACK timer fired with an ACK owed: no reply carried it, so the connection is not interactive after all. */
export function onDelayedAckTimer(t: Tcb): void {
  t.pingpong = false;
}
