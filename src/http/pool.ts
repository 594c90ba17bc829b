/**
 * A pool of connections to one origin: requests wait in a queue, go to an
 * idle connection (or a pipelining one), and new connections are opened up
 * to a limit. It knows its connections only as sessions (session.ts): can
 * this one take the request, send it, is it idle, destroy it; HTTP/1.1's
 * connection is the session it makes unless it is given another factory. A request that dies on a reused connection before any answer
 * (the server had closed it while it sat idle: the commonest failure of
 * keep-alive clients) is retried once on a fresh connection if it is
 * idempotent and its body can be sent again.
 */
import { HttpError } from '../wire/http/errors.js';
import type { HttpLimits } from '../wire/http/types.js';
import type { ProtocolStack } from '../stack/types.js';
import { abortError, http1Session, isIdempotent } from './connection.js';
import type { Connected, Dispatch, Session, SessionFactory } from './session.js';

export type { Connected } from './session.js';

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
  clock: Pick<ProtocolStack, 'now' | 'setTimer' | 'clearTimer'>;
  /** Makes the session that carries requests over each new connection: HTTP/1.1's by default. */
  session?: SessionFactory;
}

interface Waiting extends Dispatch {
  /** Only a connection that has not been used before may take it (a retry). */
  freshOnly?: boolean;
  /** Rejects it if its signal fires while it waits in the queue. */
  onQueuedAbort?: () => void;
}

export class Pool {
  private readonly connections = new Set<Session>();
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
    this.enqueue(d, false);
    this.pump();
  }

  /** Into the queue (at its front for a retry), listening for an abort while it waits there. */
  private enqueue(d: Waiting, front: boolean): void {
    if (front) this.queue.unshift(d);
    else this.queue.push(d);
    if (!d.signal || d.onQueuedAbort) return;
    d.onQueuedAbort = () => {
      const i = this.queue.indexOf(d);
      if (i < 0) return;
      this.queue.splice(i, 1);
      d.onQueuedAbort = undefined;
      d.reject(abortError(d.signal!, 'while waiting for a connection'));
    };
    d.signal.addEventListener('abort', d.onQueuedAbort, { once: true });
  }

  /** Out of the queue: its abort is now the connection's to handle. */
  private dequeue(): Waiting | undefined {
    const d = this.queue.shift();
    if (d?.onQueuedAbort) {
      d.signal!.removeEventListener('abort', d.onQueuedAbort);
      d.onQueuedAbort = undefined;
    }
    return d;
  }

  async close(): Promise<void> {
    this.closed = true;
    while (this.queue.length > 0) this.dequeue()!.reject(new HttpError('ERR_HTTP_CLOSED', 'the pool was closed'));
    for (const c of [...this.connections]) c.destroy(new HttpError('ERR_HTTP_CLOSED', 'the pool was closed'));
  }

  private pump(): void {
    while (this.queue.length > 0) {
      const d = this.queue[0]!;
      if (d.signal?.aborted) {
        this.dequeue();
        d.reject(abortError(d.signal, 'while waiting for a connection'));
        continue;
      }
      const c = this.pick(d);
      if (!c) break;
      this.dequeue();
      c.send(d);
    }
    // One new connection per request that is still waiting, up to the limit.
    while (this.connecting < this.queue.length && this.connections.size + this.connecting < this.options.connections) this.open();
  }

  /** An idle connection first, else the least busy one that may pipeline this request. */
  private pick(d: Waiting): Session | null {
    let best: Session | null = null;
    for (const c of this.connections) {
      if (d.freshOnly && c.completed > 0) continue;
      if (!c.canTake(d)) continue;
      if (c.idle) return c;
      if (!best || c.load < best.load) best = c;
    }
    return best;
  }

  private open(): void {
    this.connecting++;
    this.options.connect().then(
      (connected) => {
        this.connecting--;
        if (this.closed) return connected.io.close();
        // The pool forgets the session it made, whatever object the session names in its events (a wrapper may pass on its inner one).
        let made: Session | null = null;
        const c = (this.options.session ?? http1Session)(connected, {
          pipelining: this.options.pipelining,
          keepAliveTimeout: this.options.keepAliveTimeout,
          keepAliveMaxTimeout: this.options.keepAliveMaxTimeout,
          limits: this.options.limits,
          clock: this.options.clock,
          onReady: () => this.pump(),
          onClose: (conn, orphans, error) => this.lost(made ?? conn, orphans, error),
        });
        made = c;
        this.connections.add(c);
        this.pump();
      },
      (error: Error) => {
        this.connecting--;
        // The oldest waiting request carries the failure; the rest try again.
        this.dequeue()?.reject(error);
        this.pump();
      },
    );
  }

  private lost(c: Session, orphans: Dispatch[], error: Error | null): void {
    this.connections.delete(c);
    const reused = c.completed > 0;
    const retry: Waiting[] = [];
    for (const d of orphans as Waiting[]) {
      const replayable = d.body === null || d.body instanceof Uint8Array;
      if (reused && !d.retried && isIdempotent(d.method) && replayable && !d.signal?.aborted) {
        d.retried = true;
        d.answered = false;
        d.freshOnly = true;
        retry.push(d);
      } else {
        d.reject(error ?? new HttpError('ERR_HTTP_SOCKET', 'the connection closed before the response'));
      }
    }
    for (let i = retry.length - 1; i >= 0; i--) this.enqueue(retry[i]!, true);
    if (!this.closed) this.pump();
  }
}
