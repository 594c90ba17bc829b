/** A wait with a deadline and a signal, on the stack's clock (so a simulated network times out on its own time). */
import type { ProtocolStack } from '../stack/types.js';
import { SocketError, type ErrorContext } from './errors.js';

/** Settles with `work`, or fails at the deadline (calling `onTimeout` first) or on abort. */
export function bounded(stack: Pick<ProtocolStack, 'now' | 'setTimer' | 'clearTimer'>, work: Promise<void>, deadline: number, context: ErrorContext, signal: AbortSignal | undefined, onTimeout: () => void): Promise<void> {
  return new Promise((resolve, reject) => {
    const timer = stack.setTimer(Math.max(0, deadline - stack.now()), () => {
      onTimeout();
      reject(new SocketError('ETIMEDOUT', context));
    });
    const onAbort = () => {
      stack.clearTimer(timer);
      onTimeout();
      reject(new SocketError('ECANCELED', context));
    };
    signal?.addEventListener('abort', onAbort, { once: true });
    work.then(
      () => {
        stack.clearTimer(timer);
        signal?.removeEventListener('abort', onAbort);
        resolve();
      },
      (err) => {
        stack.clearTimer(timer);
        signal?.removeEventListener('abort', onAbort);
        reject(err);
      },
    );
  });
}
