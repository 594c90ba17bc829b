/**
 * Segment arrival for a connection that exists (RFC 9293 §3.10.7.3 for
 * SYN-SENT, §3.10.7.4 for the rest), step by step: PAWS, the window test,
 * RST, SYN, the ACK (handed to sender.ts), then the text and the FIN, which
 * are stored here and acknowledged at once or after a delay. Kept apart from
 * tcb.ts, which holds the block and the application's side, because this is
 * the one path every received segment takes and reads best in one piece.
 */
import { stackError } from '../../errors.js';
import { ACK, FIN, RST, SYN, type TcpSegment } from '../../../wire/tcp.js';
import * as delack from './delack.js';
import { established } from './handshake.js';
import { negotiate } from './options.js';
import { challengeAck, oowAck, oowAllowed } from './ratelimit.js';
import { DROPPED, RecvBuffer } from './recv-buffer.js';
import * as sender from './sender.js';
import { add, diff, ge, gt, inRange, le, lt } from './seq.js';
import { State } from './state.js';
import type { Tcb } from './tcb.js';

const NONE = Infinity;

/** A segment for this connection, at `now` on the host's clock. */
export function input(t: Tcb, seg: TcpSegment, now: number): void {
  t.lastHeard = now;
  // The peer is alive: keep-alive probes start counting afresh (Linux resets icsk_probes_out on an ACK).
  t.keepAliveSent = 0;
  if (t.state === State.SynSent) return inputSynSent(t, seg);
  const len = seg.payload.length + (seg.flags & SYN ? 1 : 0) + (seg.flags & FIN ? 1 : 0);

  // RFC 7323 §5.3 PAWS: a timestamp older than TS.Recent marks an old duplicate.
  const ts = seg.options.timestamp;
  if (t.tsOk && ts && !(seg.flags & RST) && lt(ts.value, t.tsRecent) && t.state !== State.SynReceived) {
    t.host.counters.add('tcp.paws-rejected');
    return oowAck(t, seg);
  }

  // A retransmitted SYN while our SYN-ACK is unanswered: send the SYN-ACK again, at most every
  // tcp_invalid_ratelimit (Linux's tcp_check_req), so a SYN flood on one 4-tuple is not mirrored.
  if (t.state === State.SynReceived && seg.flags & SYN && !(seg.flags & ACK) && seg.seq === t.irs) {
    if (oowAllowed(t, seg)) sender.sendSyn(t);
    return;
  }

  // Simultaneous open (RFC 9293 Figure 8, line 6): the peer's SYN-ACK acknowledges our SYN.
  // Its SYN is old news, so the window test would reject it; Linux lets it through too.
  if (t.state === State.SynReceived && !t.listener && seg.flags & SYN && seg.flags & ACK && !(seg.flags & RST) && seg.seq === t.irs && seg.ack === t.sndMax) {
    established(t, seg);
    sender.onAck(t, seg, 0);
    sender.sendAck(t);
    sender.output(t);
    t.armTimer();
    return;
  }

  // Step 1: is the segment in the window?
  if (!acceptable(t, seg.seq, len)) {
    if (!(seg.flags & RST)) {
      t.host.counters.add('tcp.out-of-window');
      if (t.state === State.TimeWait && seg.flags & SYN) return t.host.reopen(t, seg);
      // The peer's FIN again (it lies below RCV.NXT): ACK it and restart the 2·MSL wait.
      if (t.state === State.TimeWait && seg.flags & FIN) return inputTimeWait(t, seg);
      // Data we had already: our ACKs were lost or late, so ACK quickly for a while (Linux's tcp_send_dupack).
      if (seg.payload.length > 0 && lt(seg.seq, t.rcvNxt)) {
        t.pingpong = false;
        delack.enterQuickAck(t);
      }
      oowAck(t, seg);
    }
    return;
  }

  // Step 2: RST, checked as RFC 5961 §3.2 asks: only an exact match resets.
  if (seg.flags & RST) {
    if (seg.seq !== t.rcvNxt) return challengeAck(t);
    return onReset(t);
  }

  // Step 4: a SYN in a synchronized state is answered with a challenge ACK (RFC 5961 §4.2).
  if (seg.flags & SYN) {
    if (t.state === State.SynReceived && t.listener) {
      // RFC 9293: a passive open goes back to LISTEN.
      t.host.release(t);
      return;
    }
    return challengeAck(t);
  }

  // Step 5: ACK.
  if (!(seg.flags & ACK)) return;
  if (t.state === State.SynReceived) {
    if (!(lt(t.sndUna, seg.ack) && le(seg.ack, t.sndMax))) return sender.sendReset(t, seg.ack);
    established(t, seg);
  }
  // An ACK for data never sent is dropped silently, as Linux does (tcp_ack: RFC 9293 §3.10.7.4
  // lets "send an ACK, drop the segment", but the ACK would only feed an ACK war with a confused
  // peer); one too old to be a late ACK gets RFC 5961 §5.2's challenge ACK.
  if (gt(seg.ack, t.sndMax)) {
    t.host.counters.add('tcp.ack-unsent-data');
    return;
  }
  if (lt(seg.ack, t.sndUna - t.maxSndWnd)) return challengeAck(t);
  // RFC 7323 §4.3: TS.Recent only from a segment that is kept, so a dropped one cannot poison PAWS.
  if (ts && le(seg.seq, t.lastAckSent) && ge(ts.value, t.tsRecent)) t.tsRecent = ts.value;
  if (t.state === State.TimeWait) return inputTimeWait(t, seg);
  sender.onAck(t, seg, len);
  if (t.isClosed()) return;

  // Steps 7 and 8: the text and the FIN.
  if (seg.payload.length > 0 || seg.flags & FIN) inputText(t, seg);
  if (t.isClosed()) return;
  sender.output(t);
  t.armTimer();
}

function inputSynSent(t: Tcb, seg: TcpSegment): void {
  const ackOk = (seg.flags & ACK) !== 0 && gt(seg.ack, t.iss) && le(seg.ack, t.sndMax);
  if (seg.flags & ACK && !ackOk) {
    if (!(seg.flags & RST)) sender.sendReset(t, seg.ack);
    return;
  }
  if (seg.flags & RST) {
    if (ackOk) t.fail(stackError('ECONNREFUSED'));
    return;
  }
  if (!(seg.flags & SYN)) return;
  t.irs = seg.seq;
  t.rcvNxt = add(seg.seq, 1);
  // Our SYN's window was measured from nothing; from now on the edge is measured from RCV.NXT
  // (the window the SYN offered, so data on the SYN-ACK fits in it).
  t.rcvAdv = add(t.rcvNxt, Math.min(t.receiveWindow(), 0xffff));
  negotiate(t, seg.options);
  if (ackOk) {
    t.sndWnd = seg.window;
    established(t, seg);
    sender.onAck(t, seg, 0);
    // The text starts after the SYN's sequence number.
    if (seg.payload.length > 0 || seg.flags & FIN) inputText(t, { ...seg, seq: t.rcvNxt, flags: seg.flags & ~SYN });
    sender.sendAck(t);
    sender.output(t);
  } else {
    // Simultaneous open (RFC 9293 Figure 8): both sides sent a SYN.
    t.state = State.SynReceived;
    t.sndWnd = seg.window;
    t.sndWl1 = seg.seq;
    sender.sendSyn(t);
  }
  t.armTimer();
}


function inputText(t: Tcb, seg: TcpSegment): void {
  const s = t.state;
  if (s !== State.Established && s !== State.FinWait1 && s !== State.FinWait2) {
    // Data after the peer's FIN is a protocol violation; a FIN again is a retransmission.
    if (seg.flags & FIN) sender.sendAck(t);
    return;
  }
  if (seg.payload.length > 0) {
    if (t.orphan) {
      // Nobody will ever read t: tell the peer, as Linux does.
      sender.sendActiveReset(t);
      return t.fail(stackError('ECONNRESET'));
    }
    receive(t, seg);
  }
  if (seg.flags & FIN) {
    t.peerFinSeq = add(seg.seq, seg.payload.length);
    // A bare FIN ahead of a hole is out of order too: a duplicate ACK at once (RFC 5681 §4.2).
    if (seg.payload.length === 0 && t.rcvNxt !== t.peerFinSeq) sender.sendAck(t);
  }
  if (t.peerFinSeq !== -1 && t.rcvNxt === t.peerFinSeq && !t.finReceived) onFin(t);
}

function receive(t: Tcb, seg: TcpSegment): void {
  // Trim to the window we advertised: what lies beyond is dropped, not stored (bounded buffers).
  let data = seg.payload;
  const room = diff(t.rcvAdv, seg.seq);
  if (room < data.length) data = data.subarray(0, Math.max(0, room));
  const before = t.rcvNxt;
  const hadHoles = t.recvBuf.hasPending;
  if (t.readShut) {
    // shutdown(SHUT_RD): acknowledged and dropped.
    if (seg.seq === t.rcvNxt) t.rcvNxt = add(t.rcvNxt, data.length);
  } else {
    const next = t.recvBuf.insert(t.rcvNxt, seg.seq, data, RecvBuffer.maxRuns(t.options.recvBufferSize), t.host.counters);
    // No room in the out-of-order queue: dropped unacknowledged, as Linux drops it (tcp_data_queue_ofo).
    if (next === DROPPED) return;
    t.rcvNxt = next;
  }
  if (t.rcvNxt === before || hadHoles || t.recvBuf.hasPending) {
    // Out of order, a duplicate, or filling a hole: ACK at once (RFC 5681 §4.2) so the sender learns fast.
    if (t.rcvNxt === before) t.host.counters.add(t.recvBuf.hasPending ? 'tcp.out-of-order' : 'tcp.duplicate');
    // A duplicate: the peer retransmits what we had, so our ACKs are late or lost; ACK quickly for a while (tcp_data_queue).
    if (t.rcvNxt === before && !t.recvBuf.hasPending) {
      t.pingpong = false;
      delack.enterQuickAck(t);
    }
    sender.sendAck(t);
    if (t.rcvNxt !== before) t.wake();
  } else {
    t.ackOwed += data.length;
    delack.onDataReceived(t, t.host.clock.now());
    if (t.ackOwed >= 2 * t.mss || delack.ackNow(t)) sender.sendAck(t);
    else if (t.ackAt === NONE) t.ackAt = t.host.clock.now() + t.host.config.delayedAckMs;
    t.wake();
  }
}

function onFin(t: Tcb): void {
  t.finReceived = true;
  t.rcvNxt = add(t.rcvNxt, 1);
  sender.sendAck(t);
  switch (t.state) {
    case State.SynReceived:
    case State.Established:
      t.state = State.CloseWait;
      break;
    case State.FinWait1:
      // Our FIN is not acknowledged yet (else we would be in FIN-WAIT-2): simultaneous close.
      t.state = State.Closing;
      break;
    case State.FinWait2:
      t.enterTimeWait();
      break;
    default:
      break;
  }
  t.wake();
}

function inputTimeWait(t: Tcb, seg: TcpSegment): void {
  // Only the peer's FIN can arrive again here: acknowledge it and restart the 2·MSL wait.
  if (seg.flags & FIN) {
    sender.sendAck(t);
    t.waitAt = t.host.clock.now() + t.host.config.timeWaitMs;
    t.armTimer();
  }
}

function onReset(t: Tcb): void {
  const s = t.state;
  if (s === State.SynReceived && t.listener) return t.host.release(t);
  if (s === State.Closing || s === State.LastAck || s === State.TimeWait) return t.host.release(t);
  t.fail(stackError(s === State.SynReceived ? 'ECONNREFUSED' : 'ECONNRESET'));
}

/** RFC 9293 §3.10.7.4's acceptability test. */
function acceptable(t: Tcb, seq: number, len: number): boolean {
  const wnd = diff(t.rcvAdv, t.rcvNxt);
  if (len === 0) return wnd <= 0 ? seq === t.rcvNxt : inRange(seq, t.rcvNxt, t.rcvAdv);
  if (wnd <= 0) return false;
  return inRange(seq, t.rcvNxt, t.rcvAdv) || inRange(add(seq, len - 1), t.rcvNxt, t.rcvAdv);
}