/**
 * The out-of-order queue: bytes received beyond a hole, held until the hole
 * fills (RFC 9293 §3.10.7.4, "segment text"), and the SACK blocks that
 * report them (RFC 2018 §4).
 *
 * What an attacker can make of it decides the design. Bytes are kept as
 * *runs*, maximal contiguous ranges: a segment that touches a run joins it
 * (Linux collapses its queue only under memory pressure; joining at once
 * costs nothing more and keeps one object per range). Runs sit in an AVL tree
 * keyed by their left edge, so finding, adding and removing one is O(log n)
 * whatever order segments come in. Each run owns a copy of its bytes (not the
 * packet buffer the segment came in, which would keep headers alive) with
 * some room at both ends, so joining grows it in amortized O(1) per byte.
 *
 * The number of runs is bounded. When a segment needs a new run and the bound
 * is reached, the queue does what Linux's tcp_prune_ofo_queue does: it drops
 * runs from the highest sequence down, a batch at a time, but never one that
 * lies below the arriving segment, and it forgets its SACK history (the
 * sender must not rely on blocks the receiver may have dropped, RFC 2018
 * §8); a segment that would land last is dropped instead.
 *
 * Every step that visits a run is counted (`ops`), so tests can bound the
 * CPU cost as a number of operations rather than a wall-clock time.
 */
import { add, diff, ge, gt, le, lt } from './seq.js';

/**
 * What a run costs beyond its bytes: the run object, its Uint8Array and its
 * ArrayBuffer (about 290 B measured on Node 20 x64; ooo-queue.test.ts checks it).
 */
export const RUN_COST = 320;

/** Counters the queue reports into (the stack's named counters). */
export interface QueueStats {
  add(name: string, n?: number): void;
}

/** SACK blocks remembered, as Linux remembers them (TCP_NUM_SACKS). */
const ANCHORS = 4;

class Run {
  l: Run | null = null;
  r: Run | null = null;
  h = 1;
  constructor(
    /** Sequence number of the first byte. */
    public left: number,
    public buf: Uint8Array,
    /** Where the first byte sits in buf. */
    public off: number,
    public length: number,
  ) {}

  get right(): number {
    return add(this.left, this.length);
  }

  bytes(): Uint8Array {
    return this.buf.subarray(this.off, this.off + this.length);
  }
}

export type InsertResult = 'stored' | 'duplicate' | 'dropped';

export class OutOfOrderQueue {
  /** Runs held. */
  count = 0;
  /** Bytes held. */
  bytes = 0;
  /** Bytes allocated for them (bytes plus the room at the ends of runs). */
  capacity = 0;
  private root: Run | null = null;
  /** Sequence numbers inside the runs reported most recently, newest first (RFC 2018 §4). */
  private anchors: number[] = [];
  private ops = 0;

  constructor(private readonly stats: QueueStats) {}

  /** Memory the queue holds, by its own account. */
  get memory(): number {
    return this.capacity + this.count * RUN_COST;
  }

  /**
   * Stores `data` at `seq` (beyond RCV.NXT, already trimmed to the window).
   * `maxRuns` bounds the number of runs; see the file comment for what
   * happens when a segment needs one more.
   */
  insert(seq: number, data: Uint8Array, maxRuns: number): InsertResult {
    const first = seq;
    const end = add(seq, data.length);
    let base = this.floor(seq);
    if (base && ge(base.right, end)) {
      this.note(first);
      return this.done('duplicate');
    }
    if (base && lt(base.right, seq)) base = null;
    if (base) {
      data = data.subarray(diff(base.right, seq));
      seq = base.right;
    }
    // Runs the segment covers go; one it reaches into is joined.
    let join: Run | null = null;
    for (let next = this.higher(seq); next && le(next.left, end); next = this.higher(seq)) {
      if (gt(next.right, end)) {
        data = data.subarray(0, diff(next.left, seq));
        join = next;
        break;
      }
      this.drop(next);
    }
    if (base && join) this.merge(base, data, join);
    else if (base) this.grow(base, false, data);
    else if (join) {
      // No run starts in [seq, join.left): lowering join's key keeps the tree in order.
      this.grow(join, true, data);
      join.left = seq;
    } else {
      if (this.count >= maxRuns && !this.prune(seq, maxRuns)) {
        this.stats.add('tcp.ooo-dropped');
        return this.done('dropped');
      }
      const run = new Run(seq, Uint8Array.prototype.slice.call(data), 0, data.length);
      this.capacity += data.length;
      this.root = this.insertAt(this.root, run);
      this.count++;
    }
    this.bytes += data.length;
    this.note(first);
    return this.done('stored');
  }

  /**
   * Takes the first run if RCV.NXT has reached it: its bytes from RCV.NXT on
   * (possibly none, if the in-order data already covered it), or null.
   */
  takeFirst(rcvNxt: number): Uint8Array | null {
    let run = this.root;
    while (run?.l) {
      this.ops++;
      run = run.l;
    }
    if (!run || gt(run.left, rcvNxt)) return this.done(null);
    this.drop(run);
    const skip = Math.min(run.length, diff(rcvNxt, run.left));
    return this.done(run.bytes().subarray(skip));
  }

  /** Up to `max` blocks [left, right): the run holding the newest segment first, then the runs reported before it. */
  sackBlocks(max: number): Array<[number, number]> {
    const out: Array<[number, number]> = [];
    const seen: Run[] = [];
    for (const seq of this.anchors) {
      if (out.length === max) break;
      const run = this.containing(seq);
      if (run && !seen.includes(run)) {
        seen.push(run);
        out.push([run.left, run.right]);
      }
    }
    return this.done(out);
  }

  /** The left edges and lengths of every run, in order (for tests). */
  runs(): Array<[number, number]> {
    const out: Array<[number, number]> = [];
    const walk = (n: Run | null): void => {
      if (!n) return;
      walk(n.l);
      out.push([n.left, n.length]);
      walk(n.r);
    };
    walk(this.root);
    return out;
  }

  // ---- bound ----

  /** Linux's tcp_prune_ofo_queue: drops runs above `seq` from the top, an eighth of the bound at a time. */
  private prune(seq: number, maxRuns: number): boolean {
    let goal = Math.max(1, maxRuns >> 3);
    let pruned = 0;
    while (goal-- > 0) {
      const top = this.last();
      // A run below the arriving segment is closer to being delivered: it stays.
      if (!top || lt(top.left, seq)) break;
      this.drop(top);
      pruned++;
    }
    if (pruned === 0) return false;
    this.stats.add('tcp.ooo-pruned', pruned);
    // tcp_sack_reset: blocks reported before may be gone now.
    this.anchors = [];
    return this.count < maxRuns;
  }

  // ---- runs ----

  /** Removes a run from the tree and the accounts. */
  private drop(run: Run): void {
    this.root = this.removeAt(this.root, run.left);
    this.count--;
    this.bytes -= run.length;
    this.capacity -= run.buf.length;
  }

  /** Joins base, the bytes between, and join into one run, copying the smaller side into the larger. */
  private merge(base: Run, data: Uint8Array, join: Run): void {
    if (base.length >= join.length) {
      this.drop(join);
      this.bytes += join.length; // drop() took them off; they stay, inside base
      this.grow(base, false, data, join.bytes());
    } else {
      this.drop(base);
      this.bytes += base.length;
      this.grow(join, true, base.bytes(), data);
      join.left = base.left;
    }
  }

  /** Adds the pieces, in order, in front of a run or after it. */
  private grow(run: Run, front: boolean, ...pieces: Uint8Array[]): void {
    let n = 0;
    for (const p of pieces) n += p.length;
    const room = front ? run.off : run.buf.length - run.off - run.length;
    if (room < n) this.reallocate(run, front ? n : 0, front ? 0 : n);
    let at = front ? run.off - n : run.off + run.length;
    for (const p of pieces) {
      run.buf.set(p, at);
      at += p.length;
    }
    if (front) run.off -= n;
    run.length += n;
  }

  /**
   * A bigger buffer: half as much again as needed, three quarters of the spare
   * room on the side that grows and a quarter on the other, so growth in
   * either direction costs amortized O(1) per byte.
   */
  private reallocate(run: Run, left: number, right: number): void {
    const need = run.length + left + right;
    const spare = Math.ceil(need / 2);
    const spareLeft = left > 0 ? spare - (spare >> 2) : spare >> 2;
    const buf = new Uint8Array(need + spare);
    buf.set(run.bytes(), spareLeft + left);
    this.capacity += buf.length - run.buf.length;
    run.buf = buf;
    run.off = spareLeft + left;
  }

  // ---- SACK history ----

  /** The segment at `seq` was just received: its run goes first, other runs' anchors follow (deduplicated by run). */
  private note(seq: number): void {
    const kept = [seq];
    const runs = [this.containing(seq)];
    for (const a of this.anchors) {
      if (kept.length === ANCHORS) break;
      const other = this.containing(a);
      if (other && !runs.includes(other)) {
        kept.push(a);
        runs.push(other);
      }
    }
    this.anchors = kept;
  }

  private containing(seq: number): Run | null {
    const run = this.floor(seq);
    return run && lt(seq, run.right) ? run : null;
  }

  // ---- the tree (AVL, keyed by left edge in sequence-number order) ----

  /** The run with the greatest left edge ≤ seq. */
  private floor(seq: number): Run | null {
    let best: Run | null = null;
    for (let n = this.root; n; ) {
      this.ops++;
      if (le(n.left, seq)) {
        best = n;
        n = n.r;
      } else n = n.l;
    }
    return best;
  }

  /** The run with the smallest left edge > seq. */
  private higher(seq: number): Run | null {
    let best: Run | null = null;
    for (let n = this.root; n; ) {
      this.ops++;
      if (gt(n.left, seq)) {
        best = n;
        n = n.l;
      } else n = n.r;
    }
    return best;
  }

  private last(): Run | null {
    let n = this.root;
    while (n?.r) {
      this.ops++;
      n = n.r;
    }
    return n;
  }

  private insertAt(n: Run | null, run: Run): Run {
    if (!n) return run;
    this.ops++;
    if (lt(run.left, n.left)) n.l = this.insertAt(n.l, run);
    else n.r = this.insertAt(n.r, run);
    return this.balance(n);
  }

  private removeAt(n: Run | null, key: number): Run | null {
    if (!n) return null;
    this.ops++;
    const c = diff(key, n.left);
    if (c < 0) n.l = this.removeAt(n.l, key);
    else if (c > 0) n.r = this.removeAt(n.r, key);
    else {
      if (!n.l) return n.r;
      if (!n.r) return n.l;
      let m = n.r;
      while (m.l) {
        this.ops++;
        m = m.l;
      }
      m.r = this.removeMin(n.r);
      m.l = n.l;
      return this.balance(m);
    }
    return this.balance(n);
  }

  private removeMin(n: Run): Run | null {
    this.ops++;
    if (!n.l) return n.r;
    n.l = this.removeMin(n.l);
    return this.balance(n);
  }

  private balance(n: Run): Run {
    const tilt = height(n.l) - height(n.r);
    if (tilt > 1) {
      if (height(n.l!.l) < height(n.l!.r)) n.l = rotateLeft(n.l!);
      return rotateRight(n);
    }
    if (tilt < -1) {
      if (height(n.r!.r) < height(n.r!.l)) n.r = rotateRight(n.r!);
      return rotateLeft(n);
    }
    update(n);
    return n;
  }

  /** Reports the operations counted since the last report; returns `value`. */
  private done<T>(value: T): T {
    if (this.ops > 0) this.stats.add('tcp.ooo-ops', this.ops);
    this.ops = 0;
    return value;
  }
}

function height(n: Run | null): number {
  return n ? n.h : 0;
}

function update(n: Run): void {
  n.h = 1 + Math.max(height(n.l), height(n.r));
}

function rotateRight(n: Run): Run {
  const l = n.l!;
  n.l = l.r;
  l.r = n;
  update(n);
  update(l);
  return l;
}

function rotateLeft(n: Run): Run {
  const r = n.r!;
  n.r = r.l;
  r.l = n;
  update(n);
  update(r);
  return r;
}
