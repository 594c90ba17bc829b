/**
 * Sleeping inside a socket call until the stack says something changed, a
 * deadline passes, or the caller aborts: the socket library's "control does
 * not come back until the answer arrives".
 *
 * One timer per socket, armed for the earliest deadline and left armed
 * across wakes: most sleeps end long before their deadline, and creating and
 * clearing a timer for each of them cost more than the rest of a small read.
 * When it fires it fails the sleepers whose deadline has passed and re-arms
 * for the next. The stack's timers never keep a process alive on their own.
 */
import type { ProtocolStack, TimerHandle } from '../stack/types.js';
import { SocketError, type ErrorContext } from './errors.js';

interface Waiter {
  resolve(): void;
  reject(err: SocketError): void;
  deadline: number;
  context: ErrorContext;
  signal: AbortSignal | undefined;
  onAbort: (() => void) | undefined;
}

export class WaitQueue {
  private waiters: Waiter[] = [];
  private timer: TimerHandle | null = null;
  private timerAt = Infinity;

  constructor(private readonly stack: ProtocolStack) {}

  get length(): number {
    return this.waiters.length;
  }

  /** Resolves at the next wake; rejects with ETIMEDOUT at the deadline or ECANCELED on abort. */
  sleep(deadline: number, context: ErrorContext, signal?: AbortSignal): Promise<void> {
    return new Promise((resolve, reject) => {
      if (signal?.aborted) return reject(new SocketError('ECANCELED', context, { cause: signal.reason }));
      const now = this.stack.now();
      if (deadline <= now) return reject(new SocketError('ETIMEDOUT', context));
      const waiter: Waiter = { resolve, reject, deadline, context, signal, onAbort: undefined };
      if (signal) {
        waiter.onAbort = () => {
          this.remove(waiter);
          reject(new SocketError('ECANCELED', context, { cause: signal.reason }));
        };
        signal.addEventListener('abort', waiter.onAbort, { once: true });
      }
      if (deadline < this.timerAt) this.arm(deadline, now);
      this.waiters.push(waiter);
    });
  }

  /** Wakes every sleeper; each checks again whether it can go on. */
  wakeAll(): void {
    if (this.waiters.length === 0) return;
    const woken = this.waiters;
    this.waiters = [];
    for (const w of woken) {
      if (w.onAbort) w.signal!.removeEventListener('abort', w.onAbort);
      w.resolve();
    }
  }

  /** Stops the timer, for a socket that is closing (its sleepers were woken first). */
  dispose(): void {
    if (this.timer !== null) this.stack.clearTimer(this.timer);
    this.timer = null;
    this.timerAt = Infinity;
  }

  private arm(at: number, now: number): void {
    if (this.timer !== null) this.stack.clearTimer(this.timer);
    this.timerAt = at;
    this.timer = this.stack.setTimer(at - now, () => this.expire());
  }

  private expire(): void {
    this.timer = null;
    this.timerAt = Infinity;
    const now = this.stack.now();
    let next = Infinity;
    const still: Waiter[] = [];
    for (const w of this.waiters) {
      if (w.deadline <= now) {
        if (w.onAbort) w.signal!.removeEventListener('abort', w.onAbort);
        w.reject(new SocketError('ETIMEDOUT', w.context));
      } else {
        still.push(w);
        next = Math.min(next, w.deadline);
      }
    }
    this.waiters = still;
    if (next !== Infinity) this.arm(next, now);
  }

  private remove(w: Waiter): void {
    const i = this.waiters.indexOf(w);
    if (i !== -1) this.waiters.splice(i, 1);
  }
}
