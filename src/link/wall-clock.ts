/**
 * Real time, for a stack on a real device (a TUN interface). The stack
 * never reads the wall itself: it is handed this clock, as a simulation
 * is handed a VirtualClock, so the same TCP runs on either.
 *
 * `performance.now()` and `setTimeout` exist in browsers and in Node, so
 * this file is portable. Timers are unref'd where the platform allows it:
 * as the Clock contract says, a retransmission timer alone does not keep
 * a process alive — an open device or socket does.
 */
import type { Clock, TimerHandle } from './types.js';

type Unrefable = { unref?: () => void };

export class WallClock implements Clock {
  /** performance.now() at construction, so now() starts near 0 as a VirtualClock's does. */
  private readonly epoch = performance.now();

  now(): number {
    return performance.now() - this.epoch;
  }

  setTimer(ms: number, fire: () => void): TimerHandle {
    const handle = setTimeout(fire, ms > 0 ? ms : 0) as unknown as Unrefable;
    handle.unref?.();
    return handle;
  }

  clearTimer(handle: TimerHandle): void {
    clearTimeout(handle as ReturnType<typeof setTimeout>);
  }
}
