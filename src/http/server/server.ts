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
import type { SocketLibrary } from '../../socket/library.js';
import type { HttpLimits } from '../../wire/http/types.js';
import { hostPort } from '../../wire/address.js';
import { Admission } from '../admission.js';
import { Connection } from './connection.js';
import type { ServerRequest } from './request.js';
import type { CloseOptions, Handler, HttpServer, HttpServerStats, ServeOptions } from './types.js';
import { isCode, noop } from './util.js';

/** Starts an HTTP server and resolves once it listens. */
export async function serve(handler: Handler, options: ServeOptions = {}): Promise<HttpServer> {
  const server = new Server(handler, options);
  await server.open(options.port ?? 0, options.backlog ?? 511);
  return server;
}

export class Server implements HttpServer {
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
