/**
 * Opening a connection: the active open's SYN, a listener's answer to a SYN
 * (RFC 9293 §3.10.7.2), a connection rebuilt from a returning SYN cookie,
 * and adopting the options the peer's SYN offered (RFC 7323, RFC 2018). The
 * handshake's remaining steps (SYN-SENT and SYN-RECEIVED input) are in
 * tcb.ts with the rest of segment arrival.
 */
import type { TcpOptions, TcpSegment } from '../../../wire/tcp.js';
import type { UserListener } from './listener.js';
import { Scoreboard } from './scoreboard.js';
import * as sender from './sender.js';
import { add } from './seq.js';
import { State } from './state.js';
import type { Tcb } from './tcb.js';

/** Sends the SYN of an active open. */
export function open(t: Tcb): void {
  t.state = State.SynSent;
  t.rcvShift = t.layer.config.windowScaling ? windowShift(t.options.recvBufferSize, t.layer.config.recvBufferMax) : 0;
  sender.sendSyn(t);
}

/** A SYN arrived at a listener: answer with SYN-ACK (RFC 9293 §3.10.7.2). */
export function accept(t: Tcb, seg: TcpSegment, listener: UserListener): void {
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
export function acceptCookie(t: Tcb, seg: TcpSegment, listener: UserListener, iss: number, offered: TcpOptions): void {
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

/** Adopts what the peer's SYN offered (RFC 7323 §2.2, §3.2; RFC 2018 §2). */
export function negotiate(t: Tcb, o: TcpOptions): void {
  const c = t.layer.config;
  const route = t.layer.ip.route(t.remoteIp);
  const ourMss = Math.min(c.mss, (route?.mtu ?? 576) - 40, t.options.maxSegment || Infinity);
  t.mss = Math.max(64, Math.min(o.mss ?? 536, ourMss));
  if (c.windowScaling && o.windowScale !== undefined) {
    t.sndShift = Math.min(o.windowScale, 14);
    if (t.state !== State.SynSent) t.rcvShift = windowShift(t.options.recvBufferSize, c.recvBufferMax);
  } else {
    t.sndShift = 0;
    t.rcvShift = 0;
  }
  t.tsOk = c.timestamps && o.timestamp !== undefined;
  if (t.tsOk) {
    t.tsRecent = o.timestamp!.value;
    t.mss -= 12; // the timestamp option rides on every segment
  }
  t.sackOk = c.sack && o.sackPermitted === true;
  if (t.sackOk) t.scoreboard = new Scoreboard();
}

/**
 * Window scale (RFC 7323 §2.3) as Linux picks it (tcp_select_initial_window): the smallest
 * that lets the largest the buffer may grow to (tcp_rmem's maximum, or the buffer itself if
 * larger) be advertised. Linux's 6 MiB maximum gives 7; packetdrill's 15 MiB gives 8.
 */
export function windowShift(recvBufferSize: number, recvBufferMax: number): number {
  const space = Math.max(recvBufferSize, recvBufferMax);
  let shift = 0;
  while (shift < 14 && space > 0xffff * 2 ** shift) shift++;
  return shift;
}
