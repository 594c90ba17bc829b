/**
 * How DNS reads its text files (resolv.conf, hosts, zone master files):
 * from the disk, under Node. The Node adapter behind the `#read-file` import
 * (package.json "imports"); a browser build gets read-file-browser.ts.
 */
import { readFile } from 'node:fs/promises';

export function readTextFile(path: string): Promise<string> {
  return readFile(path, 'utf8');
}
