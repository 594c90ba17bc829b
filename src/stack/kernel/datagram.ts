/**
 * A UDP endpoint of the kernel stack over node:dgram. Received datagrams wait
 * in a queue bounded in bytes; when it is full new ones are dropped and
 * counted, as a kernel drops on a full socket buffer.
 */
import type dgram from 'node:dgram';
import { stackError, toSocketError } from '../errors.js';
import { DatagramQueue } from '../datagram-queue.js';
import type { Datagram, DatagramEndpoint, Endpoint } from '../types.js';

export class KernelDatagram implements DatagramEndpoint {
  notify: (() => void) | null = null;
  local: Endpoint;
  private peer: Endpoint | null = null;
  private readonly queue: DatagramQueue;
  private closed = false;

  constructor(
    private readonly socket: dgram.Socket,
    recvBufferSize: number,
  ) {
    this.queue = new DatagramQueue(recvBufferSize);
    const addr = socket.address();
    this.local = { address: addr.address, port: addr.port };
    socket.on('message', (data, rinfo) => {
      if (this.queue.push(data, rinfo.address, rinfo.port)) this.notify?.();
    });
    socket.on('error', (err) => {
      // Asynchronous errors (ICMP) are reported by the next call, as POSIX does.
      this.queue.error = toSocketError(err, {});
      this.notify?.();
    });
  }

  get drops(): number {
    return this.queue.drops;
  }

  recv(into: Uint8Array): Datagram | null {
    return this.queue.take(into);
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
    this.queue.clear();
    this.socket.close();
  }
}
