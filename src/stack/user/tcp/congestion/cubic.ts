/**
 * CUBIC (RFC 9438) as Linux runs it by default (tcp_cubic.c with the
 * generic parts of tcp_cong.c, tcp_input.c and tcp_output.c it relies on):
 * - the window counts segments, as Linux's snd_cwnd does; `cwnd` reports bytes;
 * - slow start adds one segment per segment acknowledged (tcp_slow_start),
 *   but only while the window is the limit (tcp_is_cwnd_limited: the last
 *   window was used up, or in slow start the window is below twice the
 *   largest flight of the last window), so an application-limited sender
 *   does not grow a window it never used (RFC 7661's concern);
 * - HyStart ends slow start early (hystart.ts);
 * - congestion avoidance follows W_cubic(t) = C·(t − K)³ + W_max with C = 0.4,
 *   t counted from the epoch's start plus the minimum RTT, growing at most
 *   one segment per two acknowledged, and never slower than Reno would
 *   (RFC 9438 §4.3's Reno-friendly region, with Linux's α for β = 0.7);
 * - a loss sets ssthresh = 0.7·cwnd with fast convergence (RFC 9438 §4.6),
 *   and during recovery the window follows proportional rate reduction
 *   (RFC 6937 with slow-start reduction bound, as Linux's tcp_cwnd_reduction),
 *   then ends at ssthresh;
 * - a timeout sets cwnd to one segment and forgets CUBIC's epoch and W_max;
 * - an idle period does not count as time in the epoch (Linux's CA_EVENT_TX_START).
 *
 * Positions (`sentPos`, `ackedPos`) are bytes from the connection's start,
 * rebuilt from the flight every hook reports, so the controller needs no
 * sequence numbers. Integer rounding follows Linux where a script can see it.
 */
import { INFINITE_SSTHRESH, MAX_WINDOW, type CongestionController } from './controller.js';
import { HyStart } from './hystart.js';

/** β, as Linux's 717/1024. */
const BETA = 717 / 1024;
/** C, in segments per second³. */
const C = 0.4;
/** Slow start's HyStart starts looking at this window (hystart_low_window). */
const HYSTART_LOW_WINDOW = 16;
/** Reno-friendly growth: one segment per cwnd·(8/15) acknowledged, Linux's beta_scale for β = 0.7 (RFC 9438 α ≈ 0.53). */
const FRIENDLY_SCALE = 15;
/** The window never grows past this many segments (Linux's snd_cwnd_clamp). */
const MAX_SEGMENTS = 65535;
const NONE = -1;

export class Cubic implements CongestionController {
  /** The window and threshold in segments; INFINITE_SSTHRESH when unset. */
  private segs = 0;
  private thresh = INFINITE_SSTHRESH;
  private mss = 536;

  /** Everything else, made on first use: an idle connection carries only the three numbers above. */
  private st: CubicState | null = null;

  /** `initialWindow` in segments (Linux's TCP_INIT_CWND: 10, whatever the MSS). */
  constructor(private readonly initialWindow: number) {}

  private get s(): CubicState {
    return (this.st ??= new CubicState());
  }

  get cwnd(): number {
    return Math.min(this.segs * this.mss, MAX_WINDOW);
  }

  get ssthresh(): number {
    return this.thresh === INFINITE_SSTHRESH ? INFINITE_SSTHRESH : this.thresh * this.mss;
  }

  start(mss: number, now: number): void {
    this.mss = mss;
    this.segs = this.initialWindow;
    // A connection restarted from scratch (state made lazily starts cleared).
    if (this.st) this.st.hystart.clear(now, this.st.sentPos);
  }

  setMss(mss: number): void {
    this.mss = mss;
  }

  preTransmit(): void {}

  onSend(now: number, bytes: number, flight: number): void {
    if (flight - bytes <= 0 && this.s.epochStart !== NONE) {
      // Sending after idle: the idle time is no part of the epoch (CA_EVENT_TX_START).
      this.s.epochStart = Math.min(now, this.s.epochStart + Math.max(0, now - this.s.lastSend));
    }
    this.s.lastSend = now;
    const pos = this.s.ackedPos + flight;
    if (pos > this.s.sentPos) {
      this.s.sentPos = pos;
      if (this.segs < this.thresh && !this.s.hystart.found) this.s.hystart.sent(now, pos);
    }
    if (this.s.inRecovery) this.s.prrOut += Math.max(1, Math.ceil(bytes / this.mss));
    // tcp_cwnd_validate: remember whether this window was used up, or else the largest flight in it.
    const packets = Math.ceil(flight / this.mss);
    const limited = packets >= this.segs;
    if (this.s.ackedPos >= this.s.usageEnd || limited || (!this.s.cwndLimited && packets > this.s.maxPacketsOut)) {
      this.s.cwndLimited = limited;
      this.s.maxPacketsOut = packets;
      this.s.usageEnd = this.s.sentPos;
    }
  }

  onAck(now: number, acked: number, rtt: number, flight: number): void {
    if (acked <= 0 && !this.st) return; // the handshake's ACK: no data yet, so no state to make
    this.s.ackedPos = this.s.sentPos - Math.max(0, flight - acked);
    const sample = this.s.hystart.sample(now, this.s.ackedPos);
    this.rttSample(now, rtt >= 0 ? rtt : sample);
    if (!this.isCwndLimited()) return;
    let packets = Math.ceil(acked / this.mss);
    if (this.segs < this.thresh) {
      // tcp_slow_start: one segment per segment acknowledged, up to ssthresh; the rest counts in avoidance.
      const grown = Math.min(this.segs + packets, this.thresh, MAX_SEGMENTS);
      packets -= grown - this.segs;
      this.segs = grown;
      if (packets <= 0) return;
    }
    this.s.hystart.forget(this.s.sentPos);
    this.update(now, packets);
    this.additiveIncrease(this.s.cnt, packets);
  }

  onLoss(now: number, _flight: number, sack: boolean, delivered = 0, pipe = 0): void {
    this.s.sack = sack;
    this.s.inRecovery = true;
    this.s.priorCwnd = this.segs;
    this.s.priorThresh = this.thresh;
    this.thresh = this.reduce();
    this.s.cwndCnt = 0;
    this.s.prrDelivered = 0;
    this.s.prrOut = 0;
    this.s.dupSegs = 0;
    this.s.hystart.forget(this.s.sentPos);
    // The ACK that started recovery is PRR's first (Linux reduces on it before the fast retransmit).
    this.onRecoveryAck(now, 0, delivered, pipe);
  }

  onRecoveryAck(_now: number, acked: number, delivered: number, pipe: number): void {
    this.s.ackedPos += acked;
    const newly = Math.ceil(delivered / this.mss);
    if (!this.s.sack) {
      // Linux's Reno sacked_out: a duplicate adds one, a partial ACK takes off what it covers.
      this.s.dupSegs = acked > 0 ? Math.max(0, this.s.dupSegs - Math.ceil(acked / this.mss)) : this.s.dupSegs + newly;
    }
    if (newly <= 0) return;
    const inNetwork = Math.ceil(pipe / this.mss);
    // Without SACK the sender's pipe is everything outstanding; the duplicates tell what has left.
    const inFlight = this.s.sack ? inNetwork : Math.max(0, inNetwork - this.s.dupSegs);
    this.s.prrDelivered += newly;
    const delta = this.thresh - inFlight;
    let sendable: number;
    if (delta < 0) {
      // RFC 6937: send in proportion, ssthresh/RecoverFS of what was delivered.
      sendable = Math.ceil((this.thresh * this.s.prrDelivered) / this.s.priorCwnd) - this.s.prrOut;
    } else {
      // Slow-start reduction bound: back up to ssthresh, at most as fast as slow start.
      sendable = Math.max(this.s.prrDelivered - this.s.prrOut, newly);
      if (acked > 0) sendable++;
      sendable = Math.min(delta, sendable);
    }
    // The fast retransmit always goes.
    sendable = Math.max(sendable, this.s.prrOut > 0 ? 0 : 1);
    // The window is in the sender's terms: what it counts as outstanding plus what may go.
    this.segs = inNetwork + sendable;
  }

  onRecoveryEnd(_now: number, flight: number): void {
    this.s.ackedPos = this.s.sentPos - flight;
    this.s.inRecovery = false;
    // tcp_end_cwnd_reduction: the window resumes at ssthresh.
    this.segs = this.thresh;
  }

  onRto(now: number, flight: number, first: boolean): void {
    this.s.ackedPos = this.s.sentPos - flight;
    // tcp_enter_loss: a timeout during fast recovery keeps the reduction recovery already made.
    if (first && !this.s.inRecovery) {
      this.s.priorCwnd = this.segs;
      this.s.priorThresh = this.thresh;
      this.thresh = this.reduce();
    }
    this.s.inRecovery = false;
    // tcp_enter_loss: everything outstanding is presumed lost, so one segment; CUBIC forgets its epoch and W_max.
    this.segs = 1;
    this.s.cwndCnt = 0;
    this.resetCubic();
    this.s.hystart.clear(now, this.s.sentPos);
  }

  undo(): void {
    // tcp_undo_cwnd_reduction with tcp_reno_undo_cwnd.
    this.segs = Math.max(this.segs, this.s.priorCwnd);
    if (this.s.priorThresh > this.thresh) this.thresh = this.s.priorThresh;
    this.s.inRecovery = false;
  }

  private isCwndLimited(): boolean {
    if (this.s.cwndLimited) return true;
    return this.segs < this.thresh && this.segs < 2 * this.s.maxPacketsOut;
  }

  private rttSample(now: number, rtt: number): void {
    if (rtt < 0) return;
    // Samples right after a reduction are distorted by the recovery (Linux discards the first second).
    if (this.s.epochStart !== NONE && now - this.s.epochStart < 1000) return;
    const delay = Math.max(rtt, 0.001);
    const h = this.s.hystart;
    if (h.minRtt === 0 || delay < h.minRtt) h.minRtt = delay;
    if (!h.found && this.segs < this.thresh && this.segs >= HYSTART_LOW_WINDOW) {
      if (h.update(now, delay, this.s.ackedPos, this.s.sentPos)) {
        this.thresh = this.segs;
        h.forget(this.s.sentPos);
      }
    }
  }

  /** recalc_ssthresh: remember W_max (lowered further when the window shrinks: fast convergence), return β·cwnd. */
  private reduce(): number {
    this.s.epochStart = NONE;
    this.s.lastMax = this.segs < this.s.lastMax ? Math.floor((this.segs * (1 + BETA)) / 2) : this.segs;
    return Math.max(Math.floor(this.segs * BETA), 2);
  }

  private resetCubic(): void {
    this.s.cnt = this.s.lastMax = this.s.lastCwnd = this.s.lastTime = this.s.originPoint = this.s.k = this.s.ackCnt = this.s.renoCwnd = 0;
    this.s.epochStart = NONE;
  }

  /** bictcp_update: how many segments must be acknowledged per segment of growth (`cnt`). */
  private update(now: number, acked: number): void {
    const cwnd = this.segs;
    this.s.ackCnt += acked;
    if (this.s.lastCwnd === cwnd && now - this.s.lastTime <= 31) return; // at most every HZ/32 unless cwnd moved
    if (!(this.s.epochStart !== NONE && now === this.s.lastTime)) {
      this.s.lastCwnd = cwnd;
      this.s.lastTime = now;
      if (this.s.epochStart === NONE) {
        this.s.epochStart = now;
        this.s.ackCnt = acked;
        this.s.renoCwnd = cwnd;
        if (this.s.lastMax <= cwnd) {
          this.s.k = 0;
          this.s.originPoint = cwnd;
        } else {
          // K = ∛(W_max·(1−β)/C), here from the distance W_max − cwnd, in 1/1024 s.
          this.s.k = Math.floor(1024 * Math.cbrt((this.s.lastMax - cwnd) / C));
          this.s.originPoint = this.s.lastMax;
        }
      }
      // t in 1/1024 s, one minimum RTT ahead: the target is where the window should be an RTT from now.
      const minRtt = Math.ceil(this.s.hystart.minRtt);
      const t = Math.floor(((now - this.s.epochStart + minRtt) * 1024) / 1000);
      const offs = Math.min(Math.abs(t - this.s.k), 1 << 20);
      const delta = Math.floor(C * (offs / 1024) ** 3);
      const target = t < this.s.k ? this.s.originPoint - delta : this.s.originPoint + delta;
      this.s.cnt = target > cwnd ? Math.floor(cwnd / (target - cwnd)) : 100 * cwnd;
      // With no W_max yet (first avoidance, or after a timeout), grow at least 5 % per round trip.
      if (this.s.lastMax === 0 && this.s.cnt > 20) this.s.cnt = 20;
    }
    // Reno-friendly: never grow more slowly than Reno with the same β would.
    const per = Math.max(1, Math.floor((cwnd * FRIENDLY_SCALE) / 8));
    if (this.s.ackCnt > per) {
      const n = Math.floor((this.s.ackCnt - 1) / per);
      this.s.ackCnt -= n * per;
      this.s.renoCwnd += n;
    }
    if (this.s.renoCwnd > cwnd) {
      const maxCnt = Math.floor(cwnd / (this.s.renoCwnd - cwnd));
      if (this.s.cnt > maxCnt) this.s.cnt = maxCnt;
    }
    // At most one segment per two acknowledged: 1.5× per round trip.
    this.s.cnt = Math.max(this.s.cnt, 2);
  }

  /** tcp_cong_avoid_ai: one segment per `w` acknowledged, credits carried over. */
  private additiveIncrease(w: number, acked: number): void {
    if (this.s.cwndCnt >= w) {
      this.s.cwndCnt = 0;
      this.segs++;
    }
    this.s.cwndCnt += acked;
    if (this.s.cwndCnt >= w) {
      const delta = Math.floor(this.s.cwndCnt / w);
      this.s.cwndCnt -= delta * w;
      this.segs += delta;
    }
    this.segs = Math.min(this.segs, MAX_SEGMENTS);
  }
}

/** A connection's CUBIC, slow-start and recovery state beyond the window itself. */
class CubicState {
  // Positions and whether the window was the limit (tcp_cwnd_validate).
  sentPos = 0;
  ackedPos = 0;
  lastSend = 0;
  cwndLimited = false;
  maxPacketsOut = 0;
  usageEnd = 0;

  // CUBIC's state (Linux's struct bictcp).
  cnt = 0;
  cwndCnt = 0;
  lastMax = 0;
  lastCwnd = 0;
  lastTime = 0;
  epochStart = NONE;
  originPoint = 0;
  /** K, in 1/1024 s as Linux keeps it. */
  k = 0;
  ackCnt = 0;
  renoCwnd = 0;
  readonly hystart = new HyStart();

  // Recovery: proportional rate reduction (RFC 6937), and what undo restores.
  inRecovery = false;
  sack = false;
  priorCwnd = 0;
  priorThresh = 0;
  prrDelivered = 0;
  prrOut = 0;
  /** Without SACK: segments the duplicate ACKs say have left (Linux's sacked_out for Reno). */
  dupSegs = 0;
}
