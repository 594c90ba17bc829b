/**
 * An HTTP/1.1 server on the socket library (RFC 9112 messages, RFC 9110
 * semantics): an accept loop, and per connection one task that reads into a
 * reused buffer, feeds the incremental parser, and runs the handler for one
 * request at a time, strictly in order.
 *
 * The handler API, kept small for speed:
 *
 *   serve((req, res) => res.end('hello'))
 *
 * - `req.method`, `req.target` (as sent), `req.url` (path and query), `req.minor`,
 *   `req.headers` (a HeaderList, names as sent), `req.get(name)` (first value,
 *   case-insensitive), `req.remoteAddress`/`remotePort`, and the body as
 *   `for await (const chunk of req.body)` or `await req.text()` / `bytes()` /
 *   `arrayBuffer()` / `json()`. Chunks are the handler's to keep.
 * - `res.status` (default 200), `res.setHeader(name, value)` (replaces),
 *   `res.appendHeader` (adds another, e.g. Set-Cookie), `getHeader`, `removeHeader`,
 *   `res.writeHead(status, headers?)`, `res.write(chunk)` and `res.end(body?)`.
 *   `write` and `end` return promises that settle once the socket library took
 *   the bytes (await them for backpressure; an unawaited failure is not an
 *   unhandled rejection). A chunk passed to `write` is lent until its promise settles.
 * - `res.end(body)` with nothing written before is the fast path: head and body
 *   go out in one write, from a buffer the connection reuses, with
 *   Content-Length. `write` before `end` streams: Content-Length if the handler
 *   set one, else chunked for HTTP/1.1, else the connection's close ends the body.
 * - An async handler's response is ended when its promise settles; a handler
 *   that returns nothing must call `res.end()` itself, now or later.
 * - The server adds Date, Content-Length or Transfer-Encoding, and Connection.
 *   A Transfer-Encoding set by the handler is ignored; `Connection: close` set
 *   by the handler closes the connection after the response.
 * - `Expect: 100-continue` is answered with 100 Continue when the handler
 *   first reads the body; a body left unread is read and discarded up to
 *   `maxDrain` bytes, else the connection closes after the response.
 * - A handler that throws gets a 500 if its head is not out yet, else the
 *   connection is aborted. A malformed request gets statusForError's status
 *   (400, 413, 414, 431, 505) with Connection: close; requests pipelined before
 *   it are answered first. Upgrade is not offered: such a request is answered
 *   as a plain one and the connection then closes; CONNECT gets 501.
 *
 * Timeouts (all on the stack's clock): a new connection must send its first
 * byte within `firstByteTimeout`, and a request head must be whole within
 * `headersTimeout` of its first byte, else 408 and close; an idle keep-alive
 * connection is closed after `keepAliveTimeout`; the whole request, body
 * included, must arrive within `requestTimeout`. At `maxConnections` the
 * longest idle connection, else the slowest head, is closed to let a new one
 * in (src/http/admission.ts).
 */
import { defaultLibrary } from '#default-library';
import { SocketError } from '../socket/errors.js';
import type { CallOptions, SocketLibrary } from '../socket/library.js';
import { HttpError, statusForError } from '../wire/http/errors.js';
import { HttpParser } from '../wire/http/parser.js';
import type { HeaderList, HttpLimits, MessageHead, ParserCallbacks, RequestHead } from '../wire/http/types.js';
import { hostPort } from '../wire/address.js';
import { Admission } from './admission.js';
import { currentDateLine, reasonFor, statusLine } from './status-line.js';

export type Handler = (req: ServerRequest, res: ServerResponse) => void | Promise<void>;

export interface ServeOptions {
  /** Default 127.0.0.1. */
  host?: string;
  /** Default 0: the stack picks a free port. */
  port?: number;
  /** Default: a new library over the kernel stack, labelled 'http-server'. */
  lib?: SocketLibrary;
  /** Parser limits; a request body is limited to 1 MiB unless `maxBodyBytes` says otherwise (nginx's client_max_body_size). */
  limits?: Partial<HttpLimits>;
  /** Milliseconds a new connection may wait before sending its first byte. Default 10 s. */
  firstByteTimeout?: number;
  /** Milliseconds for a whole request head, from its first byte. Default 60 s, as Node's. */
  headersTimeout?: number;
  /** Milliseconds for a whole request, head and body. Default 300 s, as Node's. */
  requestTimeout?: number;
  /** Milliseconds a keep-alive connection may sit idle between requests. Default 5 s, as Node's. */
  keepAliveTimeout?: number;
  /** Connections open at once. At the cap an idle or slow one is closed for each newcomer; only when all are busy do newcomers wait in the backlog. Default 4096. */
  maxConnections?: number;
  /** The listen backlog. Default 511, as Node's. */
  backlog?: number;
  /** Bytes of a request body the handler left unread that the server reads and discards to keep the connection. Default 1 MiB. */
  maxDrain?: number;
  /** Called with errors the handler threw (after the server answered 500 or aborted). Default: none. */
  onError?: (err: unknown, req: ServerRequest) => void;
}

export interface HttpServerStats {
  /** Connections accepted since the start. */
  connections: number;
  /** Connections open now. */
  open: number;
  /** Requests whose head was received and handed to the handler. */
  requests: number;
  /** Responses completely sent, including error responses. */
  responses: number;
  /** Malformed requests answered with 4xx/505. */
  parseErrors: number;
  /** Requests timed out (408) and idle connections closed. */
  timeouts: number;
  /** Idle or slow connections closed to make room at maxConnections. */
  shed: number;
  /** Handlers that threw. */
  handlerErrors: number;
  /** Connections aborted under a response (the peer went away, or the handler failed mid-body). */
  aborted: number;
}

export interface CloseOptions {
  /** Let in-flight responses finish (default true); false closes every connection now. */
  graceful?: boolean;
  /** Milliseconds to wait for in-flight responses before closing them anyway. Default 10 s. */
  timeout?: number;
}

export interface HttpServer {
  readonly address: string;
  readonly port: number;
  /** `http://address:port/` */
  readonly url: string;
  readonly stats: HttpServerStats;
  close(options?: CloseOptions): Promise<void>;
}

const CRLF = '\r\n';
const READ_BUFFER = 16 * 1024;
/** A connection reads its first bytes into this much, and takes the full buffer once it has sent some: silent ones stay small. */
const FIRST_READ = 1024;
const OUT_BUFFER = 16 * 1024;
/** Above this a chunk is written on its own rather than copied next to its framing. */
const COPY_LIMIT = 16 * 1024;
/** After a response that ends the connection: how long and how much to read and discard before closing (RFC 9112 §9.6). */
const LINGER_MS = 2_000;
const LINGER_BYTES = 1024 * 1024;
const TOKEN = /^[!#$%&'*+\-.^_`|~0-9A-Za-z]+$/;
const FIELD_VALUE = /^[\t\x20-\x7e\x80-\xff]*$/;

/** Starts an HTTP server and resolves once it listens. */
export async function serve(handler: Handler, options: ServeOptions = {}): Promise<HttpServer> {
  const server = new Server(handler, options);
  await server.open(options.port ?? 0, options.backlog ?? 511);
  return server;
}

// ---- requests ----

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

// ---- responses ----

type Framing = 'length' | 'chunked' | 'close' | 'none';

function noop(): void {}

/** The fields of a response that has set none; replaced by its own array at the first. */
const NO_FIELDS: string[] = [];

/** Marks a promise as handled (so an unawaited failure does not crash the process) and returns it. */
function handled<T>(p: Promise<T>): Promise<T> {
  p.catch(noop);
  return p;
}

export class ServerResponse {
  status = 200;
  /** The reason phrase; by default the standard one for the status. */
  reason: string | undefined = undefined;
  /** The fields set so far, three strings each: name as given, name in lowercase, value. */
  private fields: string[] = NO_FIELDS;
  private headSent = false;
  private ended = false;
  private wantClose = false;
  private framing: Framing = 'none';
  /** Bytes still owed under a Content-Length, or written under any other framing. */
  private remaining = 0;
  private written = 0;
  /** The last write in flight; the next waits for it. */
  private tail: Promise<void> | null = null;
  private endWaiter: (() => void) | null = null;
  /** @internal Settles when the response is completely handed to the stack. */
  done: Promise<void> | null = null;
  /** @internal The handler failed mid-body, or the response could not be completed. */
  broken = false;
  /** @internal */ closeAfter = false;
  /** @internal */ readonly conn: Connection;
  /** @internal */ readonly req: ServerRequest;

  constructor(conn: Connection, req: ServerRequest) {
    this.conn = conn;
    this.req = req;
  }

  /** Whether the head has been handed to the socket library. */
  get headersSent(): boolean {
    return this.headSent;
  }

  /** Whether end() has been called. */
  get finished(): boolean {
    return this.ended;
  }

  /** Body bytes written so far. */
  get bytesWritten(): number {
    return this.written;
  }

  setHeader(name: string, value: string | number): this {
    const v = this.check(name, value);
    const lower = name.toLowerCase();
    if (this.special(lower, v)) return this;
    const i = this.find(lower);
    if (i >= 0) {
      const f = this.fields;
      f[i] = name;
      f[i + 2] = v;
      // a repeated name (appendHeader) collapses to this one value
      for (let j = f.length - 3; j > i; j -= 3) if (f[j + 1] === lower) f.splice(j, 3);
    } else this.add(name, lower, v);
    return this;
  }

  /** Adds a field even if one of that name exists (Set-Cookie). */
  appendHeader(name: string, value: string | number): this {
    const v = this.check(name, value);
    const lower = name.toLowerCase();
    if (!this.special(lower, v)) this.add(name, lower, v);
    return this;
  }

  getHeader(name: string): string | undefined {
    const i = this.find(name.toLowerCase());
    return i >= 0 ? this.fields[i + 2] : undefined;
  }

  hasHeader(name: string): boolean {
    return this.find(name.toLowerCase()) >= 0;
  }

  removeHeader(name: string): this {
    this.assertHeadNotSent();
    const lower = name.toLowerCase();
    const f = this.fields;
    for (let j = f.length - 3; j >= 0; j -= 3) if (f[j + 1] === lower) f.splice(j, 3);
    return this;
  }

  /** Sets the status and some fields; the head goes out with the first write or end. */
  writeHead(status: number, headers?: Record<string, string | number> | HeaderList): this {
    this.assertHeadNotSent();
    this.status = status;
    if (Array.isArray(headers)) for (const [n, v] of headers) this.appendHeader(n, v);
    else if (headers) for (const n of Object.keys(headers)) this.setHeader(n, headers[n]!);
    return this;
  }

  /** Sends the head now, before any body (for a response that streams later). */
  flushHeaders(): Promise<void> {
    if (this.headSent) return this.tail ?? Promise.resolve();
    if (this.ended) throw new Error('the response has ended');
    return handled(this.enqueue(this.beginStream(), null));
  }

  /** Sends a piece of the body; resolves once the socket library has taken it. */
  write(chunk: string | Uint8Array): Promise<void> {
    if (this.ended) return handled(Promise.reject(new Error('write after end')));
    const data = typeof chunk === 'string' ? Buffer.from(chunk) : chunk;
    let head: string | null = null;
    if (!this.headSent) head = this.beginStream();
    if (this.framing === 'length' && data.length > this.remaining) {
      return handled(Promise.reject(new RangeError(`write of ${data.length} bytes exceeds the Content-Length (${this.remaining} left)`)));
    }
    if (data.length === 0 && head === null) return this.tail ?? Promise.resolve();
    return handled(this.enqueue(head, data));
  }

  /**
   * Ends the response, with a last piece of body. With nothing written before,
   * head and body go out in one write with Content-Length.
   */
  end(body?: string | Uint8Array): Promise<void> {
    if (this.ended) return this.done ?? Promise.resolve();
    let p: Promise<void>;
    if (!this.headSent) {
      p = this.sendWhole(body);
      this.ended = true;
    } else {
      if (body !== undefined && (typeof body === 'string' ? body.length > 0 : body.length > 0)) {
        const w = this.write(body);
        this.ended = true;
        p = w.then(() => this.finish());
      } else {
        this.ended = true;
        p = this.finish();
      }
    }
    // Ended from inside a synchronous handler, the promise is awaited before anything could find it unhandled.
    this.done = this.conn.inHandler ? p : handled(p);
    const wake = this.endWaiter;
    if (wake) {
      this.endWaiter = null;
      wake();
    }
    return this.done;
  }

  // ---- internals ----

  /** @internal Resolves once end() has been called. */
  whenEnded(): Promise<void> {
    if (this.ended) return Promise.resolve();
    return new Promise((resolve) => (this.endWaiter = resolve));
  }

  /** @internal The connection is going away: release a handler's waiter. */
  abandon(): void {
    this.broken = true;
    this.ended = true;
    const wake = this.endWaiter;
    this.endWaiter = null;
    wake?.();
  }

  /** @internal A fresh start for an error response the handler did not begin sending. */
  resetForError(status: number): void {
    this.status = status;
    this.reason = undefined;
    this.fields = NO_FIELDS;
    this.ended = false;
    this.done = null;
  }

  private check(name: string, value: string | number): string {
    this.assertHeadNotSent();
    if (typeof name !== 'string' || !TOKEN.test(name)) throw new TypeError(`invalid header name: ${JSON.stringify(name)}`);
    const v = typeof value === 'number' ? String(value) : value;
    if (typeof v !== 'string' || !FIELD_VALUE.test(v)) throw new TypeError(`invalid value for header ${name}`);
    return v;
  }

  /** Fields the server owns. Returns true when the field is not to be stored. */
  private special(lower: string, value: string): boolean {
    if (lower === 'connection') {
      if (/(^|[\s,])close([\s,]|$)/i.test(value)) this.wantClose = true;
      return true;
    }
    if (lower === 'transfer-encoding' || lower === 'keep-alive') return true;
    if (lower === 'content-length' && !/^\d{1,15}$/.test(value)) throw new TypeError(`invalid Content-Length: ${value}`);
    return false;
  }

  private find(lower: string): number {
    const f = this.fields;
    for (let i = 0; i < f.length; i += 3) if (f[i + 1] === lower) return i;
    return -1;
  }

  private add(name: string, lower: string, value: string): void {
    if (this.fields === NO_FIELDS) this.fields = [];
    this.fields.push(name, lower, value);
  }

  private assertHeadNotSent(): void {
    if (this.headSent) throw new Error('the response head has already been sent');
  }

  /** No body on the wire: HEAD, 1xx, 204, 304 (RFC 9110 §6.4.1). */
  private bodiless(): boolean {
    const s = this.status;
    return this.req.method === 'HEAD' || s === 204 || s === 304 || (s >= 100 && s < 200);
  }

  private validStatus(): void {
    if (!Number.isInteger(this.status) || this.status < 200 || this.status > 999) {
      // 1xx are the server's to send (100 Continue); a handler cannot end with one.
      throw new RangeError(`status must be 200-999, not ${String(this.status)}`);
    }
    if (this.reason !== undefined && !/^[\t\x20-\x7e\x80-\xff]*$/.test(this.reason)) throw new TypeError('invalid reason phrase');
  }

  /** The head and the whole body in one write (the fast path). */
  private sendWhole(body: string | Uint8Array | undefined): Promise<void> {
    this.validStatus();
    const s = this.status;
    const bodiless = this.bodiless();
    let length: number;
    let bytes: Uint8Array | null = null;
    let text: string | null = null;
    if (body === undefined) length = 0;
    else if (typeof body === 'string') {
      text = body;
      length = Buffer.byteLength(body);
    } else {
      bytes = body;
      length = body.length;
    }
    let head = statusLine(s, this.reason);
    const f = this.fields;
    let hasDate = false;
    let hasLength = false;
    for (let i = 0; i < f.length; i += 3) {
      const l = f[i + 1]!;
      if (l === 'content-length') {
        // Ours wins when we know the body; on a bodiless response the handler's says what a GET would get.
        if (!bodiless || s === 204 || (s >= 100 && s < 200)) continue;
        hasLength = true;
      } else if (l === 'date') hasDate = true;
      head += `${f[i]}: ${f[i + 2]}\r\n`;
    }
    if (!hasDate) head += currentDateLine();
    if (!hasLength && s !== 204 && s !== 304) head += `Content-Length: ${length}\r\n`;
    this.headSent = true;
    this.framing = 'length';
    this.written = bodiless ? 0 : length;
    head += this.connectionLine();
    head += CRLF;
    if (bodiless) length = 0;
    // A large body of bytes goes out as it is, after the head: copying it would cost more than a second write.
    if (bytes !== null && length > COPY_LIMIT) return this.chain([Buffer.from(head, 'latin1'), bytes]);
    const total = head.length + length;
    const out = this.conn.outBuffer(total);
    out.write(head, 0, 'latin1');
    if (length > 0) {
      if (text !== null) out.write(text, head.length, 'utf8');
      else out.set(bytes!, head.length);
    }
    return this.conn.send(out, total);
  }

  /** The Connection field, and whether the connection ends after this response. */
  private connectionLine(): string {
    const close = this.wantClose || this.conn.mustClose(this.req) || this.framing === 'close';
    this.closeAfter = close;
    if (close) return 'Connection: close\r\n';
    if (this.req.minor === 0) return `Connection: keep-alive\r\nKeep-Alive: timeout=${Math.floor(this.conn.server.keepAliveTimeout / 1000)}\r\n`;
    return '';
  }

  /** The head of a streamed response; decides the framing. */
  private beginStream(): string {
    this.validStatus();
    const s = this.status;
    const bodiless = this.bodiless();
    let head = statusLine(s, this.reason);
    let hasDate = false;
    let declared = -1;
    const f = this.fields;
    for (let i = 0; i < f.length; i += 3) {
      const l = f[i + 1]!;
      if (l === 'content-length') {
        if (s === 204 || (s >= 100 && s < 200)) continue;
        declared = Number(f[i + 2]);
      } else if (l === 'date') hasDate = true;
      head += `${f[i]}: ${f[i + 2]}\r\n`;
    }
    if (!hasDate) head += currentDateLine();
    if (bodiless) this.framing = 'none';
    else if (declared >= 0) {
      this.framing = 'length';
      this.remaining = declared;
    } else if (this.req.minor === 1) {
      this.framing = 'chunked';
      head += 'Transfer-Encoding: chunked\r\n';
    } else this.framing = 'close';
    head += this.connectionLine();
    head += CRLF;
    this.headSent = true;
    return head;
  }

  /** Frames a piece of body (with the head before it, if still unsent) and queues the write. */
  private enqueue(head: string | null, data: Uint8Array | null): Promise<void> {
    let pieces: Uint8Array[];
    const size = data ? data.length : 0;
    if (this.framing === 'none') {
      // HEAD, 204, 304: the body is not sent.
      pieces = head !== null ? [Buffer.from(head, 'latin1')] : [];
    } else {
      if (this.framing === 'length') this.remaining -= size;
      this.written += size;
      const prefix = (head ?? '') + (this.framing === 'chunked' && size > 0 ? `${size.toString(16)}\r\n` : '');
      const suffix = this.framing === 'chunked' && size > 0;
      if (size === 0) pieces = prefix ? [Buffer.from(prefix, 'latin1')] : [];
      else if (size <= COPY_LIMIT) {
        const out = Buffer.allocUnsafe(prefix.length + size + (suffix ? 2 : 0));
        out.write(prefix, 0, 'latin1');
        out.set(data!, prefix.length);
        if (suffix) out.write(CRLF, prefix.length + size, 'latin1');
        pieces = [out];
      } else {
        pieces = prefix ? [Buffer.from(prefix, 'latin1'), data!] : [data!];
        if (suffix) pieces.push(CRLF_BYTES);
      }
    }
    return this.chain(pieces);
  }

  private chain(pieces: Uint8Array[]): Promise<void> {
    const conn = this.conn;
    const run = async () => {
      for (const p of pieces) await conn.send(p, p.length);
    };
    const prev = this.tail;
    const p = prev ? prev.then(run) : run();
    this.tail = p;
    return p;
  }

  /** After end(): the last chunk, or a check that the declared length was met. */
  private finish(): Promise<void> {
    if (this.framing === 'chunked') return this.chain([LAST_CHUNK]);
    if (this.framing === 'length' && this.remaining > 0) {
      this.broken = true;
      return Promise.reject(new Error(`the response ended ${this.remaining} bytes short of its Content-Length`));
    }
    return this.tail ?? Promise.resolve();
  }
}

const CRLF_BYTES = Buffer.from(CRLF, 'latin1');
const LAST_CHUNK = Buffer.from('0\r\n\r\n', 'latin1');
const CONTINUE = Buffer.from('HTTP/1.1 100 Continue\r\n\r\n', 'latin1');

// ---- connections ----

class Connection implements ParserCallbacks {
  readonly server: Server;
  readonly lib: SocketLibrary;
  readonly fd: number;
  remoteAddress = '';
  remotePort = 0;
  private readonly parser: HttpParser;
  private buf = new Uint8Array(FIRST_READ);
  private readonly readOptions = { timeout: 1 };
  private out: Buffer | null = null;
  /** Requests whose heads have been parsed and that wait for their turn. */
  private readonly queue: ServerRequest[] = [];
  /** The request whose body the parser is in, if any. */
  private parsing: ServerRequest | null = null;
  /** The request being handled. */
  current: ServerRequest | null = null;
  private currentRes: ServerResponse | null = null;
  private parseError: HttpError | null = null;
  private eof = false;
  /** No more requests on this connection: it closes after the current response. */
  private stop = false;
  /** The parser failed; nothing more is parsed. */
  private dead = false;
  /** When the first byte of the head in progress arrived, or -1. */
  private headStart = -1;
  private served = 0;
  private reading: Promise<void> | null = null;
  private continueSent = false;
  /** @internal The handler is running synchronously: a response it ends is awaited at once. */
  inHandler = false;
  /** Waiting for a new request with nothing of it received: closing now loses nothing. */
  idle = false;
  closed = false;

  constructor(server: Server, fd: number) {
    this.server = server;
    this.lib = server.lib;
    this.fd = fd;
    this.parser = new HttpParser('request', this, server.limits);
  }

  // ---- parser callbacks (they run inside execute) ----

  onHead(head: MessageHead): void {
    if (head.kind !== 'request') return;
    // requestTimeout counts from the head's first byte; only a body has to be waited for under it.
    const started = this.headStart >= 0 ? this.headStart : head.body.kind === 'none' ? 0 : this.lib.stack.now();
    const req = new ServerRequest(this, head, started);
    this.headStart = -1;
    this.queue.push(req);
    // No upgrade is offered: the request is answered as a plain one, then the connection ends
    // (the parser reads its body, then stops: what follows would not be HTTP).
    if (head.upgrade) this.stop = true;
    this.parsing = req.ended ? null : req;
  }

  onBody(chunk: Uint8Array): void {
    this.parsing?.push(chunk);
  }

  onEnd(trailers: HeaderList | null): void {
    const req = this.parsing;
    if (!req) return;
    req.trailers = trailers;
    req.ended = true;
    this.parsing = null;
  }

  // ---- the loop ----

  async run(): Promise<void> {
    try {
      try {
        const peer = await this.lib.getpeername(this.fd);
        this.remoteAddress = peer.address;
        this.remotePort = peer.port;
      } catch {
        return;
      }
      // The common path costs two waits per request: the read that brings it, the write that answers it.
      for (;;) {
        const req = this.queue.length > 0 ? this.queue.shift()! : await this.nextRequest();
        if (!req) break;
        let res = this.begin(req);
        if (res instanceof Promise) res = await res;
        if (res === null) break;
        try {
          await res.done;
        } catch {
          res.broken = true;
        }
        const keep = this.after(req, res);
        if (keep === false || (keep !== true && !(await keep))) break;
      }
    } catch (e) {
      if (!this.closed && !isSocketError(e)) this.server.stats.aborted++;
    } finally {
      this.destroy();
    }
  }

  /** The next request in order, reading as needed; null when the connection should end. */
  private async nextRequest(): Promise<ServerRequest | false | null> {
    const server = this.server;
    const clock = this.lib.stack;
    let now = clock.now();
    const idleSince = now;
    while (this.queue.length === 0) {
      if (this.parseError) {
        server.admission.busy(this);
        await this.sendError(statusForError(this.parseError.code));
        return null;
      }
      if (this.closed) return null;
      if (this.eof || this.stop) return this.lingerClose();
      // Part of a head has arrived: it must be whole within headersTimeout of its first byte.
      const partial = !this.parser.idle;
      if (partial && this.headStart < 0) this.headStart = now;
      if (server.closing && !partial) return null;
      // Nothing yet: a fresh connection gets the first-byte timeout, a kept-alive one the idle timeout.
      const deadline = partial
        ? this.headStart + server.headersTimeout
        : idleSince + (this.served === 0 ? server.firstByteTimeout : server.keepAliveTimeout);
      this.idle = !partial;
      if (partial) server.admission.slow(this);
      else server.admission.idle(this);
      try {
        const left = deadline - now;
        if (left <= 0) throw new SocketError('ETIMEDOUT');
        this.consume(await this.lib.read(this.fd, this.buf, undefined, this.readFor(left)));
      } catch (e) {
        if (!isCode(e, 'ETIMEDOUT')) throw e;
        server.stats.timeouts++;
        // A request began and its head is late: 408 (RFC 9110 §15.5.9). An idle connection just closes.
        if (partial) await this.sendError(408);
        return null;
      } finally {
        this.idle = false;
      }
      if (this.queue.length > 0) break;
      now = clock.now();
      if (this.headStart < 0 && !this.parser.idle) this.headStart = now;
    }
    server.admission.busy(this);
    return this.queue.shift()!;
  }

  /** Options for one read, reused: the library takes the timeout when the call starts. */
  private readFor(timeout: number): CallOptions {
    this.readOptions.timeout = Math.max(1, timeout);
    return this.readOptions;
  }

  /** One read into the connection's buffer, through the parser. */
  private async fill(timeout: number): Promise<void> {
    this.consume(await this.lib.read(this.fd, this.buf, undefined, this.readFor(timeout)));
  }

  /** Feeds what a read brought to the parser (0: the end of the stream). */
  private consume(n: number): void {
    if (n === 0) {
      this.eof = true;
      try {
        this.parser.finish();
      } catch (e) {
        this.failParse(e);
      }
      return;
    }
    if (this.dead) return; // after an error nothing more is parsed
    try {
      this.parser.execute(n === this.buf.length ? this.buf : this.buf.subarray(0, n));
    } catch (e) {
      this.failParse(e);
    }
    // The parser keeps nothing of its input between calls, so the buffer can be swapped.
    if (this.buf.length === FIRST_READ) this.buf = new Uint8Array(READ_BUFFER);
  }

  /** The parser refused the input: nothing after this point is parsed. */
  private failParse(e: unknown): void {
    const err = e instanceof HttpError ? e : new HttpError('ERR_HTTP_BAD_START_LINE', String(e), { cause: e });
    this.stop = true;
    this.dead = true;
    const req = this.parsing;
    this.parsing = null;
    if (req) {
      req.error = err;
      if (req === this.current) return; // the handler sees it through the body; failed() answers
      // A request whose body broke before its turn is answered with the error instead.
      const i = this.queue.indexOf(req);
      if (i >= 0) this.queue.splice(i, 1);
      this.parseError = err;
      return;
    }
    // The client closed in the middle of a head: there is no one to answer.
    if (this.eof && err.code === 'ERR_HTTP_INCOMPLETE') return;
    this.parseError = err;
  }

  /** Called by a request body that has run dry: 100 Continue if owed, then one more read. */
  async pullBody(req: ServerRequest): Promise<void> {
    if (this.reading) return this.reading;
    const p = this.pullOnce(req);
    this.reading = p;
    try {
      await p;
    } finally {
      this.reading = null;
    }
  }

  private async pullOnce(req: ServerRequest): Promise<void> {
    if (req.error || req.ended || this.closed) return;
    if (this.eof) {
      req.error = new HttpError('ERR_HTTP_INCOMPLETE', 'the connection ended inside the request body');
      return;
    }
    if (req.head.expectContinue && !this.continueSent && req === this.current && this.currentRes && !this.currentRes.headersSent) {
      this.continueSent = true;
      await this.send(CONTINUE, CONTINUE.length);
    }
    const left = req.started + this.server.requestTimeout - this.lib.stack.now();
    try {
      if (left <= 0) throw new SocketError('ETIMEDOUT');
      await this.fill(left);
    } catch (e) {
      if (isCode(e, 'ETIMEDOUT')) {
        this.server.stats.timeouts++;
        req.error = new HttpError('ERR_HTTP_BODY_TIMEOUT', 'request body not received in time', { cause: e });
        this.stop = true;
      } else req.error = e;
    }
  }

  /**
   * Runs the handler for one request. A handler that ends its response before
   * returning gets it back at once, without a wait; null when the connection must end now.
   */
  private begin(req: ServerRequest): ServerResponse | null | Promise<ServerResponse | null> {
    const server = this.server;
    server.stats.requests++;
    this.current = req;
    this.continueSent = false;
    const res = new ServerResponse(this, req);
    this.currentRes = res;
    if (req.method === 'CONNECT') {
      // No tunnels here (RFC 9110 §9.3.6 makes them optional).
      this.stop = true;
      res.status = 501;
      res.setHeader('Content-Type', 'text/plain; charset=utf-8');
      void res.end('501 Not Implemented\n');
      return res;
    }
    let r: void | Promise<void>;
    this.inHandler = true;
    try {
      r = server.handler(req, res);
    } catch (e) {
      return this.failed(req, res, e);
    } finally {
      this.inHandler = false;
    }
    if (r !== undefined && r !== null && typeof (r as Promise<void>).then === 'function') {
      // Ended before its first await: the write's failure must not count as unhandled meanwhile.
      if (res.done) handled(res.done);
      return (r as Promise<void>).then(
        () => {
          if (!res.finished) void res.end();
          return res;
        },
        (e: unknown) => this.failed(req, res, e),
      );
    }
    if (res.finished) return res;
    return res.whenEnded().then(() => res);
  }

  /** The handler threw: 500 if nothing was sent yet, else the connection is aborted (null). */
  private failed(req: ServerRequest, res: ServerResponse, e: unknown): ServerResponse | null {
    const server = this.server;
    // A socket call that failed under the handler is the peer's doing (gone, reset, too slow), not a bug.
    if (!(e instanceof SocketError)) server.stats.handlerErrors++;
    try {
      server.onError?.(e, req);
    } catch {
      // the error hook's own failure changes nothing
    }
    if (res.finished && !res.broken) return res;
    if (res.headersSent || this.closed) {
      // Part of the response is out: the only honest end is an abort.
      if (!this.closed) server.stats.aborted++;
      return null;
    }
    // A body the client sent wrong: the parse error's status (400, 413); anything else is ours: 500.
    const bodyErr = req.error instanceof HttpError && e === req.error ? req.error : null;
    const status = bodyErr ? (bodyErr.code === 'ERR_HTTP_BODY_TIMEOUT' ? 408 : statusForError(bodyErr.code)) : 500;
    if (bodyErr) {
      if (status !== 408) server.stats.parseErrors++;
      this.stop = true;
    }
    res.resetForError(status);
    res.setHeader('Content-Type', 'text/plain; charset=utf-8');
    void res.end(`${status} ${reasonFor(status)}\n`);
    return res;
  }

  /** After the response went out: whether the connection carries on (maybe after draining the body). */
  private after(req: ServerRequest, res: ServerResponse): boolean | Promise<boolean> {
    if (res.broken || this.closed) {
      if (!this.closed) this.server.stats.aborted++;
      return false;
    }
    this.server.stats.responses++;
    this.served++;
    if (res.closeAfter || this.server.closing) return this.lingerClose();
    // A body the handler left unread is read and discarded, up to a bound.
    if (!req.ended) return this.drain(req);
    this.current = null;
    this.currentRes = null;
    return true;
  }

  private async drain(req: ServerRequest): Promise<boolean> {
    req.discard = true;
    req.chunks = null;
    const limit = req.bodyBytes + this.server.maxDrain;
    while (!req.ended) {
      if (req.error || this.closed || req.bodyBytes > limit) return false;
      await this.pullBody(req);
    }
    if (req.error) return false;
    this.current = null;
    this.currentRes = null;
    return true;
  }

  /** Whether the response to `req` must end the connection. @internal */
  mustClose(req: ServerRequest): boolean {
    if (!req.head.keepAlive || this.server.closing) return true;
    // Nothing will follow this response: no request waits, none can be parsed, no error is owed.
    if ((this.stop || this.eof) && this.queue.length === 0 && !this.parseError) return true;
    if (!req.ended) {
      // The client waits for 100 Continue we never sent: it may or may not send the body, so the stream is unknowable.
      if (req.head.expectContinue && !this.continueSent) return true;
      const body = req.head.body;
      if (body.kind === 'length' && body.length - req.bodyBytes > this.server.maxDrain) return true;
    }
    return false;
  }

  /** An error response with Connection: close, then the close. */
  private async sendError(status: number): Promise<void> {
    if (status !== 408) this.server.stats.parseErrors++;
    this.stop = true;
    const body = `${status} ${reasonFor(status)}\n`;
    const head = `${statusLine(status, undefined)}${currentDateLine()}Content-Type: text/plain; charset=utf-8\r\nContent-Length: ${body.length}\r\nConnection: close\r\n\r\n`;
    const out = Buffer.from(head + body, 'latin1');
    try {
      await this.send(out, out.length);
      this.server.stats.responses++;
    } catch {
      return;
    }
    await this.lingerClose();
  }

  /**
   * Closes after a response without losing it: FIN first, then read and discard
   * what the client still sends, for a while, so the close is not a reset that
   * could destroy the response in the client's buffers (RFC 9112 §9.6).
   */
  private async lingerClose(): Promise<false> {
    if (this.closed) return false;
    try {
      await this.lib.shutdown(this.fd, 'write');
      const clock = this.lib.stack;
      const deadline = clock.now() + LINGER_MS;
      let total = 0;
      while (total < LINGER_BYTES && !this.closed) {
        const left = deadline - clock.now();
        if (left <= 0) break;
        const n = await this.lib.read(this.fd, this.buf, undefined, { timeout: left });
        if (n === 0) break;
        total += n;
      }
    } catch {
      // the peer reset, or the linger ran out: close anyway
    }
    return false;
  }

  /** @internal A buffer for a whole small response, reused between responses. */
  outBuffer(size: number): Buffer {
    if (size > OUT_BUFFER) return Buffer.allocUnsafe(size);
    return (this.out ??= Buffer.allocUnsafe(OUT_BUFFER));
  }

  /** @internal */
  send(data: Uint8Array, length: number): Promise<void> {
    return this.lib.write(this.fd, data, length) as unknown as Promise<void>;
  }

  /** Closes the descriptor once; a call sleeping on it wakes with EBADF. */
  destroy(): void {
    if (this.closed) return;
    this.closed = true;
    this.currentRes?.abandon();
    const req = this.current;
    if (req && !req.ended && !req.error) req.error = new HttpError('ERR_HTTP_CLOSED', 'the connection was closed');
    this.server.forget(this);
    this.lib.close(this.fd).catch(noop);
  }
}

// ---- the server ----

class Server implements HttpServer {
  readonly stats: HttpServerStats = { connections: 0, open: 0, requests: 0, responses: 0, parseErrors: 0, timeouts: 0, shed: 0, handlerErrors: 0, aborted: 0 };
  readonly lib: SocketLibrary;
  readonly handler: Handler;
  readonly address: string;
  port = 0;
  readonly limits: Partial<HttpLimits> | undefined;
  readonly firstByteTimeout: number;
  readonly headersTimeout: number;
  readonly requestTimeout: number;
  readonly keepAliveTimeout: number;
  readonly admission: Admission<Connection>;
  readonly maxDrain: number;
  readonly onError: ((err: unknown, req: ServerRequest) => void) | undefined;
  closing = false;
  private listenFd = -1;
  private acceptLoop: Promise<void> | null = null;
  private readonly connections = new Set<Connection>();
  private readonly tasks = new Set<Promise<void>>();
  private closePromise: Promise<void> | null = null;

  constructor(handler: Handler, options: ServeOptions) {
    if (typeof handler !== 'function') throw new TypeError('serve() needs a handler function');
    this.handler = handler;
    this.lib = options.lib ?? defaultLibrary('http-server');
    this.address = options.host ?? '127.0.0.1';
    this.limits = { maxBodyBytes: 1024 * 1024, ...options.limits };
    this.firstByteTimeout = positive(options.firstByteTimeout ?? 10_000, 'firstByteTimeout');
    this.headersTimeout = positive(options.headersTimeout ?? 60_000, 'headersTimeout');
    this.requestTimeout = positive(options.requestTimeout ?? 300_000, 'requestTimeout');
    this.keepAliveTimeout = positive(options.keepAliveTimeout ?? 5_000, 'keepAliveTimeout');
    const maxConnections = options.maxConnections ?? 4096;
    this.maxDrain = options.maxDrain ?? 1024 * 1024;
    this.onError = options.onError;
    if (!Number.isInteger(maxConnections) || maxConnections < 1) throw new RangeError('maxConnections must be at least 1');
    this.admission = new Admission(maxConnections);
    if (!(this.maxDrain >= 0)) throw new RangeError('maxDrain must be 0 or more');
  }

  get url(): string {
    return `http://${hostPort(this.address, this.port)}/`;
  }

  async open(port: number, backlog: number): Promise<void> {
    const lib = this.lib;
    const fd = await lib.socket('tcp');
    try {
      // Accepted sockets inherit this: a response is sent at once, not held back by Nagle's algorithm.
      await lib.setsockopt(fd, { noDelay: true });
      await lib.bind(fd, this.address, port);
      await lib.listen(fd, backlog);
      this.port = (await lib.getsockname(fd)).port;
    } catch (e) {
      await lib.close(fd).catch(noop);
      throw e;
    }
    this.listenFd = fd;
    this.acceptLoop = this.accepting();
  }

  private async accepting(): Promise<void> {
    const lib = this.lib;
    while (!this.closing) {
      while (!this.admission.room && !this.closing) await this.admission.waitForRoom();
      if (this.closing) return;
      let fd: number;
      try {
        fd = await lib.accept(this.listenFd);
      } catch (e) {
        if (this.closing || isCode(e, 'EBADF')) return;
        // ETIMEDOUT: no one came within accept's timeout, keep going. Anything else (EMFILE): pause a moment.
        if (!isCode(e, 'ETIMEDOUT')) await new Promise<void>((resolve) => lib.stack.setTimer(10, resolve));
        continue;
      }
      if (this.closing) {
        await lib.close(fd).catch(noop);
        return;
      }
      // At the cap, room is made by closing an idle or slow connection. If all turned busy since the
      // check above, the newcomer waits for one to go idle or close (and the loop accepts no other).
      while (!this.admission.admit() && !this.closing) await this.admission.waitForRoom();
      if (this.closing) {
        await lib.close(fd).catch(noop);
        return;
      }
      this.stats.connections++;
      this.stats.shed = this.admission.shed;
      this.stats.open++;
      const conn = new Connection(this, fd);
      this.connections.add(conn);
      const task = conn.run();
      this.tasks.add(task);
      void task.then(() => this.tasks.delete(task));
    }
  }

  /** @internal A connection has closed. */
  forget(conn: Connection): void {
    if (!this.connections.delete(conn)) return;
    this.stats.open--;
    this.admission.left(conn);
  }

  close(options: CloseOptions = {}): Promise<void> {
    if (this.closePromise) return this.closePromise;
    const graceful = options.graceful ?? true;
    const timeout = options.timeout ?? 10_000;
    this.closing = true;
    this.closePromise = (async () => {
      this.admission.wake();
      if (this.listenFd >= 0) await this.lib.close(this.listenFd).catch(noop);
      await this.acceptLoop;
      if (graceful) {
        // Idle keep-alive connections close now; the others end after their response.
        for (const c of this.connections) if (c.idle) c.destroy();
        if (this.tasks.size > 0) {
          let timer: unknown;
          const expired = new Promise<void>((resolve) => (timer = this.lib.stack.setTimer(timeout, resolve)));
          await Promise.race([Promise.allSettled([...this.tasks]), expired]);
          this.lib.stack.clearTimer(timer);
        }
      }
      for (const c of [...this.connections]) c.destroy();
      await Promise.allSettled([...this.tasks]);
    })();
    return this.closePromise;
  }
}

function positive(value: number, name: string): number {
  if (typeof value !== 'number' || !(value > 0) || value > 2 ** 31 - 1) throw new RangeError(`${name} must be a positive number of milliseconds`);
  return value;
}

function isSocketError(e: unknown): boolean {
  return e instanceof SocketError;
}

function isCode(e: unknown, code: string): boolean {
  return e instanceof SocketError && e.code === code;
}

