/**
 * TCP's tunables. Where the RFCs leave a choice the defaults are Linux's,
 * so the stack behaves like the peer most users will meet (the sysctl that
 * holds each value on Linux is named beside it).
 */
export interface TcpConfig {
  /** RFC 6298 §2.1: 1 s before the first RTT sample. */
  initialRtoMs: number;
  /** TCP_RTO_MIN: 200 ms. */
  minRtoMs: number;
  /** TCP_RTO_MAX: 120 s on Linux; the issue asks for RFC 6298's 60 s ceiling. */
  maxRtoMs: number;
  /** tcp_syn_retries: SYN retransmissions before connect fails with ETIMEDOUT. */
  synRetries: number;
  /** tcp_synack_retries. */
  synAckRetries: number;
  /** tcp_retries2: data retransmissions before the connection fails with ETIMEDOUT. */
  retries: number;
  /** 2*MSL; Linux's TCP_TIMEWAIT_LEN is 60 s. */
  timeWaitMs: number;
  /** tcp_fin_timeout: how long an orphaned connection may sit in FIN_WAIT_2. */
  finTimeoutMs: number;
  /** tcp_keepalive_intvl and tcp_keepalive_probes. */
  keepAliveIntervalMs: number;
  keepAliveProbes: number;
  /** TCP_DELACK_MIN: 40 ms. */
  delayedAckMs: number;
  /**
   * TCP_MAX_QUICKACKS: at the start of a connection, after a silence longer than an RTO and after a
   * duplicate segment, Linux acknowledges up to this many segments at once instead of delaying
   * (quick-ACK mode, delack.ts). 0 turns the mode off: RFC 9293's delayed ACK from the first segment.
   */
  quickAcks: number;
  /** tcp_challenge_ack_limit: challenge ACKs per second for the whole stack (RFC 5961 §7). */
  challengeAckLimit: number;
  /**
   * tcp_invalid_ratelimit: per connection, at most one ACK per this many ms in
   * answer to segments outside the window, failing PAWS, or drawing a challenge
   * ACK (data-carrying ones excepted); 0 turns the limit off.
   */
  invalidRateLimitMs: number;
  /**
   * tcp_syncookies: 1 answers SYNs with cookies (RFC 4987 §3.6) when a
   * listener's SYN queue is full, 2 always, 0 never (the SYN is dropped).
   */
  synCookies: 0 | 1 | 2;
  /** Our MSS ceiling; the route's MTU lowers it. */
  mss: number;
  /** RFC 6928 initial window, in segments (Linux: 10). */
  initialWindow: number;
  /**
   * tcp_rmem's maximum: how large a receive buffer may grow. The window scale a SYN offers is
   * chosen so a window this large can be advertised (Linux: 6 MiB, so scale 7).
   */
  recvBufferMax: number;
  /** Offer SACK, timestamps and window scaling in the SYN. */
  sack: boolean;
  timestamps: boolean;
  windowScaling: boolean;
  /**
   * 'cubic' (the default, as Linux's): RFC 9438 CUBIC with HyStart, slow start only while the
   * window is the limit, proportional rate reduction (RFC 6937) in recovery.
   * 'newreno': RFC 5681 slow start and congestion avoidance with NewReno or SACK recovery.
   * 'none': no congestion window at all, only the peer's window; for experiments and for
   * comparing with stacks that ship without one (smoltcp's default). Never on a shared network.
   */
  congestionControl: 'cubic' | 'newreno' | 'none';
}

export const DEFAULT_TCP: Readonly<TcpConfig> = Object.freeze({
  initialRtoMs: 1000,
  minRtoMs: 200,
  maxRtoMs: 60_000,
  synRetries: 6,
  synAckRetries: 5,
  retries: 15,
  timeWaitMs: 60_000,
  finTimeoutMs: 60_000,
  keepAliveIntervalMs: 75_000,
  keepAliveProbes: 9,
  delayedAckMs: 40,
  quickAcks: 16,
  challengeAckLimit: 1000,
  invalidRateLimitMs: 500,
  synCookies: 1,
  mss: 1460,
  initialWindow: 10,
  recvBufferMax: 6 * 1024 * 1024,
  sack: true,
  timestamps: true,
  windowScaling: true,
  congestionControl: 'cubic',
});
