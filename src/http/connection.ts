/**
 * One HTTP/1.1 client connection: requests go out in order, responses are
 * matched to them in the same order (RFC 9112 §9.3.2), and one read loop
 * feeds the parser. The pool decides what to send where; this class only
 * keeps a connection honest. It is the HTTP/1.1 `Session` (session.ts). With
 * a trace it notes each exchange as it goes and records its HttpEvent when
 * the body ends (trace.ts); without one it notes nothing.
 *
 * Its timeouts are deadlines of the connection's state, not of each read:
 * the first request in line must get its final head within headersTimeout
 * of being written (and of the response before it ending), however many 1xx
 * heads or dripped bytes come first; a body must bring bytes at least every
 * bodyTimeout (undici's bodyTimeout); with nothing in flight the connection
 * closes after the keep-alive timeout. One timer on the stack's clock, re-armed
 * lazily, watches whichever applies, so a read already waiting when a request
 * is sent never carries the wrong deadline.
 */
import { HttpError } from '../wire/http/errors.js';
import { HttpParser } from '../wire/http/parser.js';
import { chunk, lastChunk, sendFraming, serializeRequestHead } from '../wire/http/serialize.js';
import { headerValue, type HeaderList, type MessageHead } from '../wire/http/types.js';
import type { TimerHandle } from '../stack/types.js';
import { ResponseBody } from './body.js';
import type { Io } from './io.js';
import type { Connected, Dispatch, Session, SessionOptions, Timings, TracedDispatch } from './session.js';
import { headSize, recordExchange, type ConnectionTrace } from './trace.js';

export type { Connected, Dispatch, RawResponse, RequestBody, Timings } from './session.js';

export interface ConnectionOptions extends SessionOptions {
  timings: Omit<Timings, 'firstByte'>;
  /** Where its exchanges are recorded, and what to say about the connection; none: nothing is built. */
  trace?: ConnectionTrace;
}

const READ_SIZE = 64 * 1024;
/** Bodies up to this size go out in the same write as the head. */
const COALESCE = 64 * 1024;
/** Keep-Alive: timeout=N is the server's deadline; give up this much earlier so we never race its close (as undici does). */
const KEEPALIVE_MARGIN = 1000;
/** Reads wait as long as a timer can; the connection's own deadline timer ends them by closing. */
const READ_FOREVER = 2 ** 31 - 1;

const IDEMPOTENT = new Set(['GET', 'HEAD', 'PUT', 'DELETE', 'OPTIONS', 'TRACE']);

export function isIdempotent(method: string): boolean {
  return IDEMPOTENT.has(method);
}

/** The HTTP/1.1 session: one request at a time on the wire, or pipelined in order. */
export const http1Session = (connected: Connected, options: SessionOptions): ClientConnection =>
  new ClientConnection(connected.io, { ...options, timings: connected.timings, ...(connected.trace ? { trace: connected.trace } : {}) });

export class ClientConnection implements Session {
  readonly inFlight: Dispatch[] = [];
  /** Responses completed on this connection. */
  completed = 0;
  /** False once the server or an error says no further request may use it. */
  reusable = true;
  closed = false;
  private readonly parser: HttpParser;
  private writing: Promise<void> = Promise.resolve();
  private keepAliveTimeout: number;
  private informational = false;
  private streamingBody = false;
  private current: ResponseBody | null = null;
  /** When the connection last had nothing in flight, the last response ended, the last body bytes came. */
  private idleSince: number;
  private turnAt: number;
  private bodyAt = 0;
  /** Reading is paused while the consumer lets the body queue fill: its slowness is not the server's. */
  private paused = false;
  private timer: TimerHandle | null = null;
  private timerAt = Infinity;

  constructor(
    readonly io: Io,
    private readonly options: ConnectionOptions,
  ) {
    this.keepAliveTimeout = options.keepAliveTimeout;
    this.idleSince = this.turnAt = options.clock.now();
    this.parser = new HttpParser(
      'response',
      {
        onHead: (head) => this.onHead(head),
        onBody: (view) => {
          this.bodyAt = this.options.clock.now();
          const traced = this.inFlight[0]?.traced;
          if (traced) traced.bodySize! += view.length;
          this.current?.push(view);
        },
        onEnd: (trailers) => this.onEnd(trailers),
      },
      options.limits,
    );
    this.watch();
    void this.readLoop();
  }

  /** Can this connection take `d` now? Pipelining only after a first complete response, only idempotent, never behind a streamed body. */
  canTake(d: Pick<Dispatch, 'method' | 'body'>): boolean {
    if (!this.reusable || this.closed) return false;
    if (this.inFlight.length === 0) return true;
    if (this.completed === 0 || this.inFlight.length >= this.options.pipelining) return false;
    if (this.streamingBody || !isIdempotent(d.method) || (d.body !== null && !(d.body instanceof Uint8Array))) return false;
    return this.inFlight.every((x) => isIdempotent(x.method));
  }

  get idle(): boolean {
    return this.inFlight.length === 0 && !this.closed;
  }

  get load(): number {
    return this.inFlight.length;
  }

  send(d: Dispatch): void {
    this.inFlight.push(d);
    this.parser.expect(d.method);
    d.sentAt = this.options.clock.now();
    d.writtenAt = 0;
    const streaming = d.body !== null && !(d.body instanceof Uint8Array);
    if (streaming) this.streamingBody = true;
    this.writing = this.writing
      .then(() => this.writeRequest(d))
      .then(
        () => {
          if (streaming) this.streamingBody = false;
          d.writtenAt = this.options.clock.now();
          this.watch();
        },
        (err: unknown) => this.destroy(asHttpError(err, 'sending the request')),
      );
    if (d.signal) {
      // HTTP/1.1 cannot cancel one exchange on a connection: aborting means closing it (RFC 9112 §9.6).
      d.onAbort = () => {
        const error = abortError(d.signal!, d.response ? 'during the body' : 'before its response');
        if (this.inFlight.includes(d)) this.destroy(error, d);
        else if (d.response && !d.response.done) d.response.cancel(error);
      };
      if (d.signal.aborted) d.onAbort();
      else d.signal.addEventListener('abort', d.onAbort, { once: true });
    }
  }

  /** Closes the connection; requests in flight go back to the pool as orphans, except `failed`, which gets `error`. */
  destroy(error: Error | null, failed?: Dispatch): void {
    if (this.closed) return;
    this.closed = true;
    this.reusable = false;
    if (this.timer !== null) this.options.clock.clearTimer(this.timer);
    this.timer = null;
    this.io.close();
    if (this.current && !this.current.done) this.current.fail(error ?? new HttpError('ERR_HTTP_SOCKET', 'the connection closed during the body'));
    // A request the server began to answer (even with a 1xx only) is not sent again; until its
    // final head arrives its promise is pending, so it gets the error.
    const orphans = this.inFlight.splice(0).filter((d) => {
      // The connection no longer answers for it: a retry elsewhere registers its own.
      if (d.onAbort) d.signal!.removeEventListener('abort', d.onAbort);
      d.onAbort = undefined;
      if (d === failed || d.answered) {
        if (!d.response) d.reject(error ?? new HttpError('ERR_HTTP_SOCKET', 'the connection closed before the final response'));
        return false;
      }
      return true;
    });
    this.options.onClose(this, orphans, error);
  }

  private async writeRequest(d: Dispatch): Promise<void> {
    const headers = d.headers;
    const body = d.body;
    const bytes = body instanceof Uint8Array;
    const declared = body !== null && headerValue(headers, 'content-length') !== undefined;
    const framing = sendFraming(body !== null, bytes || declared, d.minor);
    const extra: HeaderList = [];
    if (framing === 'length' && bytes && !declared) extra.push(['Content-Length', String(body.length)]);
    if (framing === 'close') throw new HttpError('ERR_HTTP_BAD_HEADER_VALUE', 'a streamed body over HTTP/1.0 needs a content-length');
    if (framing === 'chunked') extra.push(['Transfer-Encoding', 'chunked']);
    const sent = extra.length ? [...headers, ...extra] : headers;
    const head = serializeRequestHead(d.method, d.target, sent, d.minor);
    if (d.traced) {
      d.traced.requestHeaders = sent;
      d.traced.requestBodySize = body instanceof Uint8Array ? body.length : 0;
    }
    if (body instanceof Uint8Array) {
      if (body.length <= COALESCE) {
        const both = new Uint8Array(head.length + body.length);
        both.set(head);
        both.set(body, head.length);
        await this.io.write(both);
      } else {
        await this.io.write(head);
        await this.io.write(body);
      }
      return;
    }
    await this.io.write(head);
    if (body === null) return;
    for await (const piece of body) {
      if (this.closed) return;
      if (d.traced) d.traced.requestBodySize! += piece.length;
      if (framing === 'chunked') for (const part of chunk(piece)) await this.io.write(part);
      else await this.io.write(piece);
    }
    if (framing === 'chunked') await this.io.write(lastChunk());
  }

  private onHead(head: MessageHead): void {
    if (head.kind !== 'response') return;
    const d = this.inFlight[0];
    if (!d) throw new HttpError('ERR_HTTP_UNEXPECTED_DATA', `a ${head.status} response arrived with no request waiting`);
    d.answered = true;
    // 1xx are interim (RFC 9110 §15.2): the final response is still to come.
    this.informational = head.status < 200 && head.status !== 101;
    if (this.informational) return;
    if (!head.keepAlive || head.upgrade) this.reusable = false;
    const ka = headerValue(head.headers, 'keep-alive');
    if (ka) {
      const m = /(?:^|[,;\s])timeout\s*=\s*(\d+)/i.exec(ka);
      if (m) this.keepAliveTimeout = Math.max(0, Math.min(Number(m[1]) * 1000 - KEEPALIVE_MARGIN, this.options.keepAliveMaxTimeout));
    }
    const body = new ResponseBody();
    body.onCancel = () => this.destroy(null);
    this.current = body;
    d.response = body;
    const now = this.options.clock.now();
    this.bodyAt = now;
    if (d.traced) {
      d.traced.headAt = now;
      d.traced.status = head.status;
      d.traced.statusText = head.reason;
      d.traced.responseHeaders = head.headers;
      d.traced.headSize = headSize(head.minor, head.status, head.reason, head.headers);
      d.traced.bodySize = 0;
    }
    this.watch();
    const timings: Timings = this.completed === 0 ? { ...this.options.timings, firstByte: now - d.sentAt } : { lookup: 0, connect: 0, tls: 0, firstByte: now - d.sentAt };
    d.resolve({ status: head.status, reason: head.reason, minor: head.minor, headers: head.headers, body, reused: this.completed > 0, timings });
  }

  private onEnd(trailers: HeaderList | null): void {
    if (this.informational) {
      this.informational = false;
      return;
    }
    const d = this.inFlight.shift();
    if (d?.onAbort) d.signal!.removeEventListener('abort', d.onAbort);
    if (d?.traced && this.options.trace) this.record(d, d.traced, this.options.trace);
    this.completed++;
    const body = this.current;
    this.current = null;
    // The next request's headers clock starts now at the earliest; with none, the idle clock.
    this.turnAt = this.options.clock.now();
    if (this.inFlight.length === 0) this.idleSince = this.turnAt;
    this.watch();
    body?.end(trailers);
  }

  /** The exchange `d` has ended: its HttpEvent, from what was noted along the way. */
  private record(d: Dispatch, t: TracedDispatch, trace: ConnectionTrace): void {
    recordExchange(trace, {
      method: d.method,
      url: t.url,
      minor: d.minor,
      requestHeaders: t.requestHeaders ?? d.headers,
      requestBodySize: t.requestBodySize ?? 0,
      status: t.status ?? 0,
      statusText: t.statusText ?? '',
      responseHeaders: t.responseHeaders ?? [],
      responseHeadSize: t.headSize ?? -1,
      responseBodySize: t.bodySize ?? 0,
      reused: this.completed > 0,
      start: t.start,
      sendAt: d.sentAt,
      writtenAt: d.writtenAt || d.sentAt,
      headAt: t.headAt ?? d.sentAt,
      endAt: this.options.clock.now(),
    });
  }

  /** When the current wait ends: idle, waiting for a final head, or waiting for body bytes. */
  private deadline(): number {
    const d = this.inFlight[0];
    if (!d) return this.idleSince + this.keepAliveTimeout;
    if (this.current) return this.paused ? Infinity : this.bodyAt + d.bodyTimeout;
    // Still being written: the socket's write timeout bounds that.
    if (d.writtenAt === 0) return Infinity;
    return Math.max(d.writtenAt, this.turnAt) + d.headersTimeout;
  }

  /** Makes sure the timer fires no later than the current deadline (a later one is found when it fires). */
  private watch(): void {
    const at = this.deadline();
    if (at >= this.timerAt || this.closed) return;
    const clock = this.options.clock;
    if (this.timer !== null) clock.clearTimer(this.timer);
    this.timerAt = at;
    this.timer = clock.setTimer(Math.max(1, at - clock.now()), () => this.expire());
  }

  private expire(): void {
    this.timer = null;
    this.timerAt = Infinity;
    if (this.closed) return;
    const at = this.deadline();
    if (at > this.options.clock.now()) return this.watch();
    const d = this.inFlight[0];
    if (!d) return this.destroy(null); // idle past the keep-alive timeout: close quietly
    this.destroy(
      this.current
        ? new HttpError('ERR_HTTP_BODY_TIMEOUT', `no body bytes for ${d.bodyTimeout} ms (bodyTimeout)`)
        : new HttpError('ERR_HTTP_HEADERS_TIMEOUT', `no final response head within ${d.headersTimeout} ms of sending the request (headersTimeout)`),
    );
  }

  private async readLoop(): Promise<void> {
    const buffer = new Uint8Array(READ_SIZE);
    let error: Error | null = null;
    try {
      for (;;) {
        let n: number;
        try {
          n = await this.io.read(buffer, READ_FOREVER);
        } catch (e) {
          if (this.closed) return; // the deadline timer (or an abort) closed it under the read
          if ((e as { code?: string }).code === 'ETIMEDOUT') continue;
          throw e;
        }
        if (this.closed) return;
        if (n === 0) {
          this.parser.finish(); // ends a body delimited by the close
          if (this.inFlight.length > 0) {
            const interim = this.inFlight[0]!.answered;
            throw new HttpError('ERR_HTTP_SOCKET', interim ? 'the server closed the connection after an interim (1xx) response, before the final one' : 'the server closed the connection before answering');
          }
          break;
        }
        const before = this.completed;
        this.parser.execute(buffer.subarray(0, n));
        if (!this.reusable && this.inFlight.length === 0) break;
        if (this.completed !== before) this.options.onReady(this);
        if (this.current?.full) {
          this.paused = true;
          await this.current.whenDrained();
          this.paused = false;
          this.bodyAt = this.options.clock.now();
          this.watch();
        }
      }
    } catch (e) {
      error = asHttpError(e, 'reading the response');
    }
    this.destroy(error);
  }
}

/** The error for a request whose AbortSignal fired; says "timed out" when it was AbortSignal.timeout(). */
export function abortError(signal: AbortSignal, when: string): HttpError {
  const reason: unknown = signal.reason;
  const timedOut = reason instanceof DOMException && reason.name === 'TimeoutError';
  return new HttpError('ERR_HTTP_ABORTED', `the request ${timedOut ? 'timed out (its AbortSignal.timeout fired)' : 'was aborted'} ${when}`, { cause: reason });
}

/** Failures of the connection itself (a reset, a socket timeout) as an HttpError, the original kept as the cause. */
function asHttpError(e: unknown, doing: string): HttpError {
  if (e instanceof HttpError) return e;
  const message = e instanceof Error ? e.message : String(e);
  // Reads wait without a timeout of their own here, so a timed-out call is a write the server did not take.
  if ((e as { code?: unknown }).code === 'ETIMEDOUT') return new HttpError('ERR_HTTP_WRITE_TIMEOUT', `the server took none of the request for the socket's writeTimeout: ${message}`, { cause: e });
  return new HttpError('ERR_HTTP_SOCKET', `${doing}: ${message}`, { cause: e });
}
