/**
 * Virtual time for simulated networks. Events sit in a binary min-heap
 * ordered by (time, insertion sequence), so equal times fire in the order
 * they were set and a run is replayable. `advance` moves time by hand for
 * packet-level tests; `run` drives time for async code (sockets, HTTP) by
 * jumping to the next event whenever the application's promises have drained.
 */
import type { Clock, TimerHandle } from './types.js';

class Timer {
  /** null once fired or cleared: the heap entry is then dead and skipped (lazy deletion). */
  fn: (() => void) | null;
  constructor(readonly clock: VirtualClock, fn: () => void) {
    this.fn = fn;
  }
}

interface Waiter {
  deadline: number;
  fail(error: unknown): void;
}

export interface RunOptions {
  /** Virtual milliseconds the work may take before run rejects with ERR_SIM_TIME_LIMIT; default one hour. */
  limitMs?: number;
}

/** Events fired per step of `run` before yielding to the event loop, so real I/O is not starved. */
const STEP_EVENTS = 256;
/** Idle steps polled with setImmediate before falling back to a 5 ms real timer. */
const IDLE_IMMEDIATES = 8;

/**
 * A macrotask after the pending microtasks: Node's setImmediate, or in a
 * browser (which has none) a MessageChannel message, since setTimeout(0)
 * is clamped to 4 ms there and would make a run crawl.
 */
const setImmediate: (fn: () => void) => void =
  typeof globalThis.setImmediate === 'function'
    ? (fn) => globalThis.setImmediate(fn)
    : (() => {
        const queue: (() => void)[] = [];
        const channel = new MessageChannel();
        // Typed as Node's MessagePort; in a browser it is the DOM's, which has onmessage.
        (channel.port1 as unknown as { onmessage: () => void }).onmessage = () => queue.shift()?.();
        return (fn: () => void) => {
          queue.push(fn);
          channel.port2.postMessage(null);
        };
      })();

export class VirtualClock implements Clock {
  private time = 0;
  private seq = 0;
  private live = 0;
  private dead = 0;
  // The heap as parallel arrays: no object per comparison, packed doubles for V8.
  private times: number[] = [];
  private seqs: number[] = [];
  private timers: Timer[] = [];
  private firing = false;
  private waiters = new Set<Waiter>();
  private driving = false;
  private idle = 0;
  private poll: ReturnType<typeof setTimeout> | null = null;

  now(): number {
    return this.time;
  }

  setTimer(ms: number, fire: () => void): TimerHandle {
    const timer = new Timer(this, fire);
    this.push(this.time + (ms > 0 ? ms : 0), this.seq++, timer);
    this.live++;
    // Real I/O woke the application while run was polling slowly: step now rather than after the poll.
    if (this.poll !== null) {
      clearTimeout(this.poll);
      this.poll = null;
      setImmediate(this.step);
    }
    return timer;
  }

  clearTimer(handle: TimerHandle): void {
    if (!(handle instanceof Timer) || handle.clock !== this || handle.fn === null) return;
    handle.fn = null;
    this.live--;
    this.dead++;
    // Retransmission timers are set and cleared constantly; don't let dead entries pile up.
    if (this.dead > 1024 && this.dead > this.live) this.compact();
  }

  /** Live (not fired, not cleared) events. */
  get pending(): number {
    return this.live;
  }

  /** The time of the earliest live event, or null when none is pending. */
  nextTime(): number | null {
    this.dropDeadTop();
    return this.times.length > 0 ? this.times[0]! : null;
  }

  /**
   * Fires every event due up to now + ms, in order, including ones those
   * events set, then sets now to now + ms. An exception from an event
   * propagates, leaving now at that event's time.
   */
  advance(ms: number): void {
    if (this.firing) throw new Error('VirtualClock.advance called from inside a timer callback');
    const target = this.time + (ms > 0 ? ms : 0);
    this.fire(target, Infinity);
    this.time = target;
  }

  /**
   * Drives virtual time until `work` settles and returns its result. Between
   * steps control goes back to the event loop (setImmediate), so every
   * microtask of the application runs before time jumps again. With no event
   * pending it polls, in case real I/O is in flight, with an unref'd timer:
   * a deadlocked simulation lets the process end rather than hang.
   */
  run<T>(work: Promise<T> | (() => Promise<T>), options: RunOptions = {}): Promise<T> {
    const limitMs = options.limitMs ?? 3_600_000;
    return new Promise<T>((resolve, reject) => {
      const waiter: Waiter = {
        deadline: this.time + limitMs,
        fail: (error) => {
          if (this.waiters.delete(waiter)) reject(error);
        },
      };
      this.waiters.add(waiter);
      let promise: Promise<T>;
      try {
        promise = typeof work === 'function' ? work() : work;
      } catch (error) {
        waiter.fail(error);
        return;
      }
      Promise.resolve(promise).then((value) => {
        if (this.waiters.delete(waiter)) resolve(value);
      }, waiter.fail);
      this.drive();
    });
  }

  private drive(): void {
    if (this.driving) return;
    this.driving = true;
    this.idle = 0;
    setImmediate(this.step);
  }

  private step = (): void => {
    this.poll = null;
    if (this.waiters.size === 0) {
      this.driving = false;
      return;
    }
    const next = this.nextTime();
    if (next === null) {
      if (++this.idle <= IDLE_IMMEDIATES) setImmediate(this.step);
      else this.poll = setTimeout(this.step, 5).unref();
      return;
    }
    this.idle = 0;
    for (const waiter of this.waiters) {
      if (next > waiter.deadline) {
        const error = new Error(`VirtualClock.run: virtual time would pass the limit of ${waiter.deadline} ms (next event at ${next} ms)`);
        (error as Error & { code: string }).code = 'ERR_SIM_TIME_LIMIT';
        waiter.fail(error);
      }
    }
    if (this.waiters.size === 0) {
      this.driving = false;
      return;
    }
    try {
      this.fire(next, STEP_EVENTS);
    } catch (error) {
      // The stack never throws from a timer; if it does, it is a bug every waiting run should see.
      for (const waiter of [...this.waiters]) waiter.fail(error);
      this.driving = false;
      return;
    }
    setImmediate(this.step);
  };

  /** Fires up to `max` events with time ≤ until, in (time, seq) order. */
  private fire(until: number, max: number): void {
    this.firing = true;
    try {
      for (let count = 0; count < max; ) {
        if (this.times.length === 0 || this.times[0]! > until) return;
        const at = this.times[0]!;
        const timer = this.pop();
        const fn = timer.fn;
        if (fn === null) {
          this.dead--;
          continue;
        }
        timer.fn = null;
        this.live--;
        this.time = at;
        count++;
        fn();
      }
    } finally {
      this.firing = false;
    }
  }

  private dropDeadTop(): void {
    while (this.timers.length > 0 && this.timers[0]!.fn === null) {
      this.pop();
      this.dead--;
    }
  }

  private push(time: number, seq: number, timer: Timer): void {
    const { times, seqs, timers } = this;
    let i = times.length;
    times.push(time);
    seqs.push(seq);
    timers.push(timer);
    while (i > 0) {
      const parent = (i - 1) >> 1;
      const pt = times[parent]!;
      if (pt < time || (pt === time && seqs[parent]! < seq)) break;
      times[i] = pt;
      seqs[i] = seqs[parent]!;
      timers[i] = timers[parent]!;
      i = parent;
    }
    times[i] = time;
    seqs[i] = seq;
    timers[i] = timer;
  }

  private pop(): Timer {
    const { times, seqs, timers } = this;
    const top = timers[0]!;
    const time = times.pop()!;
    const seq = seqs.pop()!;
    const timer = timers.pop()!;
    if (times.length > 0) this.siftDown(0, time, seq, timer);
    return top;
  }

  /** Places (time, seq, timer) at hole `i`, moving smaller children up. */
  private siftDown(i: number, time: number, seq: number, timer: Timer): void {
    const { times, seqs, timers } = this;
    const n = times.length;
    for (;;) {
      let child = 2 * i + 1;
      if (child >= n) break;
      const right = child + 1;
      if (right < n && (times[right]! < times[child]! || (times[right] === times[child] && seqs[right]! < seqs[child]!))) child = right;
      const ct = times[child]!;
      if (time < ct || (time === ct && seq < seqs[child]!)) break;
      times[i] = ct;
      seqs[i] = seqs[child]!;
      timers[i] = timers[child]!;
      i = child;
    }
    times[i] = time;
    seqs[i] = seq;
    timers[i] = timer;
  }

  /** Drops every dead entry and rebuilds the heap (Floyd's bottom-up heapify). */
  private compact(): void {
    const { times, seqs, timers } = this;
    let n = 0;
    for (let i = 0; i < timers.length; i++) {
      if (timers[i]!.fn === null) continue;
      times[n] = times[i]!;
      seqs[n] = seqs[i]!;
      timers[n] = timers[i]!;
      n++;
    }
    times.length = seqs.length = timers.length = n;
    this.dead = 0;
    for (let i = (n >> 1) - 1; i >= 0; i--) this.siftDown(i, times[i]!, seqs[i]!, timers[i]!);
  }
}
