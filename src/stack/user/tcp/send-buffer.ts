/**
 * Bytes the application handed to TCP that the peer has not acknowledged:
 * sent and unsent alike, addressed by their offset from SND.UNA. Writes are
 * copied once into chunks; acknowledged chunks are released at once, so an
 * idle connection holds no buffer memory at all.
 */

/** Small writes share blocks of this size instead of costing a chunk each. */
const BLOCK = 4096;

export class SendBuffer {
  private chunks: Uint8Array[] = [];
  /** Bytes of the first chunk already acknowledged. */
  private headOffset = 0;
  /** Bytes used in the last chunk when it is a shared block. */
  private tailUsed = -1;
  length = 0;

  constructor(public capacity: number) {}

  get free(): number {
    return Math.max(0, this.capacity - this.length);
  }

  /** Copies `data` in; the caller keeps within `free`. */
  push(data: Uint8Array): void {
    if (data.length === 0) return;
    let src = data;
    if (this.tailUsed >= 0) {
      const tail = this.chunks[this.chunks.length - 1]!;
      const n = Math.min(tail.length - this.tailUsed, src.length);
      tail.set(n === src.length ? src : src.subarray(0, n), this.tailUsed);
      this.tailUsed += n;
      this.length += n;
      src = src.subarray(n);
      if (src.length === 0) return;
    }
    if (src.length >= BLOCK) {
      // Uint8Array's slice, which copies: a Node Buffer's slice() is a view, and the caller reuses its buffer.
      this.chunks.push(Uint8Array.prototype.slice.call(src));
      this.tailUsed = -1;
    } else {
      const block = new Uint8Array(BLOCK);
      block.set(src);
      this.chunks.push(block);
      this.tailUsed = src.length;
    }
    this.length += src.length;
  }

  /** `length` bytes from `offset`: a view when they lie in one chunk, else a copy. */
  peek(offset: number, length: number): Uint8Array {
    let skip = offset + this.headOffset;
    let i = 0;
    while (i < this.chunks.length && skip >= this.chunkLength(i)) skip -= this.chunkLength(i++);
    const first = this.chunks[i];
    if (!first) return new Uint8Array(0);
    if (skip + length <= this.chunkLength(i)) return first.subarray(skip, skip + length);
    const out = new Uint8Array(length);
    let filled = 0;
    while (filled < length && i < this.chunks.length) {
      const take = Math.min(this.chunkLength(i) - skip, length - filled);
      out.set(this.chunks[i]!.subarray(skip, skip + take), filled);
      filled += take;
      skip = 0;
      i++;
    }
    return filled === length ? out : out.subarray(0, filled);
  }

  /** Releases the first `n` bytes (acknowledged). */
  drop(n: number): void {
    n = Math.min(n, this.length);
    this.length -= n;
    let left = n + this.headOffset;
    while (this.chunks.length > 0 && left >= this.chunkLength(0)) {
      left -= this.chunkLength(0);
      if (this.chunks.length === 1) this.tailUsed = -1;
      this.chunks.shift();
    }
    this.headOffset = this.chunks.length > 0 ? left : 0;
    if (this.length === 0) {
      this.chunks = [];
      this.headOffset = 0;
      this.tailUsed = -1;
    }
  }

  clear(): void {
    this.drop(this.length);
  }

  private chunkLength(i: number): number {
    return i === this.chunks.length - 1 && this.tailUsed >= 0 ? this.tailUsed : this.chunks[i]!.length;
  }
}
