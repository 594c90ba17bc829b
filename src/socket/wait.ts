/**
 * Sleeping inside a socket call until the stack says something changed, a
 * deadline passes, or the caller aborts: the socket library's "control does
 * not come back until the answer arrives".
 */
import type { ProtocolStack, TimerHandle } from '../stack/types.js';
import { SocketError, type ErrorContext } from './errors.js';

interface Waiter {
  resolve(): void;
  timer: TimerHandle;
  signal: AbortSignal | undefined;
  onAbort: (() => void) | undefined;
}

export class WaitQueue {
  private waiters: Waiter[] = [];

  constructor(private readonly stack: ProtocolStack) {}

  get length(): number {
    return this.waiters.length;
  }

  /** Resolves at the next wake; rejects with ETIMEDOUT at the deadline or ECANCELED on abort. */
  sleep(deadline: number, context: ErrorContext, signal?: AbortSignal): Promise<void> {
    return new Promise((resolve, reject) => {
      if (signal?.aborted) return reject(new SocketError('ECANCELED', context, { cause: signal.reason }));
      const remaining = deadline - this.stack.now();
      if (remaining <= 0) return reject(new SocketError('ETIMEDOUT', context));
      const waiter: Waiter = { resolve, timer: undefined, signal, onAbort: undefined };
      const fail = (err: SocketError) => {
        this.remove(waiter);
        this.disarm(waiter);
        reject(err);
      };
      waiter.timer = this.stack.setTimer(remaining, () => fail(new SocketError('ETIMEDOUT', context)));
      if (signal) {
        waiter.onAbort = () => fail(new SocketError('ECANCELED', context, { cause: signal.reason }));
        signal.addEventListener('abort', waiter.onAbort, { once: true });
      }
      this.waiters.push(waiter);
    });
  }

  /** Wakes every sleeper; each checks again whether it can go on. */
  wakeAll(): void {
    if (this.waiters.length === 0) return;
    const woken = this.waiters;
    this.waiters = [];
    for (const w of woken) {
      this.disarm(w);
      w.resolve();
    }
  }

  private disarm(w: Waiter): void {
    this.stack.clearTimer(w.timer);
    if (w.onAbort) w.signal!.removeEventListener('abort', w.onAbort);
  }

  private remove(w: Waiter): void {
    const i = this.waiters.indexOf(w);
    if (i !== -1) this.waiters.splice(i, 1);
  }
}
