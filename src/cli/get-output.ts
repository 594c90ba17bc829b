/**
 * Where `protostack get` puts what it fetched: standard output or a file
 * (-o), with backpressure, and every failure a typed OutputError (curl's 23)
 * instead of an unhandled stream error: a missing directory, a directory in
 * the way, a full disk, or a reader that went away (`| head -c 10`), which
 * ends the transfer quietly.
 */
import { open, type FileHandle } from 'node:fs/promises';
import type { Writable } from 'node:stream';
import type { Response } from '../http/client.js';
import { OutputError } from './get-exit.js';

export interface Sink {
  write(bytes: Uint8Array | string): Promise<void>;
  close(): Promise<void>;
}

/** A process stream (stdout), whose errors (EPIPE) arrive as events after the write that caused them. */
export class StreamSink implements Sink {
  private error: NodeJS.ErrnoException | null = null;
  private readonly onError = (e: NodeJS.ErrnoException) => {
    this.error = e;
  };

  constructor(
    private readonly stream: Writable,
    private readonly name: string,
  ) {
    stream.on('error', this.onError);
  }

  async write(bytes: Uint8Array | string): Promise<void> {
    this.check();
    if (!this.stream.write(bytes)) {
      await new Promise<void>((resolve) => {
        const done = () => {
          this.stream.off('drain', done);
          this.stream.off('error', done);
          this.stream.off('close', done);
          resolve();
        };
        this.stream.on('drain', done);
        this.stream.on('error', done);
        this.stream.on('close', done);
      });
    }
    // An EPIPE is reported on the next turn of the event loop.
    await new Promise<void>((resolve) => setImmediate(resolve));
    this.check();
  }

  async close(): Promise<void> {
    this.check();
  }

  private check(): void {
    const e = this.error;
    if (!e) return;
    if (e.code === 'EPIPE' || e.code === 'ERR_STREAM_DESTROYED') throw new OutputError(`${this.name} was closed by its reader`, true, { cause: e });
    throw new OutputError(`cannot write ${this.name}: ${e.code ?? e.message}`, false, { cause: e });
  }
}

/** A file opened (and created) only when the first bytes are ready, so a failed request leaves no file behind. */
export class FileSink implements Sink {
  private handle: FileHandle | null = null;

  constructor(readonly path: string) {}

  /** Opens the file now: called once the response head has arrived, so a bad path fails before the body is read. */
  async open(): Promise<void> {
    if (this.handle) return;
    try {
      this.handle = await open(this.path, 'w');
    } catch (e) {
      throw writeError(this.path, e);
    }
  }

  async write(bytes: Uint8Array | string): Promise<void> {
    await this.open();
    try {
      const data = typeof bytes === 'string' ? Buffer.from(bytes) : bytes;
      let off = 0;
      while (off < data.length) off += (await this.handle!.write(data, off, data.length - off)).bytesWritten;
    } catch (e) {
      throw writeError(this.path, e);
    }
  }

  async close(): Promise<void> {
    const h = this.handle;
    this.handle = null;
    if (!h) return;
    try {
      await h.close();
    } catch (e) {
      throw writeError(this.path, e);
    }
  }
}

function writeError(path: string, e: unknown): OutputError {
  const err = e as NodeJS.ErrnoException;
  const reason = { ENOENT: 'no such directory', EISDIR: 'it is a directory', EACCES: 'permission denied', ENOSPC: 'no space left', ENOTDIR: 'a part of the path is not a directory' }[err.code ?? ''];
  return new OutputError(`cannot write ${path}: ${err.code ?? err.message}${reason ? ` (${reason})` : ''}`, false, { cause: e });
}

/** Copies the body into the sink; a progress bar on a terminal for long downloads to a file. */
export async function saveBody(res: Response, sink: Sink, progress: boolean): Promise<number> {
  const expected = Number(res.headers['content-length'] ?? 0);
  const bar = progress && expected > 1024 * 1024;
  let size = 0;
  for await (const chunk of res.body) {
    size += chunk.length;
    await sink.write(chunk);
    if (bar) drawBar(size, expected);
  }
  if (bar) process.stderr.write('\n');
  return size;
}

function drawBar(done: number, total: number): void {
  const width = 40;
  const filled = Math.min(width, Math.round((done / total) * width));
  process.stderr.write(`\r[${'#'.repeat(filled)}${' '.repeat(width - filled)}] ${((done / total) * 100).toFixed(1)}%  ${(done / 1048576).toFixed(1)} MiB`);
}

/** The -w variables, as curl names them. */
export const WRITE_OUT_VARIABLES = ['http_code', 'response_code', 'time_namelookup', 'time_connect', 'time_appconnect', 'time_starttransfer', 'time_total', 'size_download', 'num_redirects', 'url_effective', 'http_version'] as const;

/** The -w text; unknown variables are named in `unknown` and print as nothing, as curl does. */
export function writeOut(format: string, res: Response, size: number, t0: number, tHead: number, tEnd: number): { text: string; unknown: string[] } {
  const t = res.timings;
  const s = (ms: number) => (ms / 1000).toFixed(6);
  const vars: Record<(typeof WRITE_OUT_VARIABLES)[number], string> = {
    http_code: String(res.statusCode),
    response_code: String(res.statusCode),
    time_namelookup: s(t.lookup),
    time_connect: s(t.lookup + t.connect),
    time_appconnect: s(t.tls ? t.lookup + t.connect + t.tls : 0),
    time_starttransfer: s(tHead - t0),
    time_total: s(tEnd - t0),
    size_download: String(size),
    num_redirects: String(res.redirects.length),
    url_effective: res.url,
    http_version: res.httpVersion,
  };
  const unknown: string[] = [];
  const text = format
    .replace(/%\{(\w+)\}/g, (_, name: string) => {
      if (name in vars) return vars[name as keyof typeof vars];
      if (!unknown.includes(name)) unknown.push(name);
      return '';
    })
    .replace(/\\n/g, '\n')
    .replace(/\\t/g, '\t')
    .replace(/\\r/g, '\r');
  return { text, unknown };
}
