/**
 * The options a SYN carries, negotiated (RFC 7323 window scale and
 * timestamps, RFC 2018 SACK-permitted, the MSS): what the peer offered meets
 * what we offer, once, when its SYN arrives. A file of its own because
 * three places need it: a listener answering a SYN (handshake.ts), a SYN-ACK
 * arriving in SYN-SENT (input.ts), and the SYN cookies' window scale
 * (layer.ts); none of them has to import another for it.
 */
import type { TcpOptions } from '../../../wire/tcp.js';
import { Scoreboard } from './scoreboard.js';
import { State } from './state.js';
import type { Tcb } from './tcb.js';

/** Adopts what the peer's SYN offered (RFC 7323 §2.2, §3.2; RFC 2018 §2). */
export function negotiate(t: Tcb, o: TcpOptions): void {
  const c = t.host.config;
  const ourMss = Math.min(t.host.mssTo(t.remoteIp), t.options.maxSegment || Infinity);
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
