/**
 * A bound TCP address and, once listen() was called, its listener: the
 * queue of connections whose handshake completed, waiting for accept(),
 * bounded by the backlog as Linux bounds it (SYNs beyond it are dropped, so
 * the client retries later instead of being refused).
 */
import { stackError } from '../../../socket/errors.js';
import type { TcpSegment } from '../../../wire/tcp.js';
import type { ConnectOptions, Endpoint, StreamBinding, StreamConnection, StreamListener, StreamOptions } from '../../types.js';
import type { TcpLayer } from './layer.js';
import { State, type Tcb } from './tcb.js';

export class UserBinding implements StreamBinding {
  listener: UserListener | null = null;
  private closed = false;

  constructor(
    private readonly layer: TcpLayer,
    readonly local: Endpoint,
    readonly ip: Uint8Array,
  ) {}

  listen(backlog: number, options: StreamOptions): StreamListener {
    if (this.closed) throw stackError('EINVAL', 'the binding is closed');
    this.listener ??= new UserListener(this.layer, this, Math.max(1, backlog), options);
    return this.listener;
  }

  connect(remote: Endpoint, options: ConnectOptions): Promise<StreamConnection> {
    if (this.closed) return Promise.reject(stackError('EINVAL', 'the binding is closed'));
    // The connection owns the port from now on: the binding gives it up.
    this.close();
    return this.layer.connect(remote, options, { ip: this.ip, port: this.local.port });
  }

  close(): void {
    if (this.closed) return;
    this.closed = true;
    this.layer.unbind(this);
  }
}

export class UserListener implements StreamListener {
  notify: (() => void) | null = null;
  readonly local: Endpoint;
  /** Handshakes in progress and connections not yet accepted. */
  private readonly halfOpen = new Set<Tcb>();
  private readonly queue: Tcb[] = [];
  private closed = false;

  constructor(
    private readonly layer: TcpLayer,
    private readonly binding: UserBinding,
    private readonly backlog: number,
    readonly options: StreamOptions,
  ) {
    this.local = binding.local;
  }

  /** A SYN for this address (RFC 9293 §3.10.7.2, LISTEN state). */
  syn(seg: TcpSegment, localIp: Uint8Array, remoteIp: Uint8Array, remote: Endpoint): void {
    if (this.closed) return;
    // Linux drops the SYN when the accept queue is full, and bounds half-open handshakes too.
    if (this.queue.length >= this.backlog || this.halfOpen.size >= Math.max(this.backlog, 128)) {
      this.layer.counters.add('tcp.listen-overflow');
      return;
    }
    this.halfOpen.add(this.layer.open(this, seg, localIp, remoteIp, remote));
  }

  /** The handshake completed: the connection waits for accept(). */
  ready(t: Tcb): void {
    this.halfOpen.delete(t);
    this.queue.push(t);
    this.notify?.();
  }

  /** The connection is gone before accept() took it. */
  forget(t: Tcb): void {
    this.halfOpen.delete(t);
  }

  accept(): StreamConnection | null {
    const t = this.queue.shift();
    if (!t) return null;
    t.listener = null;
    return t;
  }

  close(): void {
    if (this.closed) return;
    this.closed = true;
    this.binding.close();
    // Connections nobody accepted are reset, as closing a listening socket does on Linux.
    for (const t of [...this.halfOpen, ...this.queue]) {
      t.listener = null;
      if (t.state !== State.Closed) t.abort();
    }
    this.halfOpen.clear();
    this.queue.length = 0;
  }
}
