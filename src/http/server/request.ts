/**
 * A request as the handler sees it: the parsed head, and the body pulled from
 * the connection as the handler reads it.
 */
import type { HeaderList, RequestHead } from '../../wire/http/types.js';
import type { Connection } from './connection.js';

export class ServerRequest implements AsyncIterable<Uint8Array> {
  readonly method: string;
  /** The request-target as sent. */
  readonly target: string;
  /** 0 for HTTP/1.0, 1 for HTTP/1.1. */
  readonly minor: 0 | 1;
  /** The fields in the order received, names as sent. */
  readonly headers: HeaderList;
  readonly head: RequestHead;
  readonly remoteAddress: string;
  readonly remotePort: number;
  /** Body bytes received so far. */
  bodyBytes = 0;
  /** The chunked body's trailer fields, once the body has ended. */
  trailers: HeaderList | null = null;
  /** @internal Received body pieces not yet taken; null until the first. */
  chunks: Uint8Array[] | null = null;
  /** @internal */ ended: boolean;
  /** @internal */ error: unknown = null;
  /** @internal Unread body bytes are discarded rather than kept (the handler is done). */
  discard = false;
  /** @internal */ started = 0;
  /** @internal */ readonly conn: Connection;

  constructor(conn: Connection, head: RequestHead, started: number) {
    this.conn = conn;
    this.head = head;
    this.method = head.method;
    this.target = head.target;
    this.minor = head.minor;
    this.headers = head.headers;
    this.remoteAddress = conn.remoteAddress;
    this.remotePort = conn.remotePort;
    this.ended = head.body.kind === 'none';
    this.started = started;
  }

  /** The path and query: the target itself in origin-form, the part after the authority in absolute-form. */
  get url(): string {
    const t = this.target;
    if (t.charCodeAt(0) === 47 /* / */ || t === '*') return t;
    const scheme = t.indexOf('://');
    if (scheme < 0) return t; // authority-form (CONNECT)
    const slash = t.indexOf('/', scheme + 3);
    const query = t.indexOf('?', scheme + 3);
    if (slash >= 0 && (query < 0 || slash < query)) return t.slice(slash);
    return query >= 0 ? `/${t.slice(query)}` : '/';
  }

  /** The first value of a field, by case-insensitive name. */
  get(name: string): string | undefined {
    const h = this.headers;
    const lower = name.toLowerCase();
    for (let i = 0; i < h.length; i++) {
      const n = h[i]![0];
      if (n.length === lower.length && (n === lower || n.toLowerCase() === lower)) return h[i]![1];
    }
    return undefined;
  }

  /** Whether the body has been received completely. */
  get complete(): boolean {
    return this.ended;
  }

  /** The body as an async iterable of chunks (the same as iterating the request). */
  get body(): AsyncIterable<Uint8Array> {
    return this;
  }

  [Symbol.asyncIterator](): AsyncIterator<Uint8Array> {
    return { next: () => this.nextChunk() };
  }

  /** The whole body as bytes. */
  async bytes(): Promise<Uint8Array> {
    const parts: Uint8Array[] = [];
    let size = 0;
    for (;;) {
      const r = await this.nextChunk();
      if (r.done) break;
      parts.push(r.value);
      size += r.value.length;
    }
    if (parts.length === 1) return parts[0]!;
    const out = new Uint8Array(size);
    let off = 0;
    for (const p of parts) {
      out.set(p, off);
      off += p.length;
    }
    return out;
  }

  async arrayBuffer(): Promise<ArrayBuffer> {
    const b = await this.bytes();
    return b.buffer.slice(b.byteOffset, b.byteOffset + b.byteLength) as ArrayBuffer;
  }

  async text(): Promise<string> {
    return new TextDecoder().decode(await this.bytes());
  }

  async json(): Promise<unknown> {
    return JSON.parse(await this.text());
  }

  /** @internal */
  async nextChunk(): Promise<IteratorResult<Uint8Array>> {
    for (;;) {
      const chunks = this.chunks;
      if (chunks !== null && chunks.length > 0) return { done: false, value: chunks.shift()! };
      if (this.error) throw this.error;
      if (this.ended || this.discard) return { done: true, value: undefined };
      await this.conn.pullBody(this);
    }
  }

  /** @internal A view into the read buffer: copied, as the parser's views last only for the call. */
  push(chunk: Uint8Array): void {
    this.bodyBytes += chunk.length;
    if (!this.discard) (this.chunks ??= []).push(chunk.slice());
  }
}

