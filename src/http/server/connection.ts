/**
 * One accepted connection: a task that reads into a reused buffer, feeds the
 * incremental parser, and runs the handler for one request at a time,
 * strictly in order; timeouts, draining, error responses and the lingering close.
 */
import { SocketError } from '../../socket/errors.js';
import type { CallOptions, SocketLibrary } from '../../socket/library.js';
import { HttpError, statusForError } from '../../wire/http/errors.js';
import { HttpParser } from '../../wire/http/parser.js';
import { reasonFor, serializeResponseHead, statusLine } from '../../wire/http/serialize.js';
import type { HeaderList, MessageHead, ParserCallbacks } from '../../wire/http/types.js';
import { currentDateLine } from './date.js';
import { ServerRequest } from './request.js';
import { ServerResponse } from './response.js';
import type { Server } from './server.js';
import { handled, isCode, isSocketError, noop } from './util.js';

const READ_BUFFER = 16 * 1024;
/** A connection reads its first bytes into this much, and takes the full buffer once it has sent some: silent ones stay small. */
const FIRST_READ = 1024;
const OUT_BUFFER = 16 * 1024;
/** After a response that ends the connection: how long and how much to read and discard before closing (RFC 9112 §9.6). */
const LINGER_MS = 2_000;
const LINGER_BYTES = 1024 * 1024;
const CONTINUE = serializeResponseHead(100, '', []);
export class Connection implements ParserCallbacks {
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
