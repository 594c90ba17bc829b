/**
 * Received bytes: the in-order part the application has not read yet, and
 * the out-of-order segments held until the hole before them fills (RFC 9293
 * §3.10.7.4, "segment text"). Both lie inside the window the receiver
 * advertised, so together they are bounded by the receive buffer. Also
 * produces the SACK blocks of RFC 2018 §4, most recently changed first.
 */
import { add, diff, gt, lt } from './seq.js';

interface Piece {
  seq: number;
  data: Uint8Array;
}

export class RecvBuffer {
  /** In-order bytes waiting for read(). */
  private ready: Uint8Array[] = [];
  private readyHead = 0;
  /** Bytes of ready[readyHead] already read. */
  private readOffset = 0;
  readable = 0;
  /** Out-of-order pieces sorted by sequence, not overlapping. */
  private pending: Piece[] = [];
  pendingBytes = 0;
  /** Left edges of recently received out-of-order pieces, newest first (for SACK). */
  private recent: number[] = [];

  /**
   * Takes a segment's bytes starting at `seq`, already trimmed to the window.
   * Returns the new RCV.NXT (moved on over everything now contiguous).
   */
  insert(rcvNxt: number, seq: number, data: Uint8Array): number {
    if (data.length === 0) return rcvNxt;
    const skip = diff(rcvNxt, seq);
    if (skip > 0) {
      if (skip >= data.length) return rcvNxt;
      data = data.subarray(skip);
      seq = rcvNxt;
    }
    if (seq === rcvNxt) {
      this.append(data);
      rcvNxt = add(rcvNxt, data.length);
      return this.drain(rcvNxt);
    }
    this.hold(seq, data);
    return rcvNxt;
  }

  /** Copies up to into.length in-order bytes out. */
  read(into: Uint8Array): number {
    let n = 0;
    while (n < into.length && this.readyHead < this.ready.length) {
      const chunk = this.ready[this.readyHead]!;
      const take = Math.min(chunk.length - this.readOffset, into.length - n);
      into.set(chunk.subarray(this.readOffset, this.readOffset + take), n);
      n += take;
      this.readOffset += take;
      if (this.readOffset === chunk.length) {
        this.ready[this.readyHead++] = EMPTY;
        this.readOffset = 0;
      }
    }
    if (this.readyHead === this.ready.length) {
      this.ready = [];
      this.readyHead = 0;
    }
    this.readable -= n;
    return n;
  }

  /** Drops unread and out-of-order bytes alike. */
  clear(): void {
    this.ready = [];
    this.readyHead = 0;
    this.readOffset = 0;
    this.readable = 0;
    this.pending = [];
    this.pendingBytes = 0;
    this.recent = [];
  }

  get hasPending(): boolean {
    return this.pending.length > 0;
  }

  /** Up to `max` SACK blocks: the block holding the newest piece first, then other recent ones. */
  sackBlocks(max: number): Array<[number, number]> {
    const blocks = this.blocks();
    const out: Array<[number, number]> = [];
    for (const left of this.recent) {
      const b = blocks.find(([l, r]) => !lt(left, l) && lt(left, r));
      if (b && !out.includes(b)) out.push(b);
      if (out.length === max) return out;
    }
    for (const b of blocks) {
      if (out.length === max) break;
      if (!out.includes(b)) out.push(b);
    }
    return out;
  }

  private append(data: Uint8Array): void {
    this.ready.push(data);
    this.readable += data.length;
  }

  /** Moves pieces that now join the in-order data across. */
  private drain(rcvNxt: number): number {
    while (this.pending.length > 0 && !gt(this.pending[0]!.seq, rcvNxt)) {
      const p = this.pending.shift()!;
      this.pendingBytes -= p.data.length;
      const skip = diff(rcvNxt, p.seq);
      if (skip < p.data.length) {
        const data = p.data.subarray(skip);
        this.append(data);
        rcvNxt = add(rcvNxt, data.length);
      }
    }
    if (this.pending.length === 0) this.recent = [];
    return rcvNxt;
  }

  private hold(seq: number, data: Uint8Array): void {
    // Trim against neighbours so pieces never overlap; duplicates vanish.
    const end = add(seq, data.length);
    let i = 0;
    while (i < this.pending.length && lt(this.pending[i]!.seq, seq)) i++;
    const before = this.pending[i - 1];
    if (before) {
      const beforeEnd = add(before.seq, before.data.length);
      if (!lt(beforeEnd, end)) return; // wholly covered
      if (gt(beforeEnd, seq)) {
        data = data.subarray(diff(beforeEnd, seq));
        seq = beforeEnd;
      }
    }
    // Remove later pieces this one covers entirely; cut this one short at the next.
    while (i < this.pending.length) {
      const next = this.pending[i]!;
      const nextEnd = add(next.seq, next.data.length);
      if (!gt(end, next.seq)) break;
      if (!gt(nextEnd, end)) {
        this.pending.splice(i, 1);
        this.pendingBytes -= next.data.length;
        continue;
      }
      data = data.subarray(0, diff(next.seq, seq));
      break;
    }
    if (data.length === 0) return;
    this.pending.splice(i, 0, { seq, data });
    this.pendingBytes += data.length;
    this.recent = [seq, ...this.recent.filter((s) => s !== seq)].slice(0, 4);
  }

  /** Contiguous runs of out-of-order bytes as [left, right). */
  private blocks(): Array<[number, number]> {
    const out: Array<[number, number]> = [];
    for (const p of this.pending) {
      const last = out[out.length - 1];
      const end = add(p.seq, p.data.length);
      if (last && last[1] === p.seq) last[1] = end;
      else out.push([p.seq, end]);
    }
    return out;
  }
}

const EMPTY = new Uint8Array(0);
