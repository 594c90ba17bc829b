/**
 * One TCP connection: the transmission control block of RFC 9293 and the
 * StreamConnection the socket library reads and writes. Segment arrival
 * follows §3.10.7 step by step; sending, retransmission and congestion
 * control live in `sender.ts`'s functions over the same block.
 *
 * Nothing here reads the wall clock or does I/O of its own: time comes from
 * the layer's clock, packets leave through the layer, and one clock timer per
 * connection serves every deadline (retransmission, delayed ACK, persist,
 * keep-alive, TIME_WAIT), re-armed lazily.
 */
import { stackError, type SocketError } from '../../errors.js';
import { WOULD_BLOCK, type Endpoint, type StreamConnection, type StreamOptions } from '../../types.js';
import { ACK, FIN, PSH, RST, SYN, type TcpSegment } from '../../../wire/tcp.js';
import type { TcpLayer } from './layer.js';
import { DROPPED, RecvBuffer } from './recv-buffer.js';
import { RttEstimator } from './rtt.js';
import type { Scoreboard } from './scoreboard.js';
import { SendBuffer } from './send-buffer.js';
import { add, diff, ge, gt, inRange, le, lt } from './seq.js';
import { challengeAck, oowAck, oowAllowed } from './ratelimit.js';
import { negotiate } from './handshake.js';
import * as sender from './sender.js';
import type { UserListener } from './listener.js';
import { State } from './state.js';

const NONE = Infinity;

export class Tcb implements StreamConnection {
  notify: (() => void) | null = null;
  state = State.Closed;
  readonly key: string;

  // Send sequence space (RFC 9293 §3.3.1). sndMax is the highest SND.NXT ever
  // reached: after a timeout SND.NXT goes back to SND.UNA and climbs again.
  iss = 0;
  sndUna = 0;
  sndNxt = 0;
  sndMax = 0;
  sndWnd = 0;
  sndWl1 = 0;
  sndWl2 = 0;
  maxSndWnd = 0;
  /** The end of the last sub-MSS segment sent (Nagle with Minshall's refinement). */
  sndSml = 0;
  /** Shift applied to the peer's window field, and to ours. */
  sndShift = 0;
  rcvShift = 0;

  // Receive sequence space.
  irs = 0;
  rcvNxt = 0;
  /** The right edge of the window we last advertised. */
  rcvAdv = 0;

  /** Payload bytes per segment we send. */
  mss = 536;
  tsOk = false;
  sackOk = false;
  tsRecent = 0;
  tsOffset = 0;
  lastAckSent = 0;

  sendBuf: SendBuffer;
  recvBuf = new RecvBuffer();
  /** The FIN's sequence number once the application asked for one; -1 before. */
  finSeq = -1;
  /** The peer's FIN arrived and everything before it was delivered. */
  finReceived = false;
  /** The peer's FIN seen out of order: its sequence number. */
  peerFinSeq = -1;
  /** When (whole ms) we last answered a segment out of the window; -1 never (Linux's last_oow_ack_time). */
  lastOowAck = -1;

  // Congestion control (RFC 5681, 6582, 6675).
  cwnd = 0;
  ssthresh = 0x7fffffff;
  /** Bytes acknowledged in congestion avoidance since cwnd last grew. */
  ackedInCa = 0;
  dupAcks = 0;
  inRecovery = false;
  recover = 0;
  highRxt = 0;
  scoreboard: Scoreboard | null = null;
  rtt: RttEstimator;
  /** Karn timing without timestamps: the sequence timed and when it left; -1 when none. */
  rttSeq = -1;
  rttStart = 0;
  /** Consecutive retransmission timeouts (or unanswered probes) without progress. */
  retries = 0;
  /** Duplicate segments received, retransmissions sent: counted for tests and benches. */
  retransmits = 0;
  /** A soft error (ICMP unreachable) to report if the connection then times out (RFC 1122 §4.2.3.9). */
  softError: SocketError | null = null;

  // Delayed ACK (RFC 9293 §3.8.6.3): full-sized segments received but not yet acknowledged.
  ackOwed = 0;
  // Deadlines on the clock; Infinity when off.
  rtoAt = NONE;
  ackAt = NONE;
  persistAt = NONE;
  idleAt = NONE;
  waitAt = NONE;
  private timer: unknown = null;
  private timerAt = NONE;
  persistBackoff = 0;
  keepAliveSent = 0;
  lastHeard = 0;

  options: StreamOptions;
  readShut = false;
  /** close() was called: the application is gone, TCP finishes on its own. */
  orphan = false;
  error: SocketError | null = null;
  private pendingWrite: { data: Uint8Array; resolve: () => void; reject: (e: Error) => void } | null = null;
  private finAfterWrite = false;
  /** Settles connect(): set for active opens until ESTABLISHED or failure. */
  opening: { resolve: (c: StreamConnection) => void; reject: (e: Error) => void } | null = null;
  /** The listener a passive open came from, until accept() takes the connection. */
  listener: UserListener | null = null;

  constructor(
    readonly layer: TcpLayer,
    readonly local: Endpoint,
    readonly remote: Endpoint,
    readonly localIp: Uint8Array,
    readonly remoteIp: Uint8Array,
    options: StreamOptions,
  ) {
    this.key = layer.keyOf(localIp, local.port, remoteIp, remote.port);
    this.options = { ...options };
    this.sendBuf = new SendBuffer(options.sendBufferSize);
    const c = layer.config;
    this.rtt = new RttEstimator(c.initialRtoMs, c.minRtoMs, c.maxRtoMs);
  }

  // ---- the application's side (StreamConnection) ----

  get readable(): number {
    return this.readShut ? 0 : this.recvBuf.readable;
  }

  read(into: Uint8Array): number {
    if (this.recvBuf.readable > 0 && !this.readShut) {
      const n = this.recvBuf.read(into);
      this.maybeWindowUpdate();
      return n;
    }
    if (this.error) throw this.error;
    if (this.finReceived || this.readShut || this.state === State.Closed) return 0;
    if (into.length === 0) return 0;
    return WOULD_BLOCK;
  }

  write(data: Uint8Array): Promise<void> | null {
    if (this.error) return Promise.reject(this.error);
    if (this.finSeq !== -1 || this.finAfterWrite || this.orphan || this.state === State.Closed) return Promise.reject(stackError('EPIPE'));
    if (data.length > this.options.sendBufferSize) return Promise.reject(stackError('EMSGSIZE', 'more than the send buffer at once'));
    if (this.pendingWrite) return Promise.reject(stackError('EALREADY', 'a write is still waiting for buffer space'));
    const free = this.sendBuf.free;
    if (data.length <= free) {
      this.sendBuf.push(data);
      sender.output(this);
      return null;
    }
    this.sendBuf.push(data.subarray(0, free));
    sender.output(this);
    return new Promise((resolve, reject) => {
      this.pendingWrite = { data: data.subarray(free), resolve, reject };
    });
  }

  shutdown(how: 'read' | 'write' | 'both'): void {
    if (how !== 'write') {
      this.readShut = true;
      this.recvBuf.clear();
    }
    if (how !== 'read') this.queueFin();
  }

  close(): void {
    if (this.orphan) return;
    this.orphan = true;
    this.notify = null;
    // Linux resets rather than let unread data vanish silently (RFC 9293 §3.6 allows either).
    if (this.recvBuf.readable > 0 || this.state === State.SynSent) return this.abort();
    this.readShut = true;
    this.queueFin();
    if (this.state === State.Closed) this.layer.remove(this);
  }

  abort(): void {
    if (this.isClosed()) return;
    if (this.state !== State.SynSent && this.state !== State.TimeWait) sender.sendReset(this, this.sndNxt);
    this.fail(stackError('ECONNABORTED'));
  }

  setOptions(options: Partial<StreamOptions>): void {
    // Only a larger receive buffer can open the window; any other option leaves it (and the wire) alone.
    const grew = options.recvBufferSize !== undefined && options.recvBufferSize > this.options.recvBufferSize;
    Object.assign(this.options, options);
    this.sendBuf.capacity = this.options.sendBufferSize;
    if (options.keepAliveMs !== undefined) this.touchKeepAlive();
    if (grew) this.maybeWindowUpdate();
    sender.output(this);
  }

  // ---- events from the layer ----

  /** An ICMP destination unreachable quoting one of our segments. */
  icmpError(code: number, mtu: number | undefined): void {
    if (code === 4 && mtu !== undefined) return sender.lowerMss(this, mtu);
    const refused = code === 2 || code === 3;
    if (this.state === State.SynSent && refused) return this.fail(stackError('ECONNREFUSED'));
    this.softError = stackError(code === 0 ? 'ENETUNREACH' : 'EHOSTUNREACH');
  }

  input(seg: TcpSegment, now: number): void {
    this.lastHeard = now;
    // The peer is alive: keep-alive probes start counting afresh (Linux resets icsk_probes_out on an ACK).
    this.keepAliveSent = 0;
    if (this.state === State.SynSent) return this.inputSynSent(seg);
    const len = seg.payload.length + (seg.flags & SYN ? 1 : 0) + (seg.flags & FIN ? 1 : 0);

    // RFC 7323 §5.3 PAWS: a timestamp older than TS.Recent marks an old duplicate.
    const ts = seg.options.timestamp;
    if (this.tsOk && ts && !(seg.flags & RST) && lt(ts.value, this.tsRecent) && this.state !== State.SynReceived) {
      this.layer.counters.add('tcp.paws-rejected');
      return oowAck(this, seg);
    }

    // A retransmitted SYN while our SYN-ACK is unanswered: send the SYN-ACK again, at most every
    // tcp_invalid_ratelimit (Linux's tcp_check_req), so a SYN flood on one 4-tuple is not mirrored.
    if (this.state === State.SynReceived && seg.flags & SYN && !(seg.flags & ACK) && seg.seq === this.irs) {
      if (oowAllowed(this, seg)) sender.sendSyn(this);
      return;
    }

    // Simultaneous open (RFC 9293 Figure 8, line 6): the peer's SYN-ACK acknowledges our SYN.
    // Its SYN is old news, so the window test would reject it; Linux lets it through too.
    if (this.state === State.SynReceived && !this.listener && seg.flags & SYN && seg.flags & ACK && !(seg.flags & RST) && seg.seq === this.irs && seg.ack === this.sndMax) {
      this.established(seg);
      sender.onAck(this, seg, 0);
      sender.sendAck(this);
      sender.output(this);
      this.armTimer();
      return;
    }

    // Step 1: is the segment in the window?
    if (!this.acceptable(seg.seq, len)) {
      if (!(seg.flags & RST)) {
        this.layer.counters.add('tcp.out-of-window');
        if (this.state === State.TimeWait && seg.flags & SYN) return this.layer.reopenFromTimeWait(this, seg);
        // The peer's FIN again (it lies below RCV.NXT): ACK it and restart the 2·MSL wait.
        if (this.state === State.TimeWait && seg.flags & FIN) return this.inputTimeWait(seg);
        oowAck(this, seg);
      }
      return;
    }

    // Step 2: RST, checked as RFC 5961 §3.2 asks: only an exact match resets.
    if (seg.flags & RST) {
      if (seg.seq !== this.rcvNxt) return challengeAck(this);
      return this.onReset();
    }

    // Step 4: a SYN in a synchronized state is answered with a challenge ACK (RFC 5961 §4.2).
    if (seg.flags & SYN) {
      if (this.state === State.SynReceived && this.listener) {
        // RFC 9293: a passive open goes back to LISTEN.
        this.layer.remove(this);
        return;
      }
      return challengeAck(this);
    }

    // Step 5: ACK.
    if (!(seg.flags & ACK)) return;
    if (this.state === State.SynReceived) {
      if (!(lt(this.sndUna, seg.ack) && le(seg.ack, this.sndMax))) return sender.sendReset(this, seg.ack);
      this.established(seg);
    }
    // RFC 5961 §5.2: an ACK for data never sent, or too old, gets a challenge ACK.
    if (gt(seg.ack, this.sndMax) || lt(seg.ack, this.sndUna - this.maxSndWnd)) return challengeAck(this);
    // RFC 7323 §4.3: TS.Recent only from a segment that is kept, so a dropped one cannot poison PAWS.
    if (ts && le(seg.seq, this.lastAckSent) && ge(ts.value, this.tsRecent)) this.tsRecent = ts.value;
    if (this.state === State.TimeWait) return this.inputTimeWait(seg);
    sender.onAck(this, seg, len);
    if (this.isClosed()) return;

    // Steps 7 and 8: the text and the FIN.
    if (seg.payload.length > 0 || seg.flags & FIN) this.inputText(seg);
    if (this.isClosed()) return;
    sender.output(this);
    this.armTimer();
  }

  private inputSynSent(seg: TcpSegment): void {
    const ackOk = (seg.flags & ACK) !== 0 && gt(seg.ack, this.iss) && le(seg.ack, this.sndMax);
    if (seg.flags & ACK && !ackOk) {
      if (!(seg.flags & RST)) sender.sendReset(this, seg.ack);
      return;
    }
    if (seg.flags & RST) {
      if (ackOk) this.fail(stackError('ECONNREFUSED'));
      return;
    }
    if (!(seg.flags & SYN)) return;
    this.irs = seg.seq;
    this.rcvNxt = add(seg.seq, 1);
    // Our SYN's window was measured from nothing; from now on the edge is measured from RCV.NXT
    // (the window the SYN offered, so data on the SYN-ACK fits in it).
    this.rcvAdv = add(this.rcvNxt, Math.min(this.receiveWindow(), 0xffff));
    negotiate(this, seg.options);
    if (ackOk) {
      this.sndWnd = seg.window;
      this.established(seg);
      sender.onAck(this, seg, 0);
      // The text starts after the SYN's sequence number.
      if (seg.payload.length > 0 || seg.flags & FIN) this.inputText({ ...seg, seq: this.rcvNxt, flags: seg.flags & ~SYN });
      sender.sendAck(this);
      sender.output(this);
    } else {
      // Simultaneous open (RFC 9293 Figure 8): both sides sent a SYN.
      this.state = State.SynReceived;
      this.sndWnd = seg.window;
      this.sndWl1 = seg.seq;
      sender.sendSyn(this);
    }
    this.armTimer();
  }

  /** The handshake completed: ESTABLISHED, and whoever waits for it learns so. */
  private established(seg: TcpSegment): void {
    this.state = State.Established;
    this.sndWl1 = seg.seq;
    this.sndWl2 = seg.ack;
    // RFC 6298 §5.7: a retransmitted SYN (or SYN-ACK) means data starts from a 3 s RTO, unless a sample comes.
    if (this.retries > 0) this.rtt.resetBackoff();
    this.retries = 0;
    this.rtoAt = NONE;
    this.cwnd = sender.initialWindow(this);
    this.touchKeepAlive();
    if (this.opening) {
      const { resolve } = this.opening;
      this.opening = null;
      resolve(this);
    } else if (this.listener) {
      this.listener.ready(this);
    }
    // A close() or shutdown() may have come before the handshake finished.
    if (this.finSeq !== -1 && this.state === State.Established) this.state = State.FinWait1;
  }

  private inputText(seg: TcpSegment): void {
    const s = this.state;
    if (s !== State.Established && s !== State.FinWait1 && s !== State.FinWait2) {
      // Data after the peer's FIN is a protocol violation; a FIN again is a retransmission.
      if (seg.flags & FIN) sender.sendAck(this);
      return;
    }
    if (seg.payload.length > 0) {
      if (this.orphan) {
        // Nobody will ever read this: tell the peer, as Linux does.
        sender.sendReset(this, this.sndNxt);
        return this.fail(stackError('ECONNRESET'));
      }
      this.receive(seg);
    }
    if (seg.flags & FIN) {
      this.peerFinSeq = add(seg.seq, seg.payload.length);
      // A bare FIN ahead of a hole is out of order too: a duplicate ACK at once (RFC 5681 §4.2).
      if (seg.payload.length === 0 && this.rcvNxt !== this.peerFinSeq) sender.sendAck(this);
    }
    if (this.peerFinSeq !== -1 && this.rcvNxt === this.peerFinSeq && !this.finReceived) this.onFin();
  }

  private receive(seg: TcpSegment): void {
    // Trim to the window we advertised: what lies beyond is dropped, not stored (bounded buffers).
    let data = seg.payload;
    const room = diff(this.rcvAdv, seg.seq);
    if (room < data.length) data = data.subarray(0, Math.max(0, room));
    const before = this.rcvNxt;
    const hadHoles = this.recvBuf.hasPending;
    if (this.readShut) {
      // shutdown(SHUT_RD): acknowledged and dropped.
      if (seg.seq === this.rcvNxt) this.rcvNxt = add(this.rcvNxt, data.length);
    } else {
      const next = this.recvBuf.insert(this.rcvNxt, seg.seq, data, RecvBuffer.maxRuns(this.options.recvBufferSize), this.layer.counters);
      // No room in the out-of-order queue: dropped unacknowledged, as Linux drops it (tcp_data_queue_ofo).
      if (next === DROPPED) return;
      this.rcvNxt = next;
    }
    if (this.rcvNxt === before || hadHoles || this.recvBuf.hasPending) {
      // Out of order, a duplicate, or filling a hole: ACK at once (RFC 5681 §4.2) so the sender learns fast.
      if (this.rcvNxt === before) this.layer.counters.add(this.recvBuf.hasPending ? 'tcp.out-of-order' : 'tcp.duplicate');
      sender.sendAck(this);
      if (this.rcvNxt !== before) this.wake();
    } else {
      this.ackOwed += data.length;
      if (this.ackOwed >= 2 * this.mss) sender.sendAck(this);
      else if (this.ackAt === NONE) this.ackAt = this.layer.clock.now() + this.layer.config.delayedAckMs;
      this.wake();
    }
  }

  private onFin(): void {
    this.finReceived = true;
    this.rcvNxt = add(this.rcvNxt, 1);
    sender.sendAck(this);
    switch (this.state) {
      case State.SynReceived:
      case State.Established:
        this.state = State.CloseWait;
        break;
      case State.FinWait1:
        // Our FIN is not acknowledged yet (else we would be in FIN-WAIT-2): simultaneous close.
        this.state = State.Closing;
        break;
      case State.FinWait2:
        this.enterTimeWait();
        break;
      default:
        break;
    }
    this.wake();
  }

  private inputTimeWait(seg: TcpSegment): void {
    // Only the peer's FIN can arrive again here: acknowledge it and restart the 2·MSL wait.
    if (seg.flags & FIN) {
      sender.sendAck(this);
      this.waitAt = this.layer.clock.now() + this.layer.config.timeWaitMs;
      this.armTimer();
    }
  }

  private onReset(): void {
    const s = this.state;
    if (s === State.SynReceived && this.listener) return this.layer.remove(this);
    if (s === State.Closing || s === State.LastAck || s === State.TimeWait) return this.layer.remove(this);
    this.fail(stackError(s === State.SynReceived ? 'ECONNREFUSED' : 'ECONNRESET'));
  }

  /** RFC 9293 §3.10.7.4's acceptability test. */
  private acceptable(seq: number, len: number): boolean {
    const wnd = diff(this.rcvAdv, this.rcvNxt);
    if (len === 0) return wnd <= 0 ? seq === this.rcvNxt : inRange(seq, this.rcvNxt, this.rcvAdv);
    if (wnd <= 0) return false;
    return inRange(seq, this.rcvNxt, this.rcvAdv) || inRange(add(seq, len - 1), this.rcvNxt, this.rcvAdv);
  }

  // ---- closing ----

  private queueFin(): void {
    if (this.finSeq !== -1 || this.finAfterWrite) return;
    if (this.pendingWrite) {
      this.finAfterWrite = true;
      return;
    }
    switch (this.state) {
      case State.SynSent:
        this.layer.remove(this);
        return;
      case State.SynReceived:
      case State.Established:
        this.finSeq = add(this.sndUna, this.sendBuf.length);
        if (this.state === State.Established) this.state = State.FinWait1;
        break;
      case State.CloseWait:
        this.finSeq = add(this.sndUna, this.sendBuf.length);
        this.state = State.LastAck;
        break;
      default:
        return;
    }
    sender.output(this);
    this.armTimer();
  }

  enterTimeWait(): void {
    this.state = State.TimeWait;
    this.rtoAt = this.persistAt = this.idleAt = this.ackAt = NONE;
    this.sendBuf.clear();
    // Unread data stays readable for an application that still holds the connection (as on Linux).
    if (this.readShut || this.orphan) this.recvBuf.clear();
    this.scoreboard = null;
    this.waitAt = this.layer.clock.now() + this.layer.config.timeWaitMs;
    this.armTimer();
    this.wake();
  }

  /** The connection is over with an error: every waiter hears it, the block is freed. */
  fail(err: SocketError): void {
    this.error ??= err;
    if (this.opening) {
      const { reject } = this.opening;
      this.opening = null;
      reject(this.error);
    }
    this.settleWrite(this.error);
    this.layer.remove(this);
    this.wake();
  }

  /** Called by the layer when the block leaves the table. */
  released(): void {
    this.state = State.Closed;
    this.sendBuf.clear();
    if (this.readShut || this.orphan) this.recvBuf.clear();
    this.scoreboard = null;
    if (this.timer !== null) this.layer.clock.clearTimer(this.timer);
    this.timer = null;
    this.timerAt = NONE;
    if (this.pendingWrite) this.settleWrite(this.error ?? stackError('EPIPE'));
    this.listener?.forget(this);
    this.listener = null;
    if (this.opening) {
      const { reject } = this.opening;
      this.opening = null;
      reject(this.error ?? stackError('ECONNABORTED'));
    }
  }

  // ---- helpers shared with the sender ----

  /** Room freed in the send buffer: take more of a waiting write. */
  onSendSpace(): void {
    const w = this.pendingWrite;
    if (w) {
      const n = Math.min(this.sendBuf.free, w.data.length);
      if (n > 0) {
        this.sendBuf.push(w.data.subarray(0, n));
        w.data = w.data.subarray(n);
      }
      if (w.data.length === 0) {
        this.settleWrite(null);
        if (this.finAfterWrite) {
          this.finAfterWrite = false;
          this.queueFin();
        }
      }
    }
    if (this.sendBuf.free > 0) this.wake();
  }

  private settleWrite(err: Error | null): void {
    const w = this.pendingWrite;
    if (!w) return;
    this.pendingWrite = null;
    if (err) w.reject(err);
    else w.resolve();
  }

  /** After the application read: if the window can open by a useful amount, say so now (RFC 9293 §3.8.6.2.2). */
  private maybeWindowUpdate(): void {
    if (this.state !== State.Established && this.state !== State.FinWait1 && this.state !== State.FinWait2) return;
    const right = add(this.rcvNxt, this.receiveWindow());
    const grow = diff(right, this.rcvAdv);
    if (grow >= Math.min(this.options.recvBufferSize / 2, this.mss)) sender.sendAck(this);
  }

  /** Bytes we can still take beyond RCV.NXT. */
  receiveWindow(): number {
    const free = this.options.recvBufferSize - this.recvBuf.readable;
    return Math.max(0, Math.min(free, 0xffff << this.rcvShift));
  }

  touchKeepAlive(): void {
    const ms = this.options.keepAliveMs;
    this.idleAt = ms > 0 && this.state >= State.Established ? this.lastHeard + ms : NONE;
    this.keepAliveSent = 0;
  }

  /** A method, not a comparison, so TypeScript does not assume a call in between left the state alone. */
  isClosed(): boolean {
    return this.state === State.Closed;
  }

  wake(): void {
    this.notify?.();
  }

  /** Re-arms the one clock timer for the earliest deadline. */
  armTimer(): void {
    const at = Math.min(this.rtoAt, this.ackAt, this.persistAt, this.idleAt, this.waitAt);
    if (at >= this.timerAt) return; // a timer already fires at or before it; it re-arms then
    const clock = this.layer.clock;
    if (this.timer !== null) clock.clearTimer(this.timer);
    this.timerAt = at;
    this.timer = at === NONE ? null : clock.setTimer(Math.max(0, at - clock.now()), () => this.onTimer());
  }

  private onTimer(): void {
    this.timer = null;
    this.timerAt = NONE;
    const now = this.layer.clock.now();
    if (this.waitAt <= now) {
      this.waitAt = NONE;
      this.layer.remove(this);
      return;
    }
    if (this.ackAt <= now) {
      this.ackAt = NONE;
      if (this.ackOwed > 0) sender.sendAck(this);
    }
    if (this.rtoAt <= now) {
      this.rtoAt = NONE;
      sender.onRetransmitTimeout(this);
    }
    if (this.isClosed()) return;
    if (this.persistAt <= now) {
      this.persistAt = NONE;
      sender.onPersist(this);
    }
    if (this.isClosed()) return;
    if (this.idleAt <= now) {
      this.idleAt = NONE;
      sender.onKeepAlive(this, now);
    }
    if (this.isClosed()) return;
    this.armTimer();
  }
}

export { ACK, FIN, PSH, RST, SYN };
