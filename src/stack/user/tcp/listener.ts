/**
 * A bound TCP address and, once listen() was called, its listener: the
 * queue of connections whose handshake completed, waiting for accept(),
 * bounded by the backlog as Linux bounds it (SYNs beyond it are dropped, so
 * the client retries later instead of being refused), and the half-open
 * handshakes, bounded too: beyond that bound SYNs are answered with SYN
 * cookies (syncookie.ts), so a flood of them cannot lock clients out.
 */
import { stackError } from '../../errors.js';
import type { TcpSegment } from '../../../wire/tcp.js';
import type { ConnectOptions, Endpoint, StreamBinding, StreamConnection, StreamListener, StreamOptions } from '../../types.js';
import type { ListenerHook } from './host.js';
import type { TcpLayer } from './layer.js';
import { COOKIE_VALID_MS } from './syncookie.js';
import { State } from './state.js';
import type { Tcb } from './tcb.js';

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
    this.listener ??= new UserListener(this.layer, this, Math.max(0, backlog), options);
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

export class UserListener implements StreamListener, ListenerHook<Tcb> {
  notify: (() => void) | null = null;
  readonly local: Endpoint;
  /** Handshakes in progress and connections not yet accepted. */
  private readonly halfOpen = new Set<Tcb>();
  private readonly queue: Tcb[] = [];
  private closed = false;
  /** When the SYN queue last overflowed (Linux's tcp_synq_overflow): cookies are checked for COOKIE_VALID_MS after. */
  private lastOverflow = -Infinity;

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
    // Linux drops the SYN when the accept queue is full, cookies or not.
    if (this.full) return this.layer.counters.add('tcp.listen-overflow');
    // Half-open handshakes are bounded too; beyond the bound the SYN gets a cookie (tcp_syncookies=1) or is dropped.
    const cookies = this.layer.config.synCookies;
    if (cookies === 2 || this.halfOpen.size >= Math.max(this.backlog, 128)) {
      if (cookies === 0) return this.layer.counters.add('tcp.listen-overflow');
      this.lastOverflow = this.layer.clock.now();
      return this.layer.sendCookie(this, seg, localIp, remoteIp);
    }
    this.halfOpen.add(this.layer.open(this, seg, localIp, remoteIp, remote));
  }

  /**
   * An ACK that matches no connection: if cookies went out lately (Linux's
   * tcp_synq_no_recent_overflow) it may be one coming back. Returns false
   * when it is not a valid cookie, and the caller answers with a RST.
   */
  cookieAck(seg: TcpSegment, localIp: Uint8Array, remoteIp: Uint8Array, remote: Endpoint): boolean {
    if (this.closed || this.layer.config.synCookies === 0) return false;
    if (this.layer.clock.now() - this.lastOverflow > COOKIE_VALID_MS) return false;
    return this.layer.openFromCookie(this, seg, localIp, remoteIp, remote);
  }

  /** The accept queue is full: it holds backlog + 1 connections, as Linux's sk_acceptq_is_full (`>`, not `>=`). */
  get full(): boolean {
    return this.queue.length > this.backlog;
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

  setOptions(options: Partial<StreamOptions>): void {
    Object.assign(this.options, options);
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
