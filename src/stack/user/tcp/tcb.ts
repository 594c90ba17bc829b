/**
 * One TCP connection: the transmission control block of RFC 9293 and the
 * StreamConnection the socket library reads and writes. The block's fields,
 * the application's calls, closing, and the one timer are here; segment
 * arrival (§3.10.7) is input.ts's, sending, retransmission and loss recovery
 * sender.ts's, the window's size a congestion controller's (congestion/),
 * all functions over the same block.
 *
 * Nothing here reads the wall clock or does I/O of its own: time comes from
 * the host's clock, packets leave through the host (host.ts: the TCP layer,
 * seen only through what a connection needs), and one clock timer per
 * connection serves every deadline (retransmission, delayed ACK, persist,
 * keep-alive, TIME_WAIT), re-armed lazily.
 */
import { stackError, type SocketError } from '../../errors.js';
import { WOULD_BLOCK, type Endpoint, type StreamConnection, type StreamOptions } from '../../types.js';
import type { TcpSegment } from '../../../wire/tcp.js';
import { createController, type CongestionController } from './congestion/index.js';
import type { ListenerHook, TcpHost } from './host.js';
import * as delack from './delack.js';
import { input } from './input.js';
import { RecvBuffer } from './recv-buffer.js';
import { RttEstimator } from './rtt.js';
import type { Scoreboard } from './scoreboard.js';
import { SendBuffer } from './send-buffer.js';
import { add, diff } from './seq.js';
import * as sender from './sender.js';
import { State } from './state.js';

const NONE = Infinity;

export class Tcb implements StreamConnection {
  notify: (() => void) | null = null;
  state = State.Closed;

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

  /** The congestion window and ssthresh are the controller's (congestion/; TcpConfig.congestionControl picks it). */
  readonly cc: CongestionController;
  // Loss recovery (RFC 5681 fast retransmit, RFC 6582 NewReno, RFC 6675 SACK), whatever the controller.
  dupAcks = 0;
  inRecovery = false;
  recover = 0;
  highRxt = 0;
  scoreboard: Scoreboard | null = null;
  rtt: RttEstimator;
  /** Karn timing without timestamps: the sequence timed and when it left; -1 when none. */
  rttSeq = -1;
  rttStart = 0;
  /** When the oldest unacknowledged data was sent, or last acknowledged in part (TCP_USER_TIMEOUT counts from it). */
  headSentAt = 0;
  /** Consecutive retransmission timeouts (or unanswered probes) without progress. */
  retries = 0;
  /** Duplicate segments received, retransmissions sent: counted for tests and benches. */
  retransmits = 0;
  /** A soft error (ICMP unreachable) to report if the connection then times out (RFC 1122 §4.2.3.9). */
  softError: SocketError | null = null;

  // Delayed ACK (RFC 9293 §3.8.6.3): full-sized segments received but not yet acknowledged.
  ackOwed = 0;
  /** Quick-ACK mode (delack.ts): ACKs still to send at once; whether the connection is interactive; the last data in and out (ms, -1 never). */
  quickAcks = 0;
  pingpong = false;
  lastDataIn = -1;
  lastDataOut = -1;
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
  listener: ListenerHook<Tcb> | null = null;

  constructor(
    readonly host: TcpHost<Tcb>,
    /** The 4-tuple's key in the host's table. */
    readonly key: string,
    readonly local: Endpoint,
    readonly remote: Endpoint,
    readonly localIp: Uint8Array,
    readonly remoteIp: Uint8Array,
    options: StreamOptions,
  ) {
    this.options = { ...options };
    this.sendBuf = new SendBuffer(options.sendBufferSize);
    const c = host.config;
    this.rtt = new RttEstimator(c.initialRtoMs, c.minRtoMs, c.maxRtoMs);
    this.cc = createController(c);
  }

  /** The congestion window in bytes, as the controller keeps it (for tests and TCP_INFO). */
  get cwnd(): number {
    return this.cc.cwnd;
  }

  get ssthresh(): number {
    return this.cc.ssthresh;
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
    if (this.state === State.Closed) this.host.release(this);
  }

  abort(): void {
    if (this.isClosed()) return;
    if (this.state !== State.SynSent && this.state !== State.TimeWait) sender.sendActiveReset(this);
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

  // ---- events from the host ----

  /** An ICMP destination unreachable quoting one of our segments. */
  icmpError(code: number, mtu: number | undefined): void {
    if (code === 4 && mtu !== undefined) return sender.lowerMss(this, mtu);
    const refused = code === 2 || code === 3;
    if (this.state === State.SynSent && refused) return this.fail(stackError('ECONNREFUSED'));
    this.softError = stackError(code === 0 ? 'ENETUNREACH' : 'EHOSTUNREACH');
  }

  /** A segment for this connection (input.ts follows RFC 9293 §3.10.7 through it). */
  input(seg: TcpSegment, now: number): void {
    input(this, seg, now);
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
        this.host.release(this);
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
    this.waitAt = this.host.clock.now() + this.host.config.timeWaitMs;
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
    this.host.release(this);
    this.wake();
  }

  /** Called by the host (its `release`) when the block leaves the table. */
  released(): void {
    this.state = State.Closed;
    this.sendBuf.clear();
    if (this.readShut || this.orphan) this.recvBuf.clear();
    this.scoreboard = null;
    if (this.timer !== null) this.host.clock.clearTimer(this.timer);
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

  /**
   * After the application read, Linux's rule (tcp_cleanup_rbuf): an ACK still owed goes now if more
   * than a segment is unacknowledged; else a window update goes only if the window at least
   * doubles, and only while the window left is at most half the largest, so a reader
   * that keeps up sends no updates at all (the ACKs the data draws carry the window).
   */
  private maybeWindowUpdate(): void {
    if (this.state !== State.Established && this.state !== State.FinWait1 && this.state !== State.FinWait2) return;
    if (this.finReceived || this.readShut) return;
    if (this.ackOwed > 0 && diff(this.rcvNxt, this.lastAckSent) > this.mss) return sender.sendAck(this);
    const left = Math.max(0, diff(this.rcvAdv, this.rcvNxt));
    if (2 * left > this.options.recvBufferSize) return;
    // Receiver SWS avoidance (RFC 9293 §3.8.6.2.2): a window under a segment is not offered.
    const open = this.receiveWindow();
    if (open >= Math.min(this.options.recvBufferSize / 2, this.mss) && open >= 2 * left) sender.sendAck(this);
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
    const clock = this.host.clock;
    if (this.timer !== null) clock.clearTimer(this.timer);
    this.timerAt = at;
    this.timer = at === NONE ? null : clock.setTimer(Math.max(0, at - clock.now()), () => this.onTimer());
  }

  private onTimer(): void {
    this.timer = null;
    this.timerAt = NONE;
    const now = this.host.clock.now();
    if (this.waitAt <= now) {
      this.waitAt = NONE;
      this.host.release(this);
      return;
    }
    if (this.ackAt <= now) {
      this.ackAt = NONE;
      if (this.ackOwed > 0) {
        delack.onDelayedAckTimer(this);
        sender.sendAck(this);
      }
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

