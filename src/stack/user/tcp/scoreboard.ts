/**
 * The sender's SACK scoreboard (RFC 6675 §3–4): which octets above SND.UNA
 * the receiver reported holding, kept as sorted disjoint ranges. From it come
 * the loss estimate (IsLost), the octets in flight (pipe) and the next
 * segment to send (NextSeg).
 */
import { ge, gt, le, lt, max, min } from './seq.js';

/** RFC 6675's DupThresh. */
const DUP_THRESH = 3;

export class Scoreboard {
  /** [left, right) ranges, sorted, disjoint, all above SND.UNA. */
  ranges: Array<[number, number]> = [];

  get empty(): boolean {
    return this.ranges.length === 0;
  }

  /** The highest octet any SACK covered (exclusive), or `una` when none. */
  highSacked(una: number): number {
    return this.ranges.length > 0 ? this.ranges[this.ranges.length - 1]![1] : una;
  }

  /**
   * Merges blocks from one ACK; blocks outside (una, sndMax] are ignored (RFC 2018 §8: they may be
   * stale or forged). Returns how many octets not SACKed before are now (RFC 6937's DeliveredData counts them).
   */
  update(blocks: Array<[number, number]>, una: number, sndMax: number): number {
    let more = 0;
    for (const [left, right] of blocks) {
      if (!lt(left, right) || le(right, una) || gt(right, sndMax)) continue;
      const from = max(left, una);
      const fresh = this.unsacked(from, right);
      if (fresh > 0) {
        more += fresh;
        this.add(from, right);
      }
    }
    return more;
  }

  /** SND.UNA moved: forget what it covers. */
  advance(una: number): void {
    while (this.ranges.length > 0 && le(this.ranges[0]![1], una)) this.ranges.shift();
    const first = this.ranges[0];
    if (first && lt(first[0], una)) first[0] = una;
  }

  clear(): void {
    this.ranges = [];
  }

  /**
   * The octet below which every un-SACKed octet counts as lost (IsLost):
   * DupThresh discontiguous SACKed ranges, or more than (DupThresh-1)·SMSS
   * SACKed octets, lie above it. Returns `una` when nothing is lost.
   */
  lostEdge(una: number, mss: number): number {
    let sacked = 0;
    for (let i = this.ranges.length - 1; i >= 0; i--) {
      const [left, right] = this.ranges[i]!;
      sacked += (right - left) >>> 0;
      const count = this.ranges.length - i;
      if (count >= DUP_THRESH || sacked > (DUP_THRESH - 1) * mss) return max(left, una);
    }
    return una;
  }

  /** Octets in [from, to) not covered by a SACKed range. */
  unsacked(from: number, to: number): number {
    if (!lt(from, to)) return 0;
    let n = (to - from) >>> 0;
    for (const [left, right] of this.ranges) {
      const l = max(left, from);
      const r = min(right, to);
      if (lt(l, r)) n -= (r - l) >>> 0;
    }
    return n;
  }

  /** The first un-SACKed octet at or after `from`, and where that hole ends (the next SACKed range, or `limit`). */
  hole(from: number, limit: number): [number, number] | null {
    let at = from;
    for (const [left, right] of this.ranges) {
      if (le(right, at)) continue;
      if (lt(at, left)) return lt(at, limit) ? [at, min(left, limit)] : null;
      at = right;
    }
    return lt(at, limit) ? [at, limit] : null;
  }

  /** True when `seq` lies inside a SACKed range; returns that range's end, else null. */
  sackedEnd(seq: number): number | null {
    for (const [left, right] of this.ranges) if (ge(seq, left) && lt(seq, right)) return right;
    return null;
  }

  private add(left: number, right: number): void {
    const out: Array<[number, number]> = [];
    let placed = false;
    for (const r of this.ranges) {
      if (lt(r[1], left)) out.push(r);
      else if (gt(r[0], right)) {
        if (!placed) {
          out.push([left, right]);
          placed = true;
        }
        out.push(r);
      } else {
        left = min(left, r[0]);
        right = max(right, r[1]);
      }
    }
    if (!placed) out.push([left, right]);
    this.ranges = out;
  }
}
