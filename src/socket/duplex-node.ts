/**
 * A Node Duplex over a descriptor, so node:tls, HTTP libraries and anything
 * else built on streams can run over the socket library (and so over either
 * protocol stack). Reads happen only when the consumer asks for data, which
 * keeps the stack's flow control intact.
 *
 * The Node adapter behind the `#duplex` import (package.json "imports"); a
 * browser build gets duplex-browser.ts instead, so the library itself names
 * no node: module.
 *
 * It also has the few net.Socket methods Node's http Agent calls on its
 * sockets (setKeepAlive, setNoDelay, setTimeout, ref, unref), so a keep-alive
 * Agent can pool these Duplexes: the first two become setsockopt calls.
 */
import { Duplex } from 'node:stream';
import type { SocketLibrary } from './library.js';

/** The net.Socket methods an http Agent uses, on a Duplex over a descriptor. */
export interface SocketDuplex extends Duplex {
  /** SO_KEEPALIVE, and TCP_KEEPIDLE when initialDelay (ms) is above 0. */
  setKeepAlive(enable?: boolean, initialDelay?: number): this;
  /** TCP_NODELAY. */
  setNoDelay(noDelay?: boolean): this;
  /** Emits 'timeout' after ms without reads or writes (0 turns it off); the stream stays open, as net.Socket's does. */
  setTimeout(ms: number, callback?: () => void): this;
  /** The idle timeout set last, ms (0: none). */
  timeout: number;
  /** No-ops: the stack's own handles, not the stream, keep the process alive. */
  ref(): this;
  unref(): this;
}

export function openDuplex(lib: SocketLibrary, fd: number, readSize: number): SocketDuplex {
  let reading = false;
  let closed = false;
  const closeOnce = () => {
    if (closed) return Promise.resolve();
    closed = true;
    return lib.close(fd).catch(() => {});
  };
  let idle: ReturnType<typeof setTimeout> | null = null;
  const touch = () => {
    if (idle) idle.refresh();
  };
  const stream = new Duplex({
    allowHalfOpen: true,
    read() {
      if (reading) return;
      reading = true;
      const buf = Buffer.allocUnsafe(readSize);
      lib.read(fd, buf).then(
        (n) => {
          reading = false;
          touch();
          stream.push(n === 0 ? null : buf.subarray(0, n));
        },
        (err: Error) => {
          reading = false;
          stream.destroy(err);
        },
      );
    },
    write(chunk: Buffer, _encoding, done) {
      touch();
      lib.write(fd, chunk).then(() => done(), done);
    },
    final(done) {
      lib.shutdown(fd, 'write').then(() => done(), done);
    },
    destroy(err, done) {
      if (idle) clearTimeout(idle);
      idle = null;
      closeOnce().then(() => done(err));
    },
  }) as SocketDuplex;
  // A setsockopt on a descriptor already closed fails with EBADF; net.Socket ignores the call then too.
  const set = (options: Parameters<SocketLibrary['setsockopt']>[1]) => void lib.setsockopt(fd, options).catch(() => {});
  stream.timeout = 0;
  stream.setKeepAlive = (enable = false, initialDelay = 0) => {
    set(enable && initialDelay > 0 ? { keepAlive: true, keepAliveIdle: initialDelay } : { keepAlive: enable });
    return stream;
  };
  stream.setNoDelay = (noDelay = true) => {
    set({ noDelay });
    return stream;
  };
  stream.setTimeout = (ms, callback) => {
    if (idle) clearTimeout(idle);
    idle = null;
    stream.timeout = ms;
    if (callback) {
      if (ms > 0) stream.once('timeout', callback);
      else stream.removeListener('timeout', callback);
    }
    if (ms > 0 && !stream.destroyed) {
      idle = setTimeout(() => stream.emit('timeout'), ms);
      idle.unref();
    }
    return stream;
  };
  stream.ref = () => stream;
  stream.unref = () => stream;
  // Once both directions have ended the descriptor is no longer needed.
  stream.on('end', () => {
    if (stream.writableFinished) void closeOnce();
  });
  stream.on('finish', () => {
    if (stream.readableEnded) void closeOnce();
  });
  return stream;
}
