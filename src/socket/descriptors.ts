/**
 * The descriptor table: small integers naming sockets, known only to the
 * application that holds them. As in POSIX, a new descriptor is the lowest
 * free number (here from 3, after stdin/stdout/stderr), and numbers are
 * reused after close.
 */

export const FIRST_DESCRIPTOR = 3;

export class DescriptorTable<T> {
  private readonly slots: (T | undefined)[] = [];
  /** Freed slot indexes below slots.length, as a binary min-heap, so the lowest is found in O(log n). */
  private readonly free: number[] = [];
  private count = 0;

  constructor(readonly limit: number) {}

  get size(): number {
    return this.count;
  }

  /** The new descriptor, or -1 when the table is full (EMFILE). */
  allocate(entry: T): number {
    if (this.count >= this.limit) return -1;
    let index: number;
    if (this.free.length > 0) index = this.popFree();
    else {
      index = this.slots.length;
      this.slots.push(undefined);
    }
    this.slots[index] = entry;
    this.count++;
    return index + FIRST_DESCRIPTOR;
  }

  get(fd: number): T | undefined {
    return this.slots[fd - FIRST_DESCRIPTOR];
  }

  release(fd: number): T | undefined {
    const index = fd - FIRST_DESCRIPTOR;
    const entry = this.slots[index];
    if (entry === undefined) return undefined;
    this.slots[index] = undefined;
    this.count--;
    this.pushFree(index);
    return entry;
  }

  *entries(): IterableIterator<[number, T]> {
    for (let i = 0; i < this.slots.length; i++) {
      const e = this.slots[i];
      if (e !== undefined) yield [i + FIRST_DESCRIPTOR, e];
    }
  }

  private pushFree(index: number): void {
    const h = this.free;
    h.push(index);
    let i = h.length - 1;
    while (i > 0) {
      const parent = (i - 1) >> 1;
      if (h[parent]! <= h[i]!) break;
      [h[parent], h[i]] = [h[i]!, h[parent]!];
      i = parent;
    }
  }

  private popFree(): number {
    const h = this.free;
    const top = h[0]!;
    const last = h.pop()!;
    if (h.length > 0) {
      h[0] = last;
      let i = 0;
      for (;;) {
        const l = 2 * i + 1;
        const r = l + 1;
        let m = i;
        if (l < h.length && h[l]! < h[m]!) m = l;
        if (r < h.length && h[r]! < h[m]!) m = r;
        if (m === i) break;
        [h[m], h[i]] = [h[i]!, h[m]!];
        i = m;
      }
    }
    return top;
  }
}
