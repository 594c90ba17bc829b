/**
 * The browser's side of the `#read-file` import: a page has no files, so
 * every read fails as a missing file does (ENOENT), which the resolver takes
 * as "use the defaults" and loadZone reports as a bad configuration. Zones
 * come from text there (parseZone).
 */
import { ProtostackError } from '../errors.js';

export function readTextFile(path: string): Promise<string> {
  return Promise.reject(new ProtostackError('ENOENT', `${path}: no files in a browser`));
}
