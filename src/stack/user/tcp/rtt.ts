/**
 * The retransmission timer's estimator (RFC 6298): smoothed RTT and its
 * variation from samples, RTO = SRTT + max(G, 4·RTTVAR) clamped to bounds,
 * doubled on every expiry (§5.5) until a new sample resets it.
 */
export class RttEstimator {
  srtt = 0;
  rttvar = 0;
  /** The RTO before backoff. */
  private base: number;
  private backoffs = 0;
  private sampled = false;

  constructor(
    initialMs: number,
    private readonly minMs: number,
    private readonly maxMs: number,
  ) {
    this.base = initialMs;
  }

  get rto(): number {
    return Math.min(this.maxMs, this.base * 2 ** this.backoffs);
  }

  get hasSample(): boolean {
    return this.sampled;
  }

  /** A round-trip measurement in ms; callers obey Karn's rule (no samples from retransmitted segments). */
  sample(rttMs: number): void {
    const r = Math.max(rttMs, 0);
    if (!this.sampled) {
      this.srtt = r;
      this.rttvar = r / 2;
      this.sampled = true;
    } else {
      this.rttvar = 0.75 * this.rttvar + 0.25 * Math.abs(this.srtt - r);
      this.srtt = 0.875 * this.srtt + 0.125 * r;
    }
    // G, the clock granularity, is 1 ms here.
    this.base = Math.min(this.maxMs, Math.max(this.minMs, this.srtt + Math.max(1, 4 * this.rttvar)));
    this.backoffs = 0;
  }

  backoff(): void {
    if (this.rto < this.maxMs) this.backoffs++;
  }

  /** §5.7: after the handshake's SYN was retransmitted, data starts from a 3 s RTO unless a sample came in. */
  resetBackoff(): void {
    this.backoffs = 0;
    if (!this.sampled) this.base = Math.min(this.maxMs, Math.max(this.base, 3000));
  }
}
