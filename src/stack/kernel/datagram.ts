/**
 * A UDP endpoint of the kernel stack over node:dgram. Received datagrams wait
 * in a queue bounded in bytes; when it is full new ones are dropped and
 * counted, as a kernel drops on a full socket buffer.
 */
import type dgram from 'node:dgram';
import { SocketError, stackError, toSocketError } from '../../socket/errors.js';
import type { Datagram, DatagramEndpoint, Endpoint } from '../types.js';

interface Queued {
  data: Buffer;
  address: string;
  port: number;
}

export class KernelDatagram implements DatagramEndpoint {
  notify: (() => void) | null = null;
  drops = 0;
  local: Endpoint;
  private peer: Endpoint | null = null;
  private queue: Queued[] = [];
  private head = 0;
  private queued = 0;
  private error: SocketError | null = null;
  private closed = false;

  constructor(
    private readonly socket: dgram.Socket,
    private readonly recvBufferSize: number,
  ) {
    const addr = socket.address();
    this.local = { address: addr.address, port: addr.port };
    socket.on('message', (data, rinfo) => {
      if (this.queued + data.length > this.recvBufferSize) {
        this.drops++;
        return;
      }
      this.queue.push({ data, address: rinfo.address, port: rinfo.port });
      this.queued += data.length;
      this.notify?.();
    });
    socket.on('error', (err) => {
      // Asynchronous errors (ICMP) are reported by the next call, as POSIX does.
      this.error = toSocketError(err, {});
      this.notify?.();
    });
  }

  recv(into: Uint8Array): Datagram | null {
    if (this.error) {
      const err = this.error;
      this.error = null;
      throw err;
    }
    if (this.head === this.queue.length) return null;
    const d = this.queue[this.head++]!;
    if (this.head === this.queue.length) {
      this.queue = [];
      this.head = 0;
    }
    this.queued -= d.data.length;
    const bytes = Math.min(into.length, d.data.length);
    into.set(bytes === d.data.length ? d.data : d.data.subarray(0, bytes));
    return { bytes, address: d.address, port: d.port, truncated: bytes < d.data.length };
  }

  connect(remote: Endpoint): Promise<void> {
    if (this.peer) this.socket.disconnect();
    return new Promise((resolve, reject) => {
      this.socket.connect(remote.port, remote.address, (err?: Error) => {
        if (err) return reject(toSocketError(err, {}));
        this.peer = { address: remote.address, port: remote.port };
        const addr = this.socket.address();
        this.local = { address: addr.address, port: addr.port };
        resolve();
      });
    });
  }

  send(data: Uint8Array, address: string, port: number): Promise<void> {
    if (this.closed) return Promise.reject(stackError('EBADF'));
    const peer = this.peer;
    if (peer && (peer.address !== address || peer.port !== port)) return Promise.reject(stackError('EISCONN', 'connected to another peer'));
    return new Promise((resolve, reject) => {
      const done = (err: Error | null) => (err ? reject(toSocketError(err, {})) : resolve());
      if (peer) this.socket.send(data, done);
      else this.socket.send(data, port, address, done);
    });
  }

  close(): void {
    if (this.closed) return;
    this.closed = true;
    this.queue = [];
    this.socket.close();
  }
}
