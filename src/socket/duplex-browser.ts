/**
 * The browser's side of the `#duplex` import: there are no Node streams to
 * hand out, so toDuplex() fails with a typed error rather than pulling
 * node:stream into a browser bundle.
 */
import { SocketError } from '../stack/errors.js';
import type { SocketLibrary } from './library.js';

export function openDuplex(_lib: SocketLibrary, fd: number, _readSize: number): never {
  throw new SocketError('EOPNOTSUPP', { call: 'toDuplex', fd, detail: 'Node streams exist only under Node' });
}
