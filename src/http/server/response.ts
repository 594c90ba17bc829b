/**
 * A response as the handler writes it: fields checked as they are set, the
 * framing (Content-Length, chunked, close-delimited or none) chosen when the
 * head goes out, and every write chained behind the one before.
 */
import { isFieldValue, isToken } from '../../wire/http/chars.js';
import { chunkSizeLine, connectionCloses, CRLF_BYTES, isContentLength, LAST_CHUNK, sendFraming, statusLine, type SendFraming } from '../../wire/http/serialize.js';
import type { HeaderList } from '../../wire/http/types.js';
import type { Connection } from './connection.js';
import { currentDateLine } from './date.js';
import type { ServerRequest } from './request.js';
import { handled } from './util.js';


const CRLF = '\r\n';
/** Above this a chunk is written on its own rather than copied next to its framing. */
const COPY_LIMIT = 16 * 1024;

/** The fields of a response that has set none; replaced by its own array at the first. */
const NO_FIELDS: string[] = [];

export class ServerResponse {
  status = 200;
  /** The reason phrase; by default the standard one for the status. */
  reason: string | undefined = undefined;
  /** The fields set so far, three strings each: name as given, name in lowercase, value. */
  private fields: string[] = NO_FIELDS;
  private headSent = false;
  private ended = false;
  private wantClose = false;
  private framing: SendFraming = 'none';
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
    if (!isToken(name)) throw new TypeError(`invalid header name: ${JSON.stringify(name)}`);
    const v = typeof value === 'number' ? String(value) : value;
    if (!isFieldValue(v)) throw new TypeError(`invalid value for header ${name}`);
    return v;
  }

  /** Fields the server owns. Returns true when the field is not to be stored. */
  private special(lower: string, value: string): boolean {
    if (lower === 'connection') {
      if (connectionCloses(value)) this.wantClose = true;
      return true;
    }
    if (lower === 'transfer-encoding' || lower === 'keep-alive') return true;
    if (lower === 'content-length' && !isContentLength(value)) throw new TypeError(`invalid Content-Length: ${value}`);
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
    if (this.reason !== undefined && !isFieldValue(String(this.reason))) throw new TypeError('invalid reason phrase');
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
    this.framing = sendFraming(!bodiless, declared >= 0, this.req.minor);
    if (this.framing === 'length') this.remaining = declared;
    else if (this.framing === 'chunked') head += 'Transfer-Encoding: chunked\r\n';
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
      const prefix = (head ?? '') + (this.framing === 'chunked' && size > 0 ? chunkSizeLine(size) : '');
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
