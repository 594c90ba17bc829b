/**
 * A TCP_INFO-like view of one connection, for the `tcpi_*` names of a
 * script's `%{ }%` blocks. Counts are in segments, as Linux keeps them
 * (bytes / MSS, rounded up). A field the stack has no notion of is not
 * invented: reading it is an Unsupported that names it, so the script is
 * skipped rather than judged on a made-up number.
 */
import { State } from '../stack/user/tcp/state.js';
import type { Tcb } from '../stack/user/tcp/tcb.js';
import { diff, lt, min } from '../stack/user/tcp/seq.js';
import { Unsupported, type PyValue } from './python.js';

/** Linux's tcp_ca_state values, which scripts compare tcpi_ca_state with. */
export const CA_STATES: Record<string, number> = { TCP_CA_Open: 0, TCP_CA_Disorder: 1, TCP_CA_CWR: 2, TCP_CA_Recovery: 3, TCP_CA_Loss: 4 };

/** Linux's TCP state numbers (include/net/tcp_states.h). */
const LINUX_STATE: Record<number, number> = {
  [State.Established]: 1,
  [State.SynSent]: 2,
  [State.SynReceived]: 3,
  [State.FinWait1]: 4,
  [State.FinWait2]: 5,
  [State.TimeWait]: 6,
  [State.Closed]: 7,
  [State.CloseWait]: 8,
  [State.LastAck]: 9,
  [State.Closing]: 11,
};

/** Fields Linux has and this stack does not keep, with why, for the skip message. */
const MISSING: Record<string, string> = {
  tcpi_reord_seen: 'no reordering detection',
  tcpi_min_rtt: 'no windowed min RTT',
  tcpi_probes: 'no probe counter exposed',
  tcpi_backoff: 'no backoff counter exposed',
  tcpi_delivery_rate: 'no delivery-rate estimate',
  tcpi_pacing_rate: 'no pacing',
  tcpi_max_pacing_rate: 'no pacing',
  tcpi_dsack_dups: 'no DSACK',
  tcpi_rcv_ooopack: 'no counter exposed',
};

/** The value of `name` for connection `t` (null: no connection), or undefined when `name` is not a TCP_INFO name. */
export function tcpInfoField(t: Tcb | null, name: string, advmss: number): PyValue | undefined {
  if (name in CA_STATES) return CA_STATES[name];
  if (!name.startsWith('tcpi_')) return undefined;
  if (name in MISSING) throw new Unsupported(`TCP_INFO field ${name} (${MISSING[name]})`);
  if (t === null) throw new Unsupported(`TCP_INFO field ${name} with no connection under test`);
  const mss = Math.max(1, t.mss);
  const segments = (bytes: number) => Math.ceil(Math.max(0, bytes) / mss);
  const outstanding = diff(t.sndMax, t.sndUna);
  const sb = t.scoreboard;
  switch (name) {
    case 'tcpi_state':
      return LINUX_STATE[t.state] ?? 7;
    case 'tcpi_ca_state':
      return caState(t);
    case 'tcpi_snd_cwnd':
      return Math.floor(t.cwnd / mss);
    case 'tcpi_snd_ssthresh':
      // Linux reports TCP_INFINITE_SSTHRESH until the first loss sets it.
      return t.ssthresh >= 0x7fffffff ? 0x7fffffff : Math.floor(t.ssthresh / mss);
    case 'tcpi_snd_mss':
      return t.mss;
    case 'tcpi_advmss':
      return advmss;
    case 'tcpi_unacked':
      return segments(outstanding);
    case 'tcpi_sacked':
      return sb ? segments(outstanding - sb.unsacked(t.sndUna, t.sndMax)) : 0;
    case 'tcpi_lost':
      return sb ? segments(sb.unsacked(t.sndUna, sb.lostEdge(t.sndUna, t.mss))) : 0;
    case 'tcpi_retrans':
      return segments(retransmittedInFlight(t));
    case 'tcpi_total_retrans':
      return t.retransmits;
    case 'tcpi_reordering':
      // The stack's duplicate threshold: fixed at tcp_reordering's 3, it never adapts.
      return 3;
    case 'tcpi_rtt':
      return Math.round(t.rtt.srtt * 1000);
    case 'tcpi_rttvar':
      return Math.round(t.rtt.rttvar * 1000);
    case 'tcpi_rto':
      return Math.round(t.rtt.rto * 1000);
    case 'tcpi_snd_wnd':
      return t.sndWnd;
    case 'tcpi_snd_wscale':
      return t.sndShift;
    case 'tcpi_rcv_wscale':
      return t.rcvShift;
    default:
      throw new Unsupported(`TCP_INFO field ${name}`);
  }
}

/**
 * Linux's congestion-control state, read from what the stack keeps: Recovery
 * while in fast recovery; Loss after a retransmission timeout until new data
 * is acknowledged; Disorder when duplicate ACKs or SACKs arrived without a
 * recovery; Open otherwise. There is no ECN, so never CWR.
 */
function caState(t: Tcb): number {
  if (t.inRecovery) return CA_STATES.TCP_CA_Recovery!;
  if (t.retries > 0 && t.state >= State.Established) return CA_STATES.TCP_CA_Loss!;
  if (t.dupAcks > 0 || (t.scoreboard !== null && !t.scoreboard.empty)) return CA_STATES.TCP_CA_Disorder!;
  return CA_STATES.TCP_CA_Open!;
}

/** Octets sent again and not yet acknowledged or SACKed. */
function retransmittedInFlight(t: Tcb): number {
  const sb = t.scoreboard;
  const unsacked = (to: number) => (sb ? sb.unsacked(t.sndUna, to) : Math.max(0, diff(to, t.sndUna)));
  if (t.inRecovery) return lt(t.sndUna, t.highRxt) ? unsacked(min(t.highRxt, t.sndMax)) : 0;
  if (t.retries > 0) return unsacked(min(t.sndNxt, t.sndMax));
  return 0;
}
