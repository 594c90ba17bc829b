/**
 * Comparing the packet a script expects with what the stack sent, field by
 * field as packetdrill does (flags, seq, ack, window when written, urgent
 * pointer, options in order when written, payload length), after joining a run of consecutive segments
 * into one TSO "superpacket" when the script expects more bytes than one
 * segment carries. Linux sends such bursts as one packet; a stack without TSO
 * sends them as MSS-sized segments, which is the same data on the wire.
 */
import type { PacketSpec, TcpOptionSpec } from './ast.js';
import { flagBits, FIN, PSH, type Sent } from './packet.js';

export interface MatchSettings {
  /** --tcp_ts_tick_usecs: when set, an outbound TS val must be within the tolerance of the script's (else not checked). */
  tsTickUsecs: number;
  toleranceUsecs: number;
}

/**
 * Joins consecutive segments into one, as packetdrill's aggregation does:
 * each must continue the previous one's sequence with the same flags, and
 * every one but the last must be as long as the first. Returns a reason
 * when they cannot be joined.
 */
export function aggregate(parts: Sent[]): Sent | string {
  const first = parts[0]!;
  if (parts.length === 1) return first;
  let length = first.length;
  let psh = first.flags & PSH;
  for (let i = 1; i < parts.length; i++) {
    const prev = parts[i - 1]!;
    const p = parts[i]!;
    if (((prev.seq + prev.length) >>> 0) !== p.seq) return 'the segments do not follow each other';
    if ((p.flags & ~(PSH | FIN)) !== (first.flags & ~(PSH | FIN)) || prev.flags & FIN) return 'the segments carry different flags';
    if (i < parts.length - 1 && p.length !== first.length) return 'the segments are not of one size';
    length += p.length;
    psh |= p.flags & PSH;
  }
  const last = parts[parts.length - 1]!;
  return { ...first, flags: (first.flags & ~(PSH | FIN)) | psh | (last.flags & FIN), length, window: last.window, ack: last.ack };
}

/**
 * The fields of `actual` (in script space) that differ from `expected`:
 * "flags", "seq", "ack", "win", "urg", "options", "TS val", "length".
 * `joined` says `actual` is several segments joined: then PSH is not
 * compared, since where Linux marks PSH inside a TSO burst follows its own
 * buffer sizes, which a stack without TSO does not have.
 */
export function differences(expected: PacketSpec, actual: PacketSpec, joined: boolean, settings: MatchSettings): string[] {
  const out: string[] = [];
  const mask = joined ? ~PSH : ~0;
  if ((flagBits(expected.flags) & mask) !== (flagBits(actual.flags) & mask)) out.push('flags');
  if (expected.seq !== actual.seq) out.push('seq');
  if (expected.ack !== null && expected.ack !== actual.ack) out.push('ack');
  if (expected.window !== null && expected.window !== actual.window) out.push('win');
  if (expected.urgent !== null && expected.urgent !== actual.urgent) out.push('urg');
  const options = compareOptions(expected.options, actual.options, settings);
  if (options) out.push(options);
  if (expected.length !== actual.length) out.push('length');
  return out;
}

function compareOptions(expected: PacketSpec['options'], actual: PacketSpec['options'], settings: MatchSettings): string | null {
  // As packetdrill: a packet written without `<...>` has its options unchecked, like one with `<...>`.
  if (expected === 'any' || expected === null) return null;
  const want = trimEol(expected);
  const got = trimEol(actual === 'any' || actual === null ? [] : actual);
  if (want.length !== got.length) return 'options';
  let tsVal = false;
  for (let i = 0; i < want.length; i++) {
    const w = want[i]!;
    const g = got[i]!;
    if (w.kind !== g.kind) return 'options';
    if (w.kind === 'TS' && g.kind === 'TS') {
      if (w.ecr !== g.ecr) return 'options';
      // As packetdrill: TS val is checked only with --tcp_ts_tick_usecs, within the tolerance.
      if (settings.tsTickUsecs > 0 && Math.abs(((g.val - w.val) | 0) * settings.tsTickUsecs) > settings.toleranceUsecs) tsVal = true;
      continue;
    }
    if (!sameOption(w, g)) return 'options';
  }
  return tsVal ? 'TS val' : null;
}

function sameOption(a: TcpOptionSpec, b: TcpOptionSpec): boolean {
  if (a.kind === 'mss' && b.kind === 'mss') return a.value === b.value;
  if (a.kind === 'wscale' && b.kind === 'wscale') return a.value === b.value;
  if (a.kind === 'sack' && b.kind === 'sack') return a.blocks.length === b.blocks.length && a.blocks.every(([l, r], i) => l === b.blocks[i]![0] && r === b.blocks[i]![1]);
  if (a.kind === 'unsupported' || b.kind === 'unsupported') return false;
  return a.kind === b.kind;
}

/** End of Option List at the end is padding, whether a script writes it or not. */
function trimEol(list: TcpOptionSpec[]): TcpOptionSpec[] {
  let n = list.length;
  while (n > 0 && list[n - 1]!.kind === 'eol') n--;
  return list.slice(0, n);
}
