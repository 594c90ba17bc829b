/**
 * A handler that serves the files under one directory: GET and HEAD, with
 * validators and conditional requests (RFC 9110 §8.8, §13) and single byte
 * ranges (RFC 9110 §14).
 *
 * Nothing outside the root is ever served. The URL path is split on "/"
 * before it is percent-decoded, and a segment that decodes to "." or "..",
 * or contains "/", "\" or NUL, is refused (400); the joined path must stay
 * under the root, and so must its real path once symlinks are resolved (404
 * otherwise). The file opened is checked to be the one that was checked.
 */
import { constants as fsConstants, statSync } from 'node:fs';
import { open, realpath, stat } from 'node:fs/promises';
import path from 'node:path';
import { ProtostackError } from '../errors.js';
import { FileCache, sameFile, type CachedFile, type FileCacheLimits, type FileMeta } from './file-cache.js';
import { readEntries, renderListing } from './listing.js';
import type { Handler, ServerRequest, ServerResponse } from './server/index.js';

export interface StaticOptions {
  /** The file served for a directory; false serves none (404). Default 'index.html'. */
  index?: string | false;
  /** Bytes read from a file per write. Default 64 KiB. */
  chunkSize?: number;
  /** Files and directories whose name starts with a dot: 'ignore' (404, the default) or 'allow'. */
  dotfiles?: 'ignore' | 'allow';
  /** A Cache-Control value for every file. Default none. */
  cacheControl?: string;
  /** A directory with no index file is answered with a listing of its entries (an HTML page); false, the default, answers 404. */
  listing?: boolean;
  /**
   * Small files kept in memory, each checked against the file system (realpath and stat) at every
   * request before it is answered (src/http/file-cache.ts); false keeps none. Default: 1024 files
   * of up to 64 KiB, 32 MiB in all.
   */
  cache?: FileCacheLimits | false;
}

/** staticFiles() was given a root that is not a directory it can serve. */
export class StaticRootError extends ProtostackError {
  override readonly name = 'StaticRootError';
  constructor(
    /** ENOENT, ENOTDIR, EACCES, ...: what the file system said of the root. */
    code: string,
    readonly root: string,
  ) {
    super(code, `${root}: ${code === 'ENOTDIR' ? 'not a directory' : code === 'ENOENT' ? 'no such directory' : code} (${code})`);
  }
}

const TYPES: Record<string, string> = {
  '.html': 'text/html; charset=utf-8',
  '.htm': 'text/html; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.mjs': 'text/javascript; charset=utf-8',
  '.cjs': 'text/javascript; charset=utf-8',
  '.json': 'application/json; charset=utf-8',
  '.map': 'application/json; charset=utf-8',
  '.txt': 'text/plain; charset=utf-8',
  '.md': 'text/markdown; charset=utf-8',
  '.csv': 'text/csv; charset=utf-8',
  '.xml': 'application/xml; charset=utf-8',
  '.svg': 'image/svg+xml; charset=utf-8',
  '.png': 'image/png',
  '.jpg': 'image/jpeg',
  '.jpeg': 'image/jpeg',
  '.gif': 'image/gif',
  '.webp': 'image/webp',
  '.avif': 'image/avif',
  '.ico': 'image/x-icon',
  '.wasm': 'application/wasm',
  '.pdf': 'application/pdf',
  '.zip': 'application/zip',
  '.gz': 'application/gzip',
  '.mp4': 'video/mp4',
  '.webm': 'video/webm',
  '.mp3': 'audio/mpeg',
  '.ogg': 'audio/ogg',
  '.wav': 'audio/wav',
  '.woff': 'font/woff',
  '.woff2': 'font/woff2',
  '.ttf': 'font/ttf',
  '.otf': 'font/otf',
};

/** The Content-Type for a file name, from its extension. */
export function contentType(file: string): string {
  return TYPES[path.extname(file).toLowerCase()] ?? 'application/octet-stream';
}

/** Files no larger than this go out in one write with their head. */
const WHOLE_LIMIT = 64 * 1024;

export function staticFiles(root: string, options: StaticOptions = {}): Handler {
  const index = options.index ?? 'index.html';
  const chunkSize = options.chunkSize ?? 64 * 1024;
  const dotfiles = options.dotfiles ?? 'ignore';
  const cacheControl = options.cacheControl;
  if (!Number.isInteger(chunkSize) || chunkSize < 1) throw new RangeError('chunkSize must be a positive integer');
  if (index !== false && (index.includes('/') || index.includes('\\') || index === '.' || index === '..')) throw new TypeError('index must be a file name');
  const base = path.resolve(root);
  // A root that is not there is a mistake of the caller's, told now rather than as a 404 for every request.
  let rootStats;
  try {
    rootStats = statSync(base);
  } catch (e) {
    throw new StaticRootError((e as NodeJS.ErrnoException).code ?? 'EIO', root);
  }
  if (!rootStats.isDirectory()) throw new StaticRootError('ENOTDIR', root);
  const listing = options.listing ?? false;
  const cache = options.cache === false ? null : new FileCache(options.cache);
  // The root's own real path, found once: every file's real path must lie under it.
  let realRoot: Promise<string> | null = null;

  return async (req: ServerRequest, res: ServerResponse): Promise<void> => {
    if (req.method !== 'GET' && req.method !== 'HEAD') {
      res.status = 405;
      res.setHeader('Allow', 'GET, HEAD');
      return plain(res, 405, 'Method Not Allowed');
    }
    const url = req.url;
    const q = url.indexOf('?');
    const pathname = q < 0 ? url : url.slice(0, q);
    // A path answered before from memory: the entry checks itself against the file system now.
    const kept = cache?.get(pathname);
    if (kept) return sendKept(req, res, kept, cacheControl);
    const query = q < 0 ? '' : url.slice(q);
    const segments = splitPath(pathname);
    if (segments === null) return plain(res, 400, 'Bad Request');
    if (dotfiles === 'ignore' && segments.some((s) => s.startsWith('.'))) return plain(res, 404, 'Not Found');
    const wantsDir = pathname.endsWith('/');

    const joined = path.resolve(base, ...segments);
    if (!inside(joined, base)) return plain(res, 404, 'Not Found');
    realRoot ??= realpath(base).catch((e) => {
      realRoot = null;
      throw e;
    });
    let rootReal: string;
    try {
      rootReal = await realRoot;
    } catch {
      return plain(res, 404, 'Not Found');
    }

    let file = await resolveInside(joined, rootReal);
    if (!file) return plain(res, 404, 'Not Found');
    if (file.stats.isDirectory()) {
      if (!wantsDir) {
        // Relative links in the index resolve against "/dir/", not "/" (and "//host" never becomes a Location).
        res.status = 301;
        res.setHeader('Location', `/${rawSegments(pathname).join('/')}/${query}`);
        return plain(res, 301, 'Moved Permanently');
      }
      const dir = file.real;
      file = index === false ? null : await resolveInside(path.join(dir, index), rootReal);
      if (!file || !file.stats.isFile()) return listing ? sendListing(req, res, dir, pathname, dotfiles === 'allow') : plain(res, 404, 'Not Found');
    } else if (wantsDir || !file.stats.isFile()) {
      // "/file.txt/" names no directory; FIFOs, devices and sockets are never opened.
      return plain(res, 404, 'Not Found');
    }
    if (cache && cache.wants(Number(file.stats.size))) {
      const entry = await readWhole(wantsDir ? path.join(joined, index as string) : joined, file.real, file.stats, cache.maxFileBytes);
      // Changed while it was read (or grown too big): the streaming path checks it again.
      if (!entry) return sendFile(req, res, file.real, file.stats, chunkSize, cacheControl);
      cache.put(pathname, entry);
      return sendKept(req, res, entry, cacheControl);
    }
    await sendFile(req, res, file.real, file.stats, chunkSize, cacheControl);
  };
}

/**
 * The path's segments, percent-decoded; null when one is not allowed: ".", "..",
 * or anything with "/", "\" or NUL in it once decoded, or a bad escape.
 */
function splitPath(pathname: string): string[] | null {
  if (pathname.charCodeAt(0) !== 47 /* / */) return null;
  const out: string[] = [];
  for (const raw of pathname.split('/')) {
    if (raw === '') continue;
    let seg: string;
    try {
      seg = decodeURIComponent(raw);
    } catch {
      return null;
    }
    if (seg === '.' || seg === '..' || seg.includes('/') || seg.includes('\\') || seg.includes('\0')) return null;
    out.push(seg);
  }
  return out;
}

function rawSegments(pathname: string): string[] {
  return pathname.split('/').filter((s) => s !== '');
}

function inside(file: string, dir: string): boolean {
  return file === dir || file.startsWith(dir.endsWith(path.sep) ? dir : dir + path.sep);
}

interface Found {
  real: string;
  stats: Awaited<ReturnType<typeof stat>>;
}

/** The file's real path and status, if it exists and its real path is under the root. */
async function resolveInside(file: string, rootReal: string): Promise<Found | null> {
  let real: string;
  try {
    real = await realpath(file);
  } catch {
    return null;
  }
  if (!inside(real, rootReal)) return null;
  try {
    return { real, stats: await stat(real) };
  } catch {
    return null;
  }
}

async function sendListing(req: ServerRequest, res: ServerResponse, dir: string, pathname: string, dotfiles: boolean): Promise<void> {
  let page: string;
  try {
    const { entries, more } = await readEntries(dir, dotfiles);
    page = renderListing(pathname, entries, more);
  } catch {
    return plain(res, 403, 'Forbidden');
  }
  const body = Buffer.from(page);
  res.setHeader('Content-Type', 'text/html; charset=utf-8');
  res.setHeader('Content-Length', body.length);
  return req.method === 'HEAD' ? res.end() : res.end(body);
}

function plain(res: ServerResponse, status: number, text: string): Promise<void> {
  res.status = status;
  res.setHeader('Content-Type', 'text/plain; charset=utf-8');
  return res.end(`${status} ${text}\n`);
}

// ---- validators and conditions ----

/** A weak validator from size and modification time: same size and mtime, same tag (RFC 9110 §8.8.3). */
function etagOf(size: number, mtimeMs: number): string {
  return `W/"${size.toString(16)}-${Math.floor(mtimeMs).toString(16)}"`;
}

/** Weak comparison (RFC 9110 §8.8.3.2): the opaque tags are equal, whatever their W/ prefixes. */
function weakMatch(list: string, etag: string): boolean {
  const ours = opaque(etag);
  for (const candidate of splitTags(list)) {
    if (candidate === '*' || opaque(candidate) === ours) return true;
  }
  return false;
}

function splitTags(list: string): string[] {
  // Entity tags may contain commas inside their quotes; split only between them.
  return list.match(/(?:W\/)?"[^"]*"|\*/g) ?? [];
}

function opaque(tag: string): string {
  return tag.startsWith('W/') ? tag.slice(2) : tag;
}

/** Seconds since the epoch of an HTTP-date, or NaN. */
function parseDate(value: string | undefined): number {
  if (value === undefined) return NaN;
  const t = Date.parse(value);
  return Number.isNaN(t) ? NaN : Math.floor(t / 1000);
}

/** A single byte range against a size: [start, end] inclusive, 'unsatisfiable', or null to ignore the field (RFC 9110 §14.1.1). */
function parseRange(value: string, size: number): [number, number] | 'unsatisfiable' | null {
  const m = /^\s*bytes\s*=\s*(.*)$/i.exec(value);
  if (!m) return null; // another unit: ignored
  const specs = m[1]!.split(',').map((s) => s.trim()).filter((s) => s !== '');
  if (specs.length !== 1) return null; // several ranges: the whole file instead (permitted, RFC 9110 §14.2)
  const spec = /^(\d*)\s*-\s*(\d*)$/.exec(specs[0]!);
  if (!spec || (spec[1] === '' && spec[2] === '')) return null;
  if (spec[1] === '') {
    const suffix = Number(spec[2]);
    if (suffix === 0 || size === 0) return 'unsatisfiable';
    return [Math.max(0, size - suffix), size - 1];
  }
  const start = Number(spec[1]);
  if (spec[2] !== '' && Number(spec[2]) < start) return null; // invalid: ignored
  if (start >= size) return 'unsatisfiable';
  const end = spec[2] === '' ? size - 1 : Number(spec[2]);
  return [start, Math.min(end, size - 1)];
}

/** The validators and type of a file as found by stat. */
function metaOf(file: string, stats: Found['stats']): FileMeta {
  const size = Number(stats.size);
  const mtimeMs = Number(stats.mtimeMs);
  return { size, mtimeMs, etag: etagOf(size, mtimeMs), lastModified: new Date(Math.floor(mtimeMs / 1000) * 1000).toUTCString(), type: contentType(file) };
}

/**
 * Sets the validators and answers the preconditions (RFC 9110 §13.2.2) and
 * the range; returns the inclusive byte span to send with Content-Length set,
 * or the promise of a response already given (304, 412, 416).
 */
function prepare(req: ServerRequest, res: ServerResponse, meta: FileMeta, cacheControl: string | undefined): [number, number] | Promise<void> {
  const { size, mtimeMs, etag, lastModified } = meta;
  const mtimeSec = Math.floor(mtimeMs / 1000);
  res.setHeader('ETag', etag);
  res.setHeader('Last-Modified', lastModified);
  if (cacheControl !== undefined) res.setHeader('Cache-Control', cacheControl);

  // Preconditions in the order of RFC 9110 §13.2.2.
  const ifMatch = req.get('if-match');
  if (ifMatch !== undefined) {
    // Strong comparison: a weak tag never matches, so only "*" passes.
    if (ifMatch.trim() !== '*') return precondition(res);
  } else {
    const ius = parseDate(req.get('if-unmodified-since'));
    if (!Number.isNaN(ius) && mtimeSec > ius) return precondition(res);
  }
  const inm = req.get('if-none-match');
  if (inm !== undefined) {
    if (weakMatch(inm, etag)) return notModified(res);
  } else {
    const ims = parseDate(req.get('if-modified-since'));
    if (!Number.isNaN(ims) && mtimeSec <= ims) return notModified(res);
  }

  res.setHeader('Content-Type', meta.type);
  res.setHeader('Accept-Ranges', 'bytes');
  let start = 0;
  let end = size - 1;
  const range = req.method === 'GET' ? req.get('range') : undefined;
  if (range !== undefined && ifRangeHolds(req.get('if-range'), lastModified, mtimeMs)) {
    const r = parseRange(range, size);
    if (r === 'unsatisfiable') {
      res.status = 416;
      res.setHeader('Content-Range', `bytes */${size}`);
      res.setHeader('Content-Type', 'text/plain; charset=utf-8');
      return res.end('416 Range Not Satisfiable\n');
    }
    if (r) {
      [start, end] = r;
      res.status = 206;
      res.setHeader('Content-Range', `bytes ${start}-${end}/${size}`);
    }
  }
  res.setHeader('Content-Length', end - start + 1);
  return [start, end];
}

/** A response from a kept file's bytes: no file-system call beyond the cache's own check. */
function sendKept(req: ServerRequest, res: ServerResponse, entry: CachedFile, cacheControl: string | undefined): Promise<void> {
  const span = prepare(req, res, entry, cacheControl);
  if (!Array.isArray(span)) return span;
  if (req.method === 'HEAD' || span[1] < span[0]) return res.end();
  return res.end(span[0] === 0 && span[1] === entry.size - 1 ? entry.data : entry.data.subarray(span[0], span[1] + 1));
}

/**
 * A small file read whole for the cache: opened without following a last
 * symlink, and kept only if what was opened is what was checked and it did
 * not change while it was read. null if it cannot be read as checked.
 */
async function readWhole(joined: string, real: string, stats: Found['stats'], maxBytes: number): Promise<CachedFile | null> {
  const handle = await open(real, fsConstants.O_RDONLY | (fsConstants.O_NOFOLLOW ?? 0)).catch(() => null);
  if (!handle) return null;
  try {
    const before = await handle.stat();
    if (before.ino !== stats.ino || before.dev !== stats.dev || before.size > maxBytes) return null;
    const data = Buffer.allocUnsafe(before.size);
    await readFully(handle, data, 0);
    const after = await handle.stat();
    if (!sameFile(before, after)) return null;
    return { ...metaOf(real, after), joined, real, dev: after.dev, ino: after.ino, ctimeMs: after.ctimeMs, data };
  } catch {
    return null;
  } finally {
    await handle.close().catch(() => {});
  }
}

async function sendFile(
  req: ServerRequest,
  res: ServerResponse,
  file: string,
  stats: Found['stats'],
  chunkSize: number,
  cacheControl: string | undefined,
): Promise<void> {
  const span = prepare(req, res, metaOf(file, stats), cacheControl);
  if (!Array.isArray(span)) return span;
  const [start, end] = span;
  const length = end - start + 1;
  if (req.method === 'HEAD' || length === 0) return res.end();

  const handle = await open(file, fsConstants.O_RDONLY | (fsConstants.O_NOFOLLOW ?? 0)).catch(() => null);
  if (!handle) {
    res.removeHeader('Content-Length');
    return plain(res, 404, 'Not Found');
  }
  try {
    // The file opened must be the one checked, not something swapped in since.
    const opened = await handle.stat();
    if (opened.ino !== stats.ino || opened.dev !== stats.dev) {
      res.removeHeader('Content-Length');
      res.removeHeader('Content-Range');
      res.status = 200;
      return await plain(res, 404, 'Not Found');
    }
    if (length <= WHOLE_LIMIT) {
      const data = Buffer.allocUnsafe(length);
      await readFully(handle, data, start);
      await res.end(data);
      return;
    }
    // Bounded memory: one buffer, refilled only once the socket library has taken the last piece.
    const buffer = Buffer.allocUnsafe(Math.min(chunkSize, length));
    let position = start;
    let left = length;
    while (left > 0) {
      const want = Math.min(buffer.length, left);
      const piece = buffer.subarray(0, want);
      await readFully(handle, piece, position);
      await res.write(piece);
      position += want;
      left -= want;
    }
    await res.end();
  } finally {
    await handle.close().catch(() => {});
  }
}

/** Fills `into` from `position`; a file that shrank under us is an error (the response cannot be finished). */
async function readFully(handle: import('node:fs/promises').FileHandle, into: Uint8Array, position: number): Promise<void> {
  let got = 0;
  while (got < into.length) {
    const { bytesRead } = await handle.read(into, got, into.length - got, position + got);
    if (bytesRead === 0) throw new Error('the file became shorter while it was being sent');
    got += bytesRead;
  }
}

/**
 * If-Range (RFC 9110 §13.1.5): the range applies only while the validator
 * matches, and only a strong one counts. Our entity tags are weak, so an
 * entity tag never matches; a date matches when it equals Last-Modified and
 * the file is at least a second older than now (§8.8.2.2).
 */
function ifRangeHolds(value: string | undefined, lastModified: string, mtimeMs: number): boolean {
  if (value === undefined) return true;
  const v = value.trim();
  if (v.startsWith('"') || v.startsWith('W/')) return false;
  return v === lastModified && Date.now() - mtimeMs >= 1000;
}

function notModified(res: ServerResponse): Promise<void> {
  res.status = 304;
  return res.end();
}

function precondition(res: ServerResponse): Promise<void> {
  return plain(res, 412, 'Precondition Failed');
}
