/**
 * Which connections the HTTP server lets in. At most `max` are open; at the
 * cap a new one is still taken, and to make room the server closes one that
 * costs nothing to close: the longest idle (a silent new connection, or a
 * kept-alive one between requests), else the slowest head in progress. So
 * connections that never send a byte cannot lock ordinary clients out: each
 * newcomer pushes the oldest silent one out, and a real request is read the
 * moment it arrives. Only when every connection is busy answering does the
 * accept loop stop and leave newcomers in the backlog.
 */
import { ShedOrder } from '../socket/shedding.js';

export interface Closable {
  destroy(): void;
}

export class Admission<C extends Closable> {
  private readonly order = new ShedOrder<C>();
  private open = 0;
  private waiter: (() => void) | null = null;
  /** Connections closed to make room for new ones. */
  shed = 0;

  constructor(readonly max: number) {}

  /** A connection may be accepted now: below the cap, or one can be shed. */
  get room(): boolean {
    return this.open < this.max || this.order.size > 0;
  }

  /** Resolves once there is room, or on wake(). */
  waitForRoom(): Promise<void> {
    if (this.room) return Promise.resolve();
    return new Promise((resolve) => (this.waiter = resolve));
  }

  /** Releases a waitForRoom (room was made, or the server is closing). */
  wake(): void {
    const w = this.waiter;
    this.waiter = null;
    w?.();
  }

  /** Counts an accepted connection, shedding one first at the cap; false if none could be shed (refuse the newcomer). */
  admit(): boolean {
    if (this.open >= this.max) {
      const victim = this.order.pick();
      if (victim === undefined) return false;
      this.shed++;
      victim.destroy(); // calls left() for it
    }
    this.open++;
    return true;
  }

  /** Waiting for a request with nothing of it received. */
  idle(c: C): void {
    this.order.idle(c);
    if (this.waiter) this.wake();
  }

  /** Part of a request head has arrived, the rest has not. */
  slow(c: C): void {
    this.order.slow(c);
    if (this.waiter) this.wake();
  }

  /** A request is being answered. */
  busy(c: C): void {
    this.order.busy(c);
  }

  /** The connection has closed. */
  left(c: C): void {
    this.order.forget(c);
    this.open--;
    this.wake();
  }
}
