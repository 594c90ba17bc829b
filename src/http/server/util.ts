/** Small helpers the server's files share. */
import { SocketError } from '../../socket/errors.js';

export function noop(): void {}

/** Marks a promise as handled (so an unawaited failure does not crash the process) and returns it. */
export function handled<T>(p: Promise<T>): Promise<T> {
  p.catch(noop);
  return p;
}

export function isSocketError(e: unknown): boolean {
  return e instanceof SocketError;
}

export function isCode(e: unknown, code: string): boolean {
  return e instanceof SocketError && e.code === code;
}
