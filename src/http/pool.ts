/**
 * A pool of connections to one origin: requests wait in a queue, go to an
 * idle connection (or a pipelining one), and new connections are opened up
 * to a limit. A request that dies on a reused connection before any answer
 * (the server had closed it while it sat idle: the commonest failure of
 * keep-alive clients) is retried once on a fresh connection if it is
 * idempotent and its body can be sent again.
 */
import { HttpError } from '../wire/http/errors.js';
import type { HttpLimits } from '../wire/http/types.js';
import { ClientConnection, isIdempotent, type Dispatch, type Timings } from './connection.js';
import type { Io } from './io.js';

export interface Connected {
  io: Io;
  timings: Omit<Timings, 'firstByte'>;
}

export interface PoolOptions {
  /** Opens one raw connection (direct, through TLS, or through a proxy tunnel). */
  connect(): Promise<Connected>;
  /** At most this many connections at once. */
  connections: number;
  /** Requests in flight per connection (1: no pipelining). */
  pipelining: number;
  keepAliveTimeout: number;
  keepAliveMaxTimeout: number;
  /** Requests waiting for a connection, at most. */
  maxQueue: number;
  limits?: Partial<HttpLimits>;
  now(): number;
}

interface Waiting extends Dispatch {
  /** Only a connection that has not been used before may take it (a retry). */
  freshOnly?: boolean;
}

export class Pool {
  private readonly connections = new Set<ClientConnection>();
  private readonly queue: Waiting[] = [];
  private connecting = 0;
  private closed = false;

  constructor(private readonly options: PoolOptions) {}

  get size(): number {
    return this.connections.size;
  }

  get pending(): number {
    return this.queue.length;
  }

  dispatch(d: Dispatch): void {
    if (this.closed) return d.reject(new HttpError('ERR_HTTP_CLOSED', 'the pool is closed'));
    if (this.queue.length >= this.options.maxQueue) return d.reject(new HttpError('ERR_HTTP_SOCKET', `more than ${this.options.maxQueue} requests are waiting for a connection`));
    this.queue.push(d);
    this.pump();
  }

  async close(): Promise<void> {
    this.closed = true;
    for (const d of this.queue.splice(0)) d.reject(new HttpError('ERR_HTTP_CLOSED', 'the pool was closed'));
    for (const c of [...this.connections]) c.destroy(new HttpError('ERR_HTTP_CLOSED', 'the pool was closed'));
  }

  private pump(): void {
    while (this.queue.length > 0) {
      const d = this.queue[0]!;
      if (d.signal?.aborted) {
        this.queue.shift();
        d.reject(new HttpError('ERR_HTTP_ABORTED', 'the request was aborted while waiting for a connection', { cause: d.signal.reason }));
        continue;
      }
      const c = this.pick(d);
      if (!c) break;
      this.queue.shift();
      c.send(d);
    }
    // One new connection per request that is still waiting, up to the limit.
    while (this.connecting < this.queue.length && this.connections.size + this.connecting < this.options.connections) this.open();
  }

  /** An idle connection first, else the least busy one that may pipeline this request. */
  private pick(d: Waiting): ClientConnection | null {
    let best: ClientConnection | null = null;
    for (const c of this.connections) {
      if (d.freshOnly && c.completed > 0) continue;
      if (!c.canTake(d)) continue;
      if (c.inFlight.length === 0) return c;
      if (!best || c.inFlight.length < best.inFlight.length) best = c;
    }
    return best;
  }

  private open(): void {
    this.connecting++;
    this.options.connect().then(
      ({ io, timings }) => {
        this.connecting--;
        if (this.closed) return io.close();
        const c = new ClientConnection(io, {
          pipelining: this.options.pipelining,
          keepAliveTimeout: this.options.keepAliveTimeout,
          keepAliveMaxTimeout: this.options.keepAliveMaxTimeout,
          limits: this.options.limits,
          timings,
          now: this.options.now,
          onReady: () => this.pump(),
          onClose: (conn, orphans, error) => this.lost(conn, orphans, error),
        });
        this.connections.add(c);
        this.pump();
      },
      (error: Error) => {
        this.connecting--;
        // The oldest waiting request carries the failure; the rest try again.
        this.queue.shift()?.reject(error);
        this.pump();
      },
    );
  }

  private lost(c: ClientConnection, orphans: Dispatch[], error: Error | null): void {
    this.connections.delete(c);
    const reused = c.completed > 0;
    const retry: Waiting[] = [];
    for (const d of orphans) {
      const replayable = d.body === null || d.body instanceof Uint8Array;
      if (reused && !d.retried && isIdempotent(d.method) && replayable && !d.signal?.aborted) {
        retry.push({ ...d, retried: true, answered: false, freshOnly: true });
      } else {
        d.reject(error ?? new HttpError('ERR_HTTP_SOCKET', 'the connection closed before the response'));
      }
    }
    this.queue.unshift(...retry);
    if (!this.closed) this.pump();
  }
}
