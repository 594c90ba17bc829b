/**
 * The ACKs a bad segment draws, and how often: challenge ACKs (RFC 5961
 * §3.2, §4.2, §5.2) and the answers to segments outside the window or
 * failing PAWS, throttled per connection as Linux throttles them
 * (tcp_invalid_ratelimit) and across the stack (tcp_challenge_ack_limit,
 * RFC 5961 §7).
 */
import { FIN, SYN, type TcpSegment } from '../../../wire/tcp.js';
import { sendAck } from './sender.js';
import type { Tcb } from './tcb.js';

/**
 * RFC 5961 §7: a challenge ACK goes at most once per tcp_invalid_ratelimit on
 * the connection, then within the stack-wide per-second budget (Linux's
 * tcp_send_challenge_ack checks both, in that order).
 */
export function challengeAck(t: Tcb): void {
  t.host.counters.add('tcp.challenge-ack');
  if (!oowAllowed(t)) return;
  if (!t.host.challengeAllowed()) return t.host.counters.add('tcp.challenge-ack-limited');
  sendAck(t);
}

/**
 * The answer to a segment outside the window (or failing PAWS): a SYN gets a
 * challenge ACK (RFC 5961 §4.2, whatever its sequence number); anything else
 * an ACK of RCV.NXT, rate-limited as Linux limits it.
 */
export function oowAck(t: Tcb, seg: TcpSegment): void {
  if (seg.flags & SYN) return challengeAck(t);
  if (oowAllowed(t, seg)) sendAck(t);
}

/**
 * Linux's tcp_oow_rate_limited (RFC 5961 §7's throttling, applied to every
 * ACK a bad segment draws): at most one per tcp_invalid_ratelimit (500 ms)
 * per connection, so blind or looping segments cannot make us send ACKs
 * that the peer would count as duplicates. A segment carrying data or a FIN
 * is exempt, unless it is a SYN: such segments are not part of an ACK loop,
 * and the sender of a retransmission needs the ACK.
 */
export function oowAllowed(t: Tcb, seg?: TcpSegment): boolean {
  if (seg && (seg.payload.length > 0 || seg.flags & FIN) && !(seg.flags & SYN)) return true;
  const now = Math.floor(t.host.clock.now());
  if (t.lastOowAck >= 0 && now - t.lastOowAck < t.host.config.invalidRateLimitMs) {
    t.host.counters.add('tcp.oow-ack-limited');
    return false;
  }
  t.lastOowAck = now;
  return true;
}
