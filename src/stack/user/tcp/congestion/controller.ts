/**
 * What a congestion controller is to the sender: it owns the congestion
 * window and the slow-start threshold, and the sender tells it what
 * happened. The hooks follow smoltcp's `Controller` (window, on_ack,
 * on_duplicate_ack / on_retransmit, pre_transmit / post_transmit, set_mss),
 * split where TCP's loss recovery needs to tell more apart: loss found by
 * duplicate ACKs or SACK (fast recovery) is not a timeout, and an ACK during
 * recovery is not an ACK outside it.
 *
 * Loss *detection* and recovery (duplicate ACK counting, the SACK
 * scoreboard, which segment goes again) stay in sender.ts: every controller
 * shares them, as Linux's tcp_input.c serves every tcp_congestion_ops. What a
 * controller decides is how large the window is, so the hooks carry enough
 * for the algorithms the stack may grow:
 * - growth only when the window was the limit (RFC 7661, Linux's
 *   tcp_is_cwnd_limited): `onSend` reports the flight after every send;
 * - counting acknowledged segments (CUBIC, HyStart): `onAck` has the bytes,
 *   `start`/`setMss` the segment size, `onAck` the RTT sample for HyStart;
 * - a multiplicative decrease with any beta: `onLoss` and `onRto` get the
 *   flight the decrease is taken from;
 * - proportional rate reduction during recovery (RFC 6937): `onLoss` gives
 *   RecoverFS, `onSend` counts prr_out, `onRecoveryAck` gives DeliveredData
 *   and pipe, and the window the controller sets is compared with pipe;
 * - undo (Linux's undo_cwnd) once a reduction proves spurious: `undo`.
 *
 * Every hook takes plain numbers, so a call per segment allocates nothing.
 * Sizes are bytes, times ms on the stack's clock.
 */

/** RFC 5681's "arbitrarily high" initial ssthresh (Linux's TCP_INFINITE_SSTHRESH). */
export const INFINITE_SSTHRESH = 0x7fffffff;
/** The largest window a controller reports: larger than any flight the 32-bit sequence space allows. */
export const MAX_WINDOW = 0x3fffffff;

export interface CongestionController {
  /** The congestion window: how many bytes may be in flight (smoltcp's window()). */
  readonly cwnd: number;
  /** The slow-start threshold; INFINITE_SSTHRESH until the first loss. */
  readonly ssthresh: number;

  /** The handshake completed: start from the initial window for this MSS. */
  start(mss: number, now: number): void;
  /** The segment size changed (path MTU discovery): controllers counting in segments rescale (smoltcp's set_mss). */
  setMss(mss: number): void;
  /** The sender is about to send (smoltcp's pre_transmit): where restart after idle or pacing would decide. */
  preTransmit(now: number): void;
  /** `bytes` left (new or again); `flight` is SND.MAX − SND.UNA after it (smoltcp's post_transmit). */
  onSend(now: number, bytes: number, flight: number): void;
  /**
   * New data acknowledged outside recovery (smoltcp's on_ack): `acked` bytes of it, the
   * round-trip sample it gave (ms, or -1 when none), `flight` before the ACK.
   */
  onAck(now: number, acked: number, rtt: number, flight: number): void;
  /**
   * Loss inferred from duplicate ACKs or SACK (smoltcp's on_duplicate_ack at the threshold):
   * fast recovery starts with `flight` outstanding; `sack` when the peer SACKs (pipe is then
   * counted from the scoreboard, else from the duplicates). `delivered` and `pipe` are the
   * triggering ACK's, as onRecoveryAck has them, before the fast retransmit leaves (PRR
   * counts that ACK as its first).
   */
  onLoss(now: number, flight: number, sack: boolean, delivered: number, pipe: number): void;
  /**
   * An ACK during fast recovery: a duplicate (`acked` 0) or a partial acknowledgment of
   * `acked` bytes. `delivered` is what the receiver newly holds (RFC 6937's DeliveredData:
   * acked plus newly SACKed, or one MSS per duplicate without SACK), `pipe` the estimate of
   * bytes still in the network.
   */
  onRecoveryAck(now: number, acked: number, delivered: number, pipe: number): void;
  /** A full acknowledgment ended recovery; `flight` is what is still outstanding. */
  onRecoveryEnd(now: number, flight: number): void;
  /** The retransmission timer expired (smoltcp's on_retransmit); `first` on a segment's first timeout. */
  onRto(now: number, flight: number, first: boolean): void;
  /**
   * The last reduction was spurious (a DSACK or F-RTO would tell): put the window back.
   * Optional: the stack detects no spurious retransmission yet, so nothing calls it today.
   */
  undo?(now: number): void;
}
