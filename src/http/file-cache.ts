/**
 * The small files staticFiles() has served, kept in memory so that a repeated
 * request costs two synchronous system calls instead of five asynchronous ones.
 *
 * A kept file is never answered without first checking, at that request, that
 * it is still the same file at the same place:
 *   - realpath(2) of the path the URL names (through every symlink on the way)
 *     still gives the real path checked against the root when it was kept, so
 *     a symlink swapped to point elsewhere (outside the root, or to another
 *     file) misses;
 *   - stat(2) of that real path still gives the same device, inode, size,
 *     modification and change times, so a file modified in place, replaced by
 *     a rename over it, deleted, or chmod'ed misses.
 * A miss drops the entry and the request takes the full path, which checks
 * everything again. There is no time-to-live and no fs.watch: nothing is
 * answered from a check made at an earlier request.
 *
 * Bounded: entries, bytes per file, bytes in all; the oldest entry goes first.
 */
import { realpathSync, statSync, type Stats } from 'node:fs';

/** What a response needs of a file, fixed while the file is unchanged. */
export interface FileMeta {
  size: number;
  mtimeMs: number;
  etag: string;
  lastModified: string;
  type: string;
}

export interface CachedFile extends FileMeta {
  /** The path as joined from the URL (what realpath is asked). */
  readonly joined: string;
  /** Its real path when kept, checked then to lie under the root's. */
  readonly real: string;
  readonly dev: number;
  readonly ino: number;
  readonly ctimeMs: number;
  readonly data: Buffer;
}

export interface FileCacheLimits {
  /** Files kept at once. Default 1024. */
  entries?: number;
  /** Largest file kept, in bytes. Default 64 KiB. */
  fileBytes?: number;
  /** Bytes kept in all. Default 32 MiB. */
  totalBytes?: number;
}

/** The fields of a stat result that say a file is unchanged. */
export interface Identity {
  dev: number;
  ino: number;
  size: number;
  mtimeMs: number;
  ctimeMs: number;
}

export function sameFile(a: Identity, b: Identity): boolean {
  return a.ino === b.ino && a.dev === b.dev && a.size === b.size && a.mtimeMs === b.mtimeMs && a.ctimeMs === b.ctimeMs;
}

export class FileCache {
  readonly maxEntries: number;
  readonly maxFileBytes: number;
  readonly maxTotalBytes: number;
  private readonly byUrl = new Map<string, CachedFile>();
  private total = 0;
  /** Requests answered from memory, and kept entries found stale. */
  hits = 0;
  stale = 0;

  constructor(limits: FileCacheLimits = {}) {
    this.maxEntries = limits.entries ?? 1024;
    this.maxFileBytes = limits.fileBytes ?? 64 * 1024;
    this.maxTotalBytes = limits.totalBytes ?? 32 * 1024 * 1024;
    for (const [name, v] of [['entries', this.maxEntries], ['fileBytes', this.maxFileBytes], ['totalBytes', this.maxTotalBytes]] as const) {
      if (!Number.isInteger(v) || v < 0) throw new RangeError(`cache ${name} must be a non-negative integer`);
    }
  }

  get size(): number {
    return this.byUrl.size;
  }

  /** The kept file for a URL path, if it is still the same file at the same real path; else undefined (and it is dropped). */
  get(key: string): CachedFile | undefined {
    const entry = this.byUrl.get(key);
    if (entry === undefined) return undefined;
    let stats: Stats | undefined;
    try {
      stats = realpathSync.native(entry.joined) === entry.real ? statSync(entry.real, { throwIfNoEntry: false }) : undefined;
    } catch {
      stats = undefined;
    }
    if (stats === undefined || !stats.isFile() || !sameFile(entry, stats)) {
      this.stale++;
      this.drop(key, entry);
      return undefined;
    }
    this.hits++;
    return entry;
  }

  /** Whether a file of this size would be kept. */
  wants(size: number): boolean {
    return this.maxEntries > 0 && size <= this.maxFileBytes && size <= this.maxTotalBytes;
  }

  put(key: string, entry: CachedFile): void {
    if (!this.wants(entry.data.length)) return;
    const old = this.byUrl.get(key);
    if (old) this.drop(key, old);
    while (this.byUrl.size >= this.maxEntries || this.total + entry.data.length > this.maxTotalBytes) {
      const [oldestKey, oldest] = this.byUrl.entries().next().value as [string, CachedFile];
      this.drop(oldestKey, oldest);
    }
    this.byUrl.set(key, entry);
    this.total += entry.data.length;
  }

  clear(): void {
    this.byUrl.clear();
    this.total = 0;
  }

  private drop(key: string, entry: CachedFile): void {
    if (this.byUrl.get(key) !== entry) return;
    this.byUrl.delete(key);
    this.total -= entry.data.length;
  }
}
