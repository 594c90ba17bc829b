/**
 * A capture written to a file, under Node: the Node adapter of pcap.ts,
 * which builds the bytes and touches no file system itself.
 */
import { closeSync, openSync, writeSync } from 'node:fs';
import type { PcapWriter } from './pcap.js';

/** Writes the capture so far to `path`, replacing it. */
export function writePcapFile(capture: PcapWriter, path: string): void {
  const fd = openSync(path, 'w');
  try {
    for (const piece of capture.pieces()) writeSync(fd, piece);
  } finally {
    closeSync(fd);
  }
}
