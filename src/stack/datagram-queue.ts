/**
 * Received datagrams waiting for recv(), shared by both stacks' UDP
 * endpoints: bounded in bytes, as a kernel's socket buffer is (and in count,
 * so empty datagrams cannot queue without end), with the asynchronous error
 * POSIX reports on the next call.
 */
import type { SocketError } from './errors.js';
import type { Datagram } from './types.js';

interface Queued {
  data: Uint8Array;
  address: string;
  port: number;
}

export class DatagramQueue {
  drops = 0;
  /** An ICMP error for the next recv() to report once. */
  error: SocketError | null = null;
  private queue: Queued[] = [];
  private head = 0;
  private queued = 0;

  constructor(
    private readonly limitBytes: number,
    private readonly limitCount = Infinity,
  ) {}

  /** Queues a datagram the caller no longer changes; false (and a drop counted) when full. */
  push(data: Uint8Array, address: string, port: number): boolean {
    if (this.queued + data.length > this.limitBytes || this.queue.length - this.head >= this.limitCount) {
      this.drops++;
      return false;
    }
    this.queue.push({ data, address, port });
    this.queued += data.length;
    return true;
  }

  /** The next datagram copied into `into` (the rest discarded, MSG_TRUNC), or null; throws a pending error first. */
  take(into: Uint8Array): Datagram | null {
    if (this.error) {
      const err = this.error;
      this.error = null;
      throw err;
    }
    if (this.head === this.queue.length) return null;
    const d = this.queue[this.head++]!;
    if (this.head === this.queue.length) {
      this.queue = [];
      this.head = 0;
    }
    this.queued -= d.data.length;
    const bytes = Math.min(into.length, d.data.length);
    into.set(bytes === d.data.length ? d.data : d.data.subarray(0, bytes));
    return { bytes, address: d.address, port: d.port, truncated: bytes < d.data.length };
  }

  clear(): void {
    this.queue = [];
    this.head = 0;
    this.queued = 0;
  }
}
