/**
 * HyStart (Ha and Rhee, "Taming the elephants", 2011), as Linux's
 * tcp_cubic.c runs it with hystart_detect = 3: slow start ends early, with
 * ssthresh set to the window, when either
 * - a train of closely spaced ACKs (≤ 2 ms apart) stretches past half the
 *   minimum RTT since the round began (the pipe is full), or
 * - the smallest of the first 8 RTT samples of a round exceeds the minimum
 *   RTT by an eighth of it, clamped to 4–16 ms (a queue is building).
 * A round ends when the ACKs pass what was sent when it began.
 *
 * It needs an RTT sample per ACK, as Linux takes from each acknowledged
 * segment's send time. The sender times one segment per round trip without
 * timestamps (Karn), so this keeps its own send clock: a short ring of
 * (sequence position, time) marks, one per millisecond in which new data
 * left, from which an ACK's sample is "now − when the last byte it covers
 * was sent". The ring exists only during slow start, so an idle connection
 * or one in congestion avoidance carries none of it. Positions count bytes
 * from the start of the connection (SND.MAX − ISS), as the controller sees them.
 */

/** Samples a round needs before the delay test (Linux's HYSTART_MIN_SAMPLES). */
const MIN_SAMPLES = 8;
/** ACKs this close together (ms) belong to one train (hystart_ack_delta_us). */
const ACK_DELTA = 2;
/** The delay test's margin: minRtt / 8, within these bounds (ms). */
const DELAY_MIN = 4;
const DELAY_MAX = 16;
/** Marks the send clock keeps; older ones are dropped (their ACKs give no sample). */
const MARKS = 32;

export class HyStart {
  /** Slow start was ended by HyStart; until the next timeout resets it. */
  found = false;
  /** The smallest RTT sample seen (ms); 0 before any (Linux's delay_min). */
  minRtt = 0;
  private roundStart = 0;
  private lastAck = 0;
  /** The round ends when the cumulative ACK passes this position. */
  private roundEnd = 0;
  private currRtt = Infinity;
  private samples = 0;
  /** The send clock: pairs (position reached, time), oldest first; null outside slow start. */
  private marks: Float64Array | null = null;
  private count = 0;
  /** Data at or below this position was sent before the oldest mark: its ACKs give no sample. */
  private floor = 0;

  /** Linux's bictcp_hystart_reset: a new round begins at `sent`. */
  reset(now: number, sent: number): void {
    this.roundStart = this.lastAck = now;
    this.roundEnd = sent;
    this.currRtt = Infinity;
    this.samples = 0;
  }

  /** Forget everything (a timeout: Linux's bictcp_reset). */
  clear(now: number, sent: number): void {
    this.found = false;
    this.minRtt = 0;
    this.forget(sent);
    this.reset(now, sent);
  }

  /** Drop the send clock: what is in flight now gives no samples (retransmitted, or slow start is over). */
  forget(sent: number): void {
    this.marks = null;
    this.count = 0;
    this.floor = sent;
  }

  /** New data up to `pos` left at `now`. */
  sent(now: number, pos: number): void {
    if (!this.marks) {
      this.marks = new Float64Array(2 * MARKS);
      this.count = 0;
    }
    const m = this.marks;
    const last = 2 * (this.count - 1);
    if (this.count > 0 && m[last + 1] === now) {
      m[last] = pos;
      return;
    }
    if (this.count === MARKS) {
      this.floor = m[0];
      m.copyWithin(0, 2);
      this.count--;
    }
    m[2 * this.count] = pos;
    m[2 * this.count + 1] = now;
    this.count++;
  }

  /** The RTT the cumulative ACK at `acked` gives (ms), or -1; marks it passes are dropped. */
  sample(now: number, acked: number): number {
    const m = this.marks;
    if (!m || acked <= this.floor) return -1;
    let i = 0;
    while (i < this.count && m[2 * i] < acked) i++;
    if (i === this.count) {
      this.forget(acked);
      return -1;
    }
    const rtt = now - m[2 * i + 1];
    // Marks wholly acknowledged go; the one the ACK falls inside stays.
    if (i > 0) {
      this.floor = m[2 * (i - 1)];
      m.copyWithin(0, 2 * i, 2 * this.count);
      this.count -= i;
    }
    return rtt;
  }

  /**
   * One RTT sample during slow start with the window at least hystart_low_window;
   * `acked` is the cumulative ACK's position, `sent` SND.MAX's. True when slow start should end.
   */
  update(now: number, rtt: number, acked: number, sent: number): boolean {
    if (acked > this.roundEnd) this.reset(now, sent);
    if (now - this.lastAck <= ACK_DELTA) {
      this.lastAck = now;
      // Without pacing Linux halves the threshold: a train that long means the pipe is full.
      if (now - this.roundStart > (this.minRtt + 1) / 2) return (this.found = true);
    }
    if (rtt < this.currRtt) this.currRtt = rtt;
    if (this.samples < MIN_SAMPLES) {
      this.samples++;
      return false;
    }
    const margin = Math.min(DELAY_MAX, Math.max(DELAY_MIN, this.minRtt / 8));
    if (this.currRtt > this.minRtt + margin) return (this.found = true);
    return false;
  }
}
