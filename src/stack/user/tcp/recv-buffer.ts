/**
 * Received bytes: the in-order part the application has not read yet, and
 * the out-of-order bytes held until the hole before them fills (RFC 9293
 * §3.10.7.4, "segment text"). Both lie inside the window the receiver
 * advertised, so together they are bounded by the receive buffer. The
 * out-of-order part (ooo-queue.ts) exists only while it holds something.
 */
import { OutOfOrderQueue, RUN_COST, type QueueStats } from './ooo-queue.js';
import { add, diff } from './seq.js';

/** `insert`'s answer when the segment was dropped for want of room in the out-of-order queue. */
export const DROPPED = -1;

export class RecvBuffer {
  /** In-order bytes waiting for read(). */
  private ready: Uint8Array[] = [];
  private readyHead = 0;
  /** Bytes of ready[readyHead] already read. */
  private readOffset = 0;
  readable = 0;
  /** Out-of-order bytes; null while there are none. */
  private ooo: OutOfOrderQueue | null = null;

  /**
   * How many separate out-of-order runs a receive buffer may hold: their
   * overhead (RUN_COST each) stays within a quarter of the buffer. Full-sized
   * segments never come near it (a 64 KiB window of 1460-byte segments makes
   * at most 23 runs, the bound is 51); one-byte segments at every other
   * offset do.
   */
  static maxRuns(recvBufferSize: number): number {
    return Math.max(8, Math.floor(recvBufferSize / 4 / RUN_COST));
  }

  /**
   * Takes a segment's bytes starting at `seq`, already trimmed to the window.
   * Returns the new RCV.NXT (moved on over everything now contiguous), or
   * DROPPED when the out-of-order queue had no room for them.
   */
  insert(rcvNxt: number, seq: number, data: Uint8Array, maxRuns: number, stats: QueueStats): number {
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
    this.ooo ??= new OutOfOrderQueue(stats);
    if (this.ooo.insert(seq, data, maxRuns) === 'dropped') {
      if (this.ooo.count === 0) this.ooo = null;
      return DROPPED;
    }
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
    this.ooo = null;
  }

  get hasPending(): boolean {
    return this.ooo !== null;
  }

  /** Out-of-order runs held. */
  get runs(): number {
    return this.ooo?.count ?? 0;
  }

  /** Out-of-order bytes held. */
  get pendingBytes(): number {
    return this.ooo?.bytes ?? 0;
  }

  /** The memory they take, by the queue's account. */
  get pendingMemory(): number {
    return this.ooo?.memory ?? 0;
  }

  /** Up to `max` SACK blocks (RFC 2018 §4): the block holding the newest segment first, then those reported before. */
  sackBlocks(max: number): Array<[number, number]> {
    return this.ooo?.sackBlocks(max) ?? [];
  }
  private append(data: Uint8Array): void {
    this.ready.push(data);
    this.readable += data.length;
  }

  /** Moves runs that now join the in-order data across. */
  private drain(rcvNxt: number): number {
    const ooo = this.ooo;
    if (!ooo) return rcvNxt;
    for (let data = ooo.takeFirst(rcvNxt); data; data = ooo.takeFirst(rcvNxt)) {
      if (data.length === 0) continue;
      this.append(data);
      rcvNxt = add(rcvNxt, data.length);
    }
    if (ooo.count === 0) this.ooo = null;
    return rcvNxt;
  }
}

const EMPTY = new Uint8Array(0);
