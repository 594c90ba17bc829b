/**
 * Opening a connection: the active open's SYN, a listener's answer to a SYN
 * (RFC 9293 §3.10.7.2), a connection rebuilt from a returning SYN cookie,
 * and the moment the handshake completes. The options the SYNs carry are
 * negotiated in options.ts; the handshake's segments arriving (SYN-SENT and
 * SYN-RECEIVED input) are in input.ts with the rest of segment arrival.
 */
import type { TcpOptions, TcpSegment } from '../../../wire/tcp.js';
import type { ListenerHook } from './host.js';
import { negotiate, windowShift } from './options.js';
import * as sender from './sender.js';
import { add } from './seq.js';
import { State } from './state.js';
import type { Tcb } from './tcb.js';

const NONE = Infinity;

/** Sends the SYN of an active open. */
export function open(t: Tcb): void {
  t.state = State.SynSent;
  t.rcvShift = t.host.config.windowScaling ? windowShift(t.options.recvBufferSize, t.host.config.recvBufferMax) : 0;
  sender.sendSyn(t);
}

/** A SYN arrived at a listener: answer with SYN-ACK (RFC 9293 §3.10.7.2). */
export function accept(t: Tcb, seg: TcpSegment, listener: ListenerHook<Tcb>): void {
  t.listener = listener;
  t.state = State.SynReceived;
  t.irs = seg.seq;
  t.rcvNxt = add(seg.seq, 1);
  negotiate(t, seg.options);
  t.sndWnd = seg.window; // never scaled in a SYN (RFC 7323 §2.2)
  t.sndWl1 = seg.seq;
  t.sndWl2 = t.iss;
  sender.sendSyn(t);
}

/**
 * A SYN cookie came back (layer.openFromCookie): SYN-RECEIVED as if our
 * SYN-ACK (sequence `iss`, the window of a fresh buffer) had been kept, so
 * `input` completes the handshake with the ACK.
 */
export function acceptCookie(t: Tcb, seg: TcpSegment, listener: ListenerHook<Tcb>, iss: number, offered: TcpOptions): void {
  t.listener = listener;
  t.state = State.SynReceived;
  t.iss = t.sndUna = t.sndSml = t.sndWl2 = iss;
  t.sndNxt = t.sndMax = add(iss, 1);
  t.irs = t.sndWl1 = add(seg.seq, -1);
  t.rcvNxt = seg.seq;
  negotiate(t, offered);
  t.rcvAdv = add(t.rcvNxt, Math.min(t.receiveWindow(), 0xffff));
  t.lastAckSent = t.rcvNxt;
}

/** The handshake completed: ESTABLISHED, and whoever waits for it learns so. */
export function established(t: Tcb, seg: TcpSegment): void {
  t.state = State.Established;
  t.sndWl1 = seg.seq;
  t.sndWl2 = seg.ack;
  // RFC 6298 §5.7: a retransmitted SYN (or SYN-ACK) means data starts from a 3 s RTO, unless a sample comes.
  if (t.retries > 0) t.rtt.resetBackoff();
  t.retries = 0;
  t.rtoAt = NONE;
  t.cc.start(t.mss, t.host.clock.now());
  t.touchKeepAlive();
  if (t.opening) {
    const { resolve } = t.opening;
    t.opening = null;
    resolve(t);
  } else if (t.listener) {
    t.listener.ready(t);
  }
  // A close() or shutdown() may have come before the handshake finished.
  if (t.finSeq !== -1 && t.state === State.Established) t.state = State.FinWait1;
}
