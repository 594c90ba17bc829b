/**
 * The byte pipe under an HTTP connection: a descriptor of the socket
 * library, or TLS running over one (node:tls over the library's Duplex).
 * Reads take a timeout, so every wait of the client has one.
 */
import type { TLSSocket } from 'node:tls';
import { SocketError } from '../socket/errors.js';
import type { SocketLibrary } from '../socket/library.js';

export interface Io {
  /** Bytes read into `buffer`, 0 at the end of the stream; rejects with ETIMEDOUT after `timeout` ms. */
  read(buffer: Uint8Array, timeout: number): Promise<number>;
  write(bytes: Uint8Array): Promise<void>;
  /** Graceful close. */
  close(): void;
}

export class FdIo implements Io {
  constructor(
    readonly lib: SocketLibrary,
    readonly fd: number,
  ) {}

  read(buffer: Uint8Array, timeout: number): Promise<number> {
    return this.lib.read(this.fd, buffer, undefined, { timeout });
  }

  async write(bytes: Uint8Array): Promise<void> {
    await this.lib.write(this.fd, bytes);
  }

  close(): void {
    this.lib.close(this.fd).catch(() => {});
  }
}

/** Bytes a TLS connection may hold unread before it stops reading. */
const TLS_HIGH_WATER = 256 * 1024;

export class TlsIo implements Io {
  private chunks: Buffer[] = [];
  private queued = 0;
  private ended = false;
  private error: Error | null = null;
  private waiter: (() => void) | null = null;

  constructor(readonly socket: TLSSocket) {
    socket.on('data', (chunk: Buffer) => {
      this.chunks.push(chunk);
      this.queued += chunk.length;
      if (this.queued >= TLS_HIGH_WATER) socket.pause();
      this.wake();
    });
    socket.on('end', () => {
      this.ended = true;
      this.wake();
    });
    socket.on('close', () => {
      this.ended = true;
      this.wake();
    });
    socket.on('error', (err) => {
      this.error = err;
      this.wake();
    });
  }

  async read(buffer: Uint8Array, timeout: number): Promise<number> {
    while (this.chunks.length === 0) {
      if (this.error) throw this.error;
      if (this.ended) return 0;
      await this.sleep(timeout);
    }
    let n = 0;
    while (n < buffer.length && this.chunks.length > 0) {
      const c = this.chunks[0]!;
      const take = Math.min(c.length, buffer.length - n);
      buffer.set(take === c.length ? c : c.subarray(0, take), n);
      n += take;
      if (take === c.length) this.chunks.shift();
      else this.chunks[0] = c.subarray(take);
    }
    this.queued -= n;
    if (this.queued < TLS_HIGH_WATER && this.socket.isPaused()) this.socket.resume();
    return n;
  }

  write(bytes: Uint8Array): Promise<void> {
    return new Promise((resolve, reject) => {
      this.socket.write(bytes, (err) => (err ? reject(err) : resolve()));
    });
  }

  close(): void {
    this.socket.end();
    this.socket.destroySoon();
  }

  private sleep(timeout: number): Promise<void> {
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        this.waiter = null;
        reject(new SocketError('ETIMEDOUT', { call: 'read', detail: 'TLS' }));
      }, timeout);
      this.waiter = () => {
        clearTimeout(timer);
        resolve();
      };
    });
  }

  private wake(): void {
    const w = this.waiter;
    this.waiter = null;
    w?.();
  }
}
