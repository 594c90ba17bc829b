/**
 * The kernel stack: the operating system's own TCP/IP, reached through
 * node:net and node:dgram. This is the production stack; the socket library
 * above it is the same one that drives protostack's user-space stack.
 */
import dgram from 'node:dgram';
import net from 'node:net';
import { stackError, toSocketError } from '../errors.js';
import { ipFamily } from '../../wire/ip-address.js';
import type {
  ConnectOptions,
  DatagramEndpoint,
  DatagramOptions,
  Endpoint,
  ProtocolStack,
  StreamBinding,
  StreamConnection,
  TimerHandle,
} from '../types.js';
import { KernelDatagram } from './datagram.js';
import { KernelBinding } from './listen.js';
import { KernelConnection } from './stream.js';

/** Node's listen backlog for the OS; the socket library applies each listener's own bound above it. */
const OS_BACKLOG = 4096;

export interface KernelStackOptions {
  /**
   * In a `node:cluster` worker, listening sockets are shared with the other workers through the
   * primary (cluster's own mechanism), so N workers accept on one address and port. Off by default:
   * every listen is the process's own (`exclusive`), as outside a cluster.
   */
  clusterShared?: boolean;
}

export class KernelStack implements ProtocolStack {
  readonly name = 'kernel';
  private readonly exclusive: boolean;

  constructor(options: KernelStackOptions = {}) {
    this.exclusive = !options.clusterShared;
  }

  now(): number {
    return performance.now();
  }

  /** Timers for deadlines only: the sockets keep the process alive while there is work, never a timer alone. */
  setTimer(ms: number, fire: () => void): TimerHandle {
    return setTimeout(fire, ms).unref();
  }

  clearTimer(handle: TimerHandle): void {
    clearTimeout(handle as ReturnType<typeof setTimeout>);
  }

  bindStream(local: Endpoint): Promise<StreamBinding> {
    return new Promise((resolve, reject) => {
      const server = net.createServer({ allowHalfOpen: true, pauseOnConnect: false });
      server.once('error', (err) => reject(toSocketError(err, {})));
      server.listen({ host: local.address, port: local.port, backlog: OS_BACKLOG, exclusive: this.exclusive }, () => {
        server.removeAllListeners('error');
        server.on('error', () => {});
        resolve(new KernelBinding(server, (remote, opts, from) => this.open(remote, opts, from)));
      });
    });
  }

  connect(remote: Endpoint, options: ConnectOptions): Promise<StreamConnection> {
    return this.open(remote, options);
  }

  bindDatagram(local: Endpoint, options: DatagramOptions): Promise<DatagramEndpoint> {
    const family = ipFamily(local.address);
    if (family === 0) return Promise.reject(stackError('EINVAL', 'not an IP address'));
    return new Promise((resolve, reject) => {
      const socket = dgram.createSocket({ type: family === 6 ? 'udp6' : 'udp4', ipv6Only: family === 6, lookup: literalLookup });
      socket.once('error', (err) => {
        socket.close();
        reject(toSocketError(err, {}));
      });
      socket.bind({ address: local.address, port: local.port, exclusive: true }, () => {
        socket.removeAllListeners('error');
        resolve(new KernelDatagram(socket, options.recvBufferSize));
      });
    });
  }

  private open(remote: Endpoint, options: ConnectOptions, local?: Endpoint): Promise<StreamConnection> {
    return new Promise((resolve, reject) => {
      const { signal } = options;
      if (signal?.aborted) return reject(stackError('ECANCELED'));
      const socket = net.connect({
        host: remote.address,
        port: remote.port,
        allowHalfOpen: true,
        noDelay: options.noDelay,
        ...(local ? { localAddress: local.address, localPort: local.port } : {}),
      });
      const onAbort = () => {
        socket.destroy();
        reject(stackError('ECANCELED'));
      };
      signal?.addEventListener('abort', onAbort, { once: true });
      socket.once('error', (err) => {
        signal?.removeEventListener('abort', onAbort);
        reject(toSocketError(err, {}));
      });
      socket.once('connect', () => {
        signal?.removeEventListener('abort', onAbort);
        socket.removeAllListeners('error');
        resolve(new KernelConnection(socket, options));
      });
    });
  }
}

/**
 * The socket library hands the stack literal addresses only, so node:dgram's
 * name lookup before every bind and send is pure overhead: answer it at once.
 */
function literalLookup(address: string, _options: unknown, callback: (err: Error | null, address: string, family: number) => void): void {
  callback(null, address, ipFamily(address));
}
