/**
 * A response body as it arrives: chunks queue up (bounded) until the
 * consumer reads them; past the bound the connection stops reading, so a
 * slow consumer slows the server instead of filling memory.
 */
import { HttpError } from '../wire/http/errors.js';
import type { HeaderList } from '../wire/http/types.js';

/** Queued bytes past which the connection waits for the consumer. */
const HIGH_WATER = 1024 * 1024;

export class ResponseBody implements AsyncIterable<Uint8Array> {
  private chunks: Uint8Array[] = [];
  private queued = 0;
  private ended = false;
  private error: Error | null = null;
  private waiting: (() => void) | null = null;
  private drained: (() => void) | null = null;
  private consumed = false;
  /** Trailer fields of a chunked body, once it has ended. */
  trailers: HeaderList | null = null;
  /** Called when the consumer gives up early (cancel, dump of an unwanted body): the connection cannot be reused. */
  onCancel: (() => void) | null = null;

  /** Producer side: a copy of the bytes (the parser's view is only valid during its callback). */
  push(view: Uint8Array): void {
    if (this.ended) return;
    this.chunks.push(view.slice());
    this.queued += view.length;
    this.wake();
  }

  end(trailers: HeaderList | null): void {
    this.trailers = trailers;
    this.ended = true;
    this.wake();
  }

  fail(error: Error): void {
    if (this.ended) return;
    this.error = error;
    this.ended = true;
    this.wake();
  }

  /** Producer side: resolves when the consumer has taken the queue below the bound. */
  get full(): boolean {
    return this.queued >= HIGH_WATER;
  }

  whenDrained(): Promise<void> {
    if (!this.full || this.ended) return Promise.resolve();
    return new Promise((resolve) => (this.drained = resolve));
  }

  get done(): boolean {
    return this.ended && this.chunks.length === 0;
  }

  async *[Symbol.asyncIterator](): AsyncIterator<Uint8Array> {
    this.claim();
    for (;;) {
      const chunk = await this.next();
      if (chunk === null) return;
      yield chunk;
    }
  }

  /** The next chunk, or null at the end. */
  async next(): Promise<Uint8Array | null> {
    while (this.chunks.length === 0) {
      if (this.error) throw this.error;
      if (this.ended) return null;
      await new Promise<void>((resolve) => (this.waiting = resolve));
    }
    const chunk = this.chunks.shift()!;
    this.queued -= chunk.length;
    if (this.drained && !this.full) {
      const d = this.drained;
      this.drained = null;
      d();
    }
    return chunk;
  }

  async bytes(): Promise<Uint8Array> {
    this.claim();
    const parts: Uint8Array[] = [];
    let total = 0;
    for (let c = await this.next(); c !== null; c = await this.next()) {
      parts.push(c);
      total += c.length;
    }
    if (parts.length === 1) return parts[0]!;
    const out = new Uint8Array(total);
    let at = 0;
    for (const p of parts) {
      out.set(p, at);
      at += p.length;
    }
    return out;
  }

  async text(): Promise<string> {
    return Buffer.from(await this.bytes()).toString('utf8');
  }

  async json(): Promise<unknown> {
    return JSON.parse(await this.text());
  }

  async arrayBuffer(): Promise<ArrayBuffer> {
    const b = await this.bytes();
    return b.buffer.slice(b.byteOffset, b.byteOffset + b.byteLength) as ArrayBuffer;
  }

  /** Reads and discards the rest, so the connection can be reused. */
  async dump(): Promise<void> {
    this.claim();
    while ((await this.next()) !== null);
  }

  /** Gives up on the body: the connection is closed rather than drained. */
  cancel(reason?: unknown): void {
    if (this.ended && this.chunks.length === 0) return;
    this.chunks = [];
    this.queued = 0;
    this.fail(reason instanceof Error ? reason : new HttpError('ERR_HTTP_ABORTED', 'the body was canceled'));
    this.onCancel?.();
    this.drained?.();
  }

  private claim(): void {
    if (this.consumed) throw new HttpError('ERR_HTTP_ABORTED', 'the body was already read');
    this.consumed = true;
  }

  private wake(): void {
    const w = this.waiting;
    this.waiting = null;
    w?.();
  }
}
