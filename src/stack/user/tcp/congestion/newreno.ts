/**
 * Reno's window with NewReno's recovery: slow start and congestion avoidance
 * as RFC 5681 §3.1 has them (byte counting with L = 2, RFC 3465), the halving
 * on loss, and during fast recovery RFC 6582's inflation by one MSS per
 * duplicate ACK and deflation by what a partial ACK covers. With SACK the
 * scoreboard's pipe replaces inflation (RFC 6675 §5): the window is simply
 * ssthresh until recovery ends.
 */
import { INFINITE_SSTHRESH, MAX_WINDOW, type CongestionController } from './controller.js';

export class NewReno implements CongestionController {
  cwnd = 0;
  ssthresh = INFINITE_SSTHRESH;
  private mss = 536;
  /** Bytes acknowledged in congestion avoidance since cwnd last grew. */
  private ackedInCa = 0;
  /** The recovery under way counts pipe from a SACK scoreboard: no inflation. */
  private sack = false;

  /** `initialWindow` in segments (RFC 6928; Linux's 10). */
  constructor(private readonly initialWindow: number) {}

  start(mss: number): void {
    this.mss = mss;
    // RFC 6928: IW = min(10·MSS, max(2·MSS, 14600)), with the configured segments for 10.
    this.cwnd = Math.min(this.initialWindow * mss, Math.max(2 * mss, 14600));
  }

  setMss(mss: number): void {
    this.mss = mss;
  }

  preTransmit(): void {}

  onSend(): void {}

  onAck(_now: number, acked: number): void {
    if (this.cwnd < this.ssthresh) {
      // Slow start, counting bytes acknowledged up to 2·SMSS per ACK (RFC 3465 L=2).
      this.cwnd += Math.min(acked, 2 * this.mss);
    } else {
      this.ackedInCa += acked;
      if (this.ackedInCa >= this.cwnd) {
        this.ackedInCa -= this.cwnd;
        this.cwnd += this.mss;
      }
    }
    this.cwnd = Math.min(this.cwnd, MAX_WINDOW);
  }

  onLoss(_now: number, flight: number, sack: boolean): void {
    this.sack = sack;
    this.ssthresh = this.halved(flight);
    this.ackedInCa = 0;
    // RFC 6675 §5 step 4.2 sets cwnd = ssthresh; RFC 6582 §3.2 step 2 inflates it by the three duplicates.
    this.cwnd = sack ? this.ssthresh : this.ssthresh + 3 * this.mss;
  }

  onRecoveryAck(_now: number, acked: number): void {
    if (this.sack) return;
    if (acked === 0) this.cwnd += this.mss; // NewReno inflation: another segment left the network
    else this.cwnd = Math.max(this.cwnd - acked + this.mss, this.mss); // partial ACK: deflate, then one more
  }

  onRecoveryEnd(_now: number, flight: number): void {
    // RFC 6582 §3.2 step 3, first option.
    this.cwnd = Math.min(this.ssthresh, Math.max(flight, this.mss) + this.mss);
  }

  onRto(_now: number, flight: number, first: boolean): void {
    // RFC 5681 eq. (4) on the first timeout of a segment, then one segment (§3.1).
    if (first) this.ssthresh = this.halved(flight);
    this.cwnd = this.mss;
    this.ackedInCa = 0;
  }

  /** RFC 5681 eq. (4): ssthresh = max(FlightSize / 2, 2·SMSS). */
  private halved(flight: number): number {
    return Math.max(Math.floor(flight / 2), 2 * this.mss);
  }
}
