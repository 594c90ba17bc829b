/**
 * A TCP connection of the kernel stack: a node:net Socket behind the
 * StreamConnection seam. Received chunks wait in a bounded queue; when the
 * queue holds recvBufferSize bytes the socket is paused, so the kernel's
 * window closes and the sender blocks: flow control end to end.
 */
import type { Socket } from 'node:net';
import { SocketError, stackError, toSocketError } from '../errors.js';
import { WOULD_BLOCK, type Endpoint, type StreamConnection, type StreamOptions } from '../types.js';

/** How long an orphaned, gracefully closed socket may wait for the peer's FIN before it is destroyed. */
const LINGER_MS = 60_000;

export class KernelConnection implements StreamConnection {
  notify: (() => void) | null = null;
  readonly local: Endpoint;
  readonly remote: Endpoint;
  private readonly socket: Socket;
  private chunks: Buffer[] = [];
  private head = 0;
  private headOffset = 0;
  private queued = 0;
  private recvBufferSize: number;
  private sendBufferSize: number;
  private eof = false;
  private readShut = false;
  private writeShut = false;
  private closed = false;
  private error: SocketError | null = null;

  constructor(socket: Socket, options: StreamOptions) {
    this.socket = socket;
    this.local = { address: socket.localAddress ?? '', port: socket.localPort ?? 0 };
    this.remote = { address: socket.remoteAddress ?? '', port: socket.remotePort ?? 0 };
    this.recvBufferSize = options.recvBufferSize;
    this.sendBufferSize = options.sendBufferSize;
    this.applySocketOptions(options);
    socket.on('data', (chunk: Buffer) => this.onData(chunk));
    socket.on('end', () => {
      this.eof = true;
      this.wake();
    });
    socket.on('error', (err) => {
      this.error ??= toSocketError(err, {});
      this.wake();
    });
    socket.on('close', () => {
      this.eof = true;
      this.wake();
    });
  }

  get readable(): number {
    return this.queued;
  }

  read(into: Uint8Array): number {
    if (this.queued > 0 && !this.readShut) return this.take(into);
    if (this.error) throw this.error;
    if (this.eof || this.readShut || this.closed) return 0;
    if (into.length === 0) return 0;
    return WOULD_BLOCK;
  }

  write(data: Uint8Array): Promise<void> | null {
    if (this.error) return Promise.reject(this.error);
    if (this.writeShut || this.closed || this.socket.destroyed) return Promise.reject(stackError('EPIPE'));
    if (data.length > this.sendBufferSize) return Promise.reject(stackError('EMSGSIZE', 'more than the send buffer at once'));
    let settle: ((err: Error | null | undefined) => void) | null = null;
    this.socket.write(data, (err) => settle?.(err));
    // libuv wrote it all at once: the OS holds the bytes and the caller may reuse its buffer now.
    // A later error on this socket still reaches the next call through the 'error' handler.
    if (this.socket.writableLength === 0) return null;
    return new Promise((resolve, reject) => {
      settle = (err) => (err ? reject(this.error ?? writeError(err)) : resolve());
    });
  }

  shutdown(how: 'read' | 'write' | 'both'): void {
    if (how !== 'write' && !this.readShut) {
      this.readShut = true;
      this.dropQueue();
    }
    if (how !== 'read' && !this.writeShut) {
      this.writeShut = true;
      if (!this.socket.destroyed) this.socket.end();
    }
    this.wake();
  }

  close(): void {
    if (this.closed) return;
    this.closed = true;
    this.notify = null;
    // Linux answers a close with unread data by RST (RFC 2525 §2.17): the peer must not think it was all read.
    if (this.queued > 0 && !this.readShut && !this.socket.destroyed) {
      this.abort();
      return;
    }
    this.dropQueue();
    if (this.socket.destroyed) return;
    if (!this.writeShut) this.socket.end();
    this.writeShut = true;
    // Orphaned: keep draining so the peer's FIN completes the close, but never forever.
    this.socket.removeAllListeners('data');
    this.socket.on('data', () => {});
    this.socket.resume();
    this.socket.once('end', () => this.socket.destroy());
    // The application has let go; like the kernel, finish the close without keeping the process alive.
    this.socket.unref();
    const timer = setTimeout(() => this.socket.destroy(), LINGER_MS);
    timer.unref();
    this.socket.once('close', () => clearTimeout(timer));
  }

  abort(): void {
    this.closed = true;
    this.dropQueue();
    if (!this.socket.destroyed) this.socket.resetAndDestroy();
    this.wake();
  }

  setOptions(options: Partial<StreamOptions>): void {
    if (options.recvBufferSize !== undefined) {
      this.recvBufferSize = options.recvBufferSize;
      this.flowControl();
    }
    if (options.sendBufferSize !== undefined) this.sendBufferSize = options.sendBufferSize;
    this.applySocketOptions(options);
  }

  private applySocketOptions(options: Partial<StreamOptions>): void {
    if (options.noDelay !== undefined) this.socket.setNoDelay(options.noDelay);
    if (options.keepAliveMs !== undefined) this.socket.setKeepAlive(options.keepAliveMs > 0, options.keepAliveMs);
  }

  private onData(chunk: Buffer): void {
    if (this.readShut) return;
    this.chunks.push(chunk);
    this.queued += chunk.length;
    this.flowControl();
    this.wake();
  }

  private take(into: Uint8Array): number {
    let n = 0;
    while (n < into.length && this.head < this.chunks.length) {
      const chunk = this.chunks[this.head]!;
      const want = Math.min(into.length - n, chunk.length - this.headOffset);
      into.set(want === chunk.length ? chunk : chunk.subarray(this.headOffset, this.headOffset + want), n);
      n += want;
      this.headOffset += want;
      if (this.headOffset === chunk.length) {
        this.head++;
        this.headOffset = 0;
      }
    }
    this.queued -= n;
    if (this.head === this.chunks.length) {
      this.chunks = [];
      this.head = 0;
    } else if (this.head > 64) {
      this.chunks = this.chunks.slice(this.head);
      this.head = 0;
    }
    this.flowControl();
    return n;
  }

  private flowControl(): void {
    if (this.queued >= this.recvBufferSize) {
      if (!this.socket.isPaused()) this.socket.pause();
    } else if (this.socket.isPaused() && !this.closed) {
      this.socket.resume();
    }
  }

  private dropQueue(): void {
    this.chunks = [];
    this.head = 0;
    this.headOffset = 0;
    this.queued = 0;
  }

  private wake(): void {
    this.notify?.();
  }
}

/** Node reports writes on a torn-down stream with its own codes; to a socket user that is a broken pipe. */
function writeError(err: Error): SocketError {
  const code = (err as { code?: string }).code;
  if (code === 'ERR_STREAM_DESTROYED' || code === 'ERR_STREAM_WRITE_AFTER_END') return stackError('EPIPE', err.message);
  return toSocketError(err, {});
}
