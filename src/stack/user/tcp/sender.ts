/**
 * The sending half of a connection: building segments, what to send next
 * (Nagle, sender-side silly-window avoidance, window and cwnd limits), ACK
 * processing with loss recovery (RFC 5681 fast retransmit, RFC 6582 NewReno
 * when the peer has no SACK, RFC 6675 SACK-based recovery when it has), the
 * retransmission timer (RFC 6298), zero-window probes and keep-alives. How
 * large the congestion window is, the connection's controller decides
 * (congestion/): this file tells it what happened and reads `cwnd`.
 */
import { stackError } from '../../errors.js';
import { ACK, FIN, PSH, RST, SYN, type TcpOptions, type TcpSegment } from '../../../wire/tcp.js';
import * as delack from './delack.js';
import { add, diff, gt, le, lt, max, min } from './seq.js';
import { State } from './state.js';
import type { Scoreboard } from './scoreboard.js';
import type { Tcb } from './tcb.js';

const NONE = Infinity;
const EMPTY = new Uint8Array(0);

function tsNow(t: Tcb): number {
  return (Math.floor(t.host.clock.now()) + t.tsOffset) >>> 0;
}

/** Puts one segment on the wire with the current ACK, window and options. */
function transmit(t: Tcb, flags: number, seq: number, payload: Uint8Array, synOptions?: TcpOptions): void {
  let window: number;
  if (flags & SYN) {
    window = Math.min(t.receiveWindow(), 0xffff); // a SYN's window is never scaled
    t.rcvAdv = add(t.rcvNxt, window);
  } else {
    let right = add(t.rcvNxt, t.receiveWindow());
    // Receiver silly-window avoidance: move the right edge only by a useful amount, and never back.
    // A window opened all the way (nothing unread) is never silly, so it goes out whole.
    if (diff(right, t.rcvAdv) < Math.min(t.options.recvBufferSize / 2, t.mss) && t.recvBuf.readable > 0) right = t.rcvAdv;
    if (lt(right, t.rcvAdv)) right = t.rcvAdv;
    window = Math.min(0xffff, Math.max(0, diff(right, t.rcvNxt)) >>> t.rcvShift);
    const edge = add(t.rcvNxt, window << t.rcvShift);
    if (gt(edge, t.rcvAdv)) t.rcvAdv = edge;
  }
  const options: TcpOptions = synOptions ?? {};
  if (!synOptions) {
    if (t.tsOk) options.timestamp = { value: tsNow(t), echo: t.tsRecent };
    if (t.sackOk && t.recvBuf.hasPending) options.sack = t.recvBuf.sackBlocks(t.tsOk ? 3 : 4);
  }
  const ack = flags & ACK ? t.rcvNxt : 0;
  if (flags & ACK) {
    if (t.rcvNxt !== t.lastAckSent) delack.onAckSent(t);
    t.lastAckSent = t.rcvNxt;
    t.ackOwed = 0;
    t.ackAt = NONE;
  }
  const seg: TcpSegment = {
    srcPort: t.local.port,
    dstPort: t.remote.port,
    seq,
    ack,
    flags,
    window,
    urgent: 0,
    options,
    payload,
  };
  t.host.emit(t, seg);
}

/** SYN for an active open, SYN-ACK for a passive or simultaneous one (with the options the peer offered). */
export function sendSyn(t: Tcb): void {
  const c = t.host.config;
  const o: TcpOptions = { mss: Math.min(t.host.mssTo(t.remoteIp), t.options.maxSegment || Infinity) };
  const active = t.state === State.SynSent;
  if (active ? c.sack : t.sackOk) o.sackPermitted = true;
  if (active ? c.timestamps : t.tsOk) o.timestamp = { value: tsNow(t), echo: active ? 0 : t.tsRecent };
  if (active ? c.windowScaling : t.sndShift > 0 || t.rcvShift > 0) o.windowScale = t.rcvShift;
  transmit(t, active ? SYN : SYN | ACK, t.iss, EMPTY, o);
  t.sndNxt = add(t.iss, 1);
  if (gt(t.sndNxt, t.sndMax) || t.sndMax === t.iss) t.sndMax = t.sndNxt;
  t.rtoAt = t.host.clock.now() + t.rtt.rto;
  t.armTimer();
}

export function sendAck(t: Tcb): void {
  transmit(t, ACK, t.sndNxt, EMPTY);
}

export function sendReset(t: Tcb, seq: number): void {
  transmit(t, RST, seq, EMPTY);
}

/** The reset of an abort (close with unread data, SO_LINGER 0, an orphan receiving data): Linux's carries an ACK (tcp_send_active_reset). */
export function sendActiveReset(t: Tcb): void {
  transmit(t, RST | ACK, t.sndNxt, EMPTY);
}

/** Sends data (and the FIN, when it follows) at `seq`, retransmitted or new. */
function sendAt(t: Tcb, seq: number, len: number): number {
  const offset = diff(seq, t.sndUna);
  const dataLen = Math.max(0, Math.min(len, t.sendBuf.length - offset));
  const fin = t.finSeq !== -1 && add(seq, dataLen) === t.finSeq && len > dataLen;
  const payload = dataLen > 0 ? t.sendBuf.peek(offset, dataLen) : EMPTY;
  let flags = ACK;
  if (dataLen > 0 && offset + dataLen === t.sendBuf.length) flags |= PSH;
  if (fin) flags |= FIN;
  const sent = dataLen + (fin ? 1 : 0);
  const now = t.host.clock.now();
  if (lt(seq, t.sndMax)) {
    t.retransmits++;
    t.host.counters.add('tcp.retransmit');
    if (t.rttSeq !== -1 && !lt(t.rttSeq, seq)) t.rttSeq = -1; // Karn: a retransmitted segment is never timed
  } else if (!t.tsOk && t.rttSeq === -1) {
    t.rttSeq = seq;
    t.rttStart = now;
  }
  if (dataLen > 0) delack.onDataSent(t, now);
  if (t.sndUna === t.sndMax) t.headSentAt = now;
  transmit(t, flags, seq, payload);
  const end = add(seq, sent);
  if (dataLen < t.mss && dataLen > 0) t.sndSml = end;
  if (gt(end, t.sndMax)) t.sndMax = end;
  t.cc.onSend(now, sent, diff(t.sndMax, t.sndUna));
  if (t.rtoAt === NONE) t.rtoAt = now + t.rtt.rto;
  return sent;
}

/** Whether the state lets data and the FIN go out. */
function canSend(t: Tcb): boolean {
  const s = t.state;
  return s === State.Established || s === State.CloseWait || s === State.FinWait1 || s === State.Closing || s === State.LastAck;
}

/** Sends whatever the windows, Nagle and the recovery state allow now. */
export function output(t: Tcb): void {
  if (!canSend(t)) return;
  t.cc.preTransmit(t.host.clock.now());
  if (t.inRecovery && t.scoreboard) sackOutput(t);
  else plainOutput(t);
  if (t.ackOwed > 0 && t.ackAt === NONE) t.ackAt = t.host.clock.now() + t.host.config.delayedAckMs;
  t.armTimer();
}

/** Data in flight limited by min(cwnd, peer window): slow start, congestion avoidance, go-back-N after a timeout. */
function plainOutput(t: Tcb): void {
  for (;;) {
    if (t.scoreboard && lt(t.sndNxt, t.sndMax)) {
      // After a timeout: what the receiver SACKed need not go again.
      const end = t.scoreboard.sackedEnd(t.sndNxt);
      if (end !== null) {
        t.sndNxt = end;
        continue;
      }
    }
    const offset = diff(t.sndNxt, t.sndUna);
    const unsent = t.sendBuf.length - offset;
    const flight = offset;
    // Limited transmit (RFC 3042): each of the first two duplicate ACKs lets one new segment out,
    // so a small window still produces the three duplicates fast retransmit needs.
    const limited = t.dupAcks > 0 && t.dupAcks < 3 ? t.dupAcks * t.mss : 0;
    const room = Math.min(t.cc.cwnd + limited, t.sndWnd) - flight;
    if (unsent > 0) {
      let len = Math.min(t.mss, unsent, room);
      if (len <= 0) {
        if (t.sndWnd <= flight && t.sndUna === t.sndMax) startPersist(t);
        return;
      }
      const closing = t.finSeq !== -1;
      // Sender SWS avoidance (RFC 9293 §3.8.6.2.1), as Linux applies it: a window-limited piece
      // goes if it is at least half a segment (or half the peer's largest window), so a 32 KiB
      // window is filled to the byte instead of leaving 900 bytes unused every round trip.
      if (len < t.mss && len < unsent && flight > 0 && len < Math.min(t.mss, t.maxSndWnd) / 2) return;
      // Nagle (RFC 896) with Minshall's refinement, as Linux does: hold a small segment
      // only while an earlier small segment is unacknowledged.
      if (len < t.mss && len === unsent && lt(t.sndUna, t.sndSml) && !t.options.noDelay && !closing) return;
      if (closing && len === unsent) len += 1; // the FIN rides on the last segment
      t.sndNxt = add(t.sndNxt, sendAt(t, t.sndNxt, len));
      t.persistAt = NONE;
      continue;
    }
    if (t.finSeq !== -1 && t.sndNxt === t.finSeq) {
      t.sndNxt = add(t.sndNxt, sendAt(t, t.sndNxt, 1));
    }
    return;
  }
}

/** RFC 6675 §5 (C): while cwnd − pipe ≥ SMSS, send NextSeg(). */
function sackOutput(t: Tcb): void {
  const sb = t.scoreboard!;
  for (let guard = 0; guard < 1024; guard++) {
    const lost = sb.lostEdge(t.sndUna, t.mss);
    if (t.cc.cwnd - pipe(t, sb, lost) < t.mss) return;
    const from = max(t.highRxt, t.sndUna);
    // Rule 1: the first un-SACKed octet above HighRxt that is deemed lost.
    let hole = sb.hole(from, lost);
    if (hole) {
      retransmitHole(t, hole);
      continue;
    }
    // Rule 2: new data, if the receiver's window allows.
    const offset = diff(t.sndNxt, t.sndUna);
    const unsent = t.sendBuf.length - offset;
    const room = t.sndWnd - offset;
    if (unsent > 0 && room > 0) {
      let len = Math.min(t.mss, unsent, room);
      if (t.finSeq !== -1 && len === unsent) len += 1;
      t.sndNxt = add(t.sndNxt, sendAt(t, t.sndNxt, len));
      continue;
    }
    if (unsent <= 0 && t.finSeq !== -1 && t.sndNxt === t.finSeq) {
      t.sndNxt = add(t.sndNxt, sendAt(t, t.sndNxt, 1));
      continue;
    }
    // Rule 3: an un-SACKed octet below the highest SACKed one, lost or not.
    hole = sb.hole(from, sb.highSacked(t.sndUna));
    if (hole) {
      retransmitHole(t, hole);
      continue;
    }
    return;
  }
}

/** RFC 6675 §4's pipe: octets neither SACKed nor deemed lost, plus those sent again and not SACKed. */
function pipe(t: Tcb, sb: Scoreboard, lost: number): number {
  return sb.unsacked(max(lost, t.sndUna), t.sndMax) + sb.unsacked(t.sndUna, min(t.highRxt, t.sndMax));
}

/** Bytes still in the network during recovery: RFC 6675's pipe with SACK, else all that is outstanding. */
function recoveryPipe(t: Tcb): number {
  const sb = t.scoreboard;
  return sb ? pipe(t, sb, sb.lostEdge(t.sndUna, t.mss)) : diff(t.sndMax, t.sndUna);
}

function retransmitHole(t: Tcb, hole: [number, number]): void {
  const len = Math.min(t.mss, diff(hole[1], hole[0]));
  t.highRxt = add(hole[0], sendAt(t, hole[0], len));
}

/** Processes the acknowledgment field of an acceptable segment (RFC 9293 §3.10.7.4 step 5). */
export function onAck(t: Tcb, seg: TcpSegment, segLen: number): void {
  const ack = seg.ack;
  const now = t.host.clock.now();
  const window = seg.flags & SYN ? seg.window : seg.window << t.sndShift;
  const sacked = t.scoreboard !== null && seg.options.sack !== undefined ? t.scoreboard.update(seg.options.sack, t.sndUna, t.sndMax) : 0;
  const acked = diff(ack, t.sndUna);
  if (acked > 0) {
    newAck(t, seg, acked, now, sacked);
  } else if (acked === 0 && segLen === 0 && window === t.sndWnd && t.sndUna !== t.sndMax && (!t.scoreboard || sacked > 0)) {
    // With SACK, a duplicate ACK is one that SACKs octets not SACKed before (RFC 6675 §2): a bare
    // one says nothing about loss, and may be an answer to someone else's blind segment.
    duplicateAck(t, now, sacked);
  }
  if (lt(t.sndWl1, seg.seq) || (t.sndWl1 === seg.seq && le(t.sndWl2, ack))) {
    t.sndWnd = window;
    t.sndWl1 = seg.seq;
    t.sndWl2 = ack;
    if (window > t.maxSndWnd) t.maxSndWnd = window;
  }
  if (t.persistAt !== NONE) {
    t.retries = 0; // the peer answers our probes: it is alive, only its window is closed
    if (t.sndWnd > 0) {
      t.persistAt = NONE;
      t.persistBackoff = 0;
    }
  }
}

/** `sacked`: octets this ACK SACKed that no SACK covered before. */
function newAck(t: Tcb, seg: TcpSegment, acked: number, now: number, sacked: number): void {
  const ack = seg.ack;
  const ts = seg.options.timestamp;
  const flight = diff(t.sndMax, t.sndUna);
  // RTT: from the echoed timestamp when there is one (RFC 7323 §4), else Karn's timed segment.
  let rtt = -1;
  if (t.tsOk && ts && ts.echo !== 0) {
    const r = (tsNow(t) - ts.echo) | 0;
    if (r >= 0 && r < 3_600_000) t.rtt.sample((rtt = r));
  } else if (t.rttSeq !== -1 && gt(ack, t.rttSeq)) {
    t.rtt.sample((rtt = now - t.rttStart));
    t.rttSeq = -1;
  }
  let data = acked;
  if (t.sndUna === t.iss) data--; // our SYN
  const finAcked = t.finSeq !== -1 && gt(ack, t.finSeq);
  if (finAcked && !gt(t.sndUna, t.finSeq)) data--;
  t.sendBuf.drop(Math.max(0, data));
  t.sndUna = ack;
  if (lt(t.sndNxt, ack)) t.sndNxt = ack;
  if (lt(t.highRxt, ack)) t.highRxt = ack;
  t.scoreboard?.advance(ack);
  t.retries = 0;
  t.headSentAt = now;

  if (t.inRecovery) {
    if (!lt(ack, t.recover)) {
      // Full acknowledgment: recovery is over (RFC 6582 §3.2 step 3, first option).
      t.inRecovery = false;
      t.cc.onRecoveryEnd(now, diff(t.sndMax, t.sndUna));
      t.dupAcks = 0;
    } else {
      // A partial acknowledgment: the controller learns what left the network (NewReno deflates by it).
      t.cc.onRecoveryAck(now, data, data + sacked, recoveryPipe(t));
      if (!t.scoreboard) {
        // NewReno: the next hole is lost too; resend it now (RFC 6582 §3.2 step 3).
        sendAt(t, t.sndUna, Math.min(t.mss, diff(t.sndMax, t.sndUna)));
        t.rtoAt = now + t.rtt.rto;
      }
    }
  } else {
    t.dupAcks = 0;
    t.cc.onAck(now, data, rtt, flight);
  }
  // RFC 6298 §5.2–5.3: stop the timer when everything is acknowledged, else restart it.
  t.rtoAt = t.sndUna === t.sndMax ? NONE : now + t.rtt.rto;
  // The ACK stops where a SACKed range starts: the receiver dropped what it had SACKed (RFC 2018 §8
  // lets it). As Linux (tcp_check_sack_reneging), time out soon, after max(SRTT/2, 10 ms).
  if (t.scoreboard && t.scoreboard.sackedEnd(ack) !== null) t.rtoAt = now + Math.max(t.rtt.srtt / 2, 10);

  if (finAcked) {
    if (t.state === State.FinWait1) {
      t.state = State.FinWait2;
      if (t.orphan) t.waitAt = now + t.host.config.finTimeoutMs;
    } else if (t.state === State.Closing) {
      t.enterTimeWait();
      return;
    } else if (t.state === State.LastAck) {
      t.host.release(t);
      return;
    }
  }
  t.onSendSpace();
}

function duplicateAck(t: Tcb, now: number, sacked: number): void {
  t.dupAcks++;
  if (t.inRecovery) {
    // Another segment left the network: what SACK names, or without it one MSS (NewReno inflates by it).
    t.cc.onRecoveryAck(now, 0, t.scoreboard ? sacked : t.mss, recoveryPipe(t));
    return;
  }
  const lost = t.scoreboard ? gt(t.scoreboard.lostEdge(t.sndUna, t.mss), t.sndUna) : false;
  // RFC 6582 §3.2 step 2: only one recovery per window of data.
  if ((t.dupAcks >= 3 || lost) && (t.recover === 0 || !lt(t.sndUna, t.recover) || t.scoreboard)) enterRecovery(t, now, sacked);
}

/** `sacked`: what the ACK that starts recovery newly SACKed. */
function enterRecovery(t: Tcb, now: number, sacked: number): void {
  t.host.counters.add('tcp.fast-retransmit');
  const flight = diff(t.sndMax, t.sndUna);
  t.inRecovery = true;
  t.recover = t.sndMax;
  // The controller's decrease comes first, so what is sent from here on counts as sent in recovery.
  if (t.scoreboard) t.highRxt = t.sndUna;
  t.cc.onLoss(now, flight, t.scoreboard !== null, t.scoreboard ? sacked : t.mss, recoveryPipe(t));
  t.rttSeq = -1;
  const first = Math.min(t.mss, flight);
  if (t.scoreboard) {
    // RFC 6675 §5 step 4.2: the first presumed-lost segment goes now, whatever pipe says.
    const hole = t.scoreboard.hole(t.sndUna, t.sndMax) ?? [t.sndUna, add(t.sndUna, first)];
    t.highRxt = t.sndUna;
    retransmitHole(t, hole);
  } else {
    sendAt(t, t.sndUna, first);
  }
  t.rtoAt = now + t.rtt.rto;
}

export function onRetransmitTimeout(t: Tcb): void {
  const c = t.host.config;
  const now = t.host.clock.now();
  if (t.state === State.SynSent || t.state === State.SynReceived) {
    const limit = t.state === State.SynSent ? c.synRetries : c.synAckRetries;
    if (++t.retries > limit) {
      if (t.listener) return t.host.release(t);
      return t.fail(t.softError ?? stackError('ETIMEDOUT'));
    }
    t.rtt.backoff();
    t.host.counters.add('tcp.syn-retransmit');
    sendSyn(t);
    return;
  }
  if (!canSend(t) || t.sndUna === t.sndMax) return;
  if (++t.retries > c.retries || userTimedOut(t, now)) {
    return t.fail(t.softError ?? stackError('ETIMEDOUT'));
  }
  t.host.counters.add('tcp.rto');
  // The first unacknowledged segment is marked SACKed: the receiver reneged, so no mark can be trusted
  // (RFC 2018 §8; Linux's tcp_timeout_mark_lost).
  if (t.scoreboard && t.scoreboard.sackedEnd(t.sndUna) !== null) {
    t.host.counters.add('tcp.sack-reneging');
    t.scoreboard.clear();
  }
  // The controller shrinks the window (RFC 5681 §3.1 for NewReno); RFC 6298 §5.5–5.6 backoff.
  t.cc.onRto(now, diff(t.sndMax, t.sndUna), t.retries === 1);
  t.inRecovery = false;
  t.recover = t.sndMax;
  t.dupAcks = 0;
  t.highRxt = t.sndUna;
  t.rttSeq = -1;
  t.rtt.backoff();
  t.sndNxt = t.sndUna;
  t.rtoAt = now + t.rtt.rto;
  // Linux's tcp_clamp_rto_to_user_timeout: the next timeout comes no later than the user timeout.
  const user = t.options.userTimeoutMs ?? 0;
  if (user > 0) t.rtoAt = Math.max(now + 1, Math.min(t.rtoAt, t.headSentAt + user));
  output(t);
  // The peer's window may be closed: the first segment still goes (it is the probe).
  if (t.sndNxt === t.sndUna) t.sndNxt = add(t.sndUna, sendAt(t, t.sndUna, Math.min(t.mss, diff(t.sndMax, t.sndUna))));
}

/** TCP_USER_TIMEOUT: the oldest unacknowledged data has waited at least that long. */
function userTimedOut(t: Tcb, now: number): boolean {
  const user = t.options.userTimeoutMs ?? 0;
  return user > 0 && now - t.headSentAt >= user;
}

function startPersist(t: Tcb): void {
  if (t.persistAt !== NONE) return;
  const backoff = Math.min(t.rtt.rto * 2 ** t.persistBackoff, t.host.config.maxRtoMs);
  t.persistAt = t.host.clock.now() + Math.max(backoff, t.host.config.minRtoMs);
}

/** The peer's window stayed closed: probe it (RFC 9293 §3.8.6.1) with an out-of-window ACK, as Linux does. */
export function onPersist(t: Tcb): void {
  if (!canSend(t)) return;
  if (t.sndWnd > 0) return output(t);
  if (++t.retries > t.host.config.retries) return t.fail(stackError('ETIMEDOUT'));
  t.host.counters.add('tcp.window-probe');
  transmit(t, ACK, add(t.sndUna, -1) >>> 0, EMPTY);
  t.persistBackoff++;
  startPersist(t);
}

export function onKeepAlive(t: Tcb, now: number): void {
  const ms = t.options.keepAliveMs;
  if (ms <= 0 || t.state < State.Established || t.state === State.TimeWait) return;
  const c = t.host.config;
  if (t.keepAliveSent === 0 && now - t.lastHeard < ms) {
    t.idleAt = t.lastHeard + ms;
    return;
  }
  if (t.keepAliveSent >= c.keepAliveProbes) return t.fail(stackError('ETIMEDOUT', 'keep-alive probes unanswered'));
  t.host.counters.add('tcp.keepalive');
  transmit(t, ACK, add(t.sndUna, -1) >>> 0, EMPTY);
  t.keepAliveSent++;
  t.idleAt = now + c.keepAliveIntervalMs;
}

/** ICMP "fragmentation needed" (RFC 1191): smaller segments from now on. */
export function lowerMss(t: Tcb, mtu: number): void {
  const mss = Math.max(28, mtu - 40 - (t.tsOk ? 12 : 0));
  if (mss >= t.mss) return;
  t.host.counters.add('tcp.pmtu-lowered');
  t.mss = mss;
  t.cc.setMss(mss);
  if (t.sndUna !== t.sndMax) {
    t.sndNxt = t.sndUna;
    output(t);
  }
}
