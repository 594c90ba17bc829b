/**
 * The browser's side of the `#default-library` import: a page has no OS
 * socket stack, so a caller must pass its own library (one over a UserStack).
 */
import { SocketError } from '../stack/errors.js';
import type { SocketLibrary } from './library.js';

export function defaultLibrary(label: string): SocketLibrary {
  throw new SocketError('EOPNOTSUPP', { detail: `${label}: no OS stack in a browser; pass \`lib\`, a SocketLibrary over a UserStack` });
}
