/**
 * A Node Duplex over a descriptor, so node:tls, HTTP libraries and anything
 * else built on streams can run over the socket library (and so over either
 * protocol stack). Reads happen only when the consumer asks for data, which
 * keeps the stack's flow control intact.
 *
 * The Node adapter behind the `#duplex` import (package.json "imports"); a
 * browser build gets duplex-browser.ts instead, so the library itself names
 * no node: module.
 */
import { Duplex } from 'node:stream';
import type { SocketLibrary } from './library.js';

export function openDuplex(lib: SocketLibrary, fd: number, readSize: number): Duplex {
  let reading = false;
  let closed = false;
  const closeOnce = () => {
    if (closed) return Promise.resolve();
    closed = true;
    return lib.close(fd).catch(() => {});
  };
  const stream: Duplex = new Duplex({
    allowHalfOpen: true,
    read() {
      if (reading) return;
      reading = true;
      const buf = Buffer.allocUnsafe(readSize);
      lib.read(fd, buf).then(
        (n) => {
          reading = false;
          stream.push(n === 0 ? null : buf.subarray(0, n));
        },
        (err: Error) => {
          reading = false;
          stream.destroy(err);
        },
      );
    },
    write(chunk: Buffer, _encoding, done) {
      lib.write(fd, chunk).then(() => done(), done);
    },
    final(done) {
      lib.shutdown(fd, 'write').then(() => done(), done);
    },
    destroy(err, done) {
      closeOnce().then(() => done(err));
    },
  });
  // Once both directions have ended the descriptor is no longer needed.
  stream.on('end', () => {
    if (stream.writableFinished) void closeOnce();
  });
  stream.on('finish', () => {
    if (stream.readableEnded) void closeOnce();
  });
  return stream;
}
