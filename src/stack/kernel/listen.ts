/**
 * Bound and listening TCP addresses of the kernel stack.
 *
 * Node binds and listens in one step, so `bindStream` already listens; until
 * `listen()` is called, connections that arrive are refused (destroyed), the
 * nearest Node gets to a bound-but-not-listening socket answering with RST.
 */
import net from 'node:net';
import { stackError } from '../errors.js';
import type { ConnectOptions, Endpoint, StreamBinding, StreamConnection, StreamListener, StreamOptions } from '../types.js';
import { KernelConnection } from './stream.js';

export class KernelBinding implements StreamBinding {
  readonly local: Endpoint;
  private listener: KernelListener | null = null;
  private released = false;

  constructor(
    private readonly server: net.Server,
    private readonly open: (remote: Endpoint, options: ConnectOptions, local?: Endpoint) => Promise<StreamConnection>,
  ) {
    const addr = server.address() as net.AddressInfo;
    this.local = { address: addr.address, port: addr.port };
    server.on('connection', (socket) => {
      if (this.listener) this.listener.arrive(socket);
      else socket.resetAndDestroy();
    });
  }

  listen(backlog: number, options: StreamOptions): StreamListener {
    if (this.released || this.listener) throw stackError('EINVAL', 'binding already used');
    this.listener = new KernelListener(this.server, this.local, backlog, options);
    return this.listener;
  }

  async connect(remote: Endpoint, options: ConnectOptions): Promise<StreamConnection> {
    if (this.listener || this.released) throw stackError('EINVAL', 'binding already used');
    this.released = true;
    await closeServer(this.server);
    return this.open(remote, options, this.local);
  }

  close(): void {
    this.released = true;
    this.listener?.close();
    this.server.close();
  }
}

export class KernelListener implements StreamListener {
  notify: (() => void) | null = null;
  private queue: net.Socket[] = [];
  private closed = false;

  constructor(
    private readonly server: net.Server,
    readonly local: Endpoint,
    private readonly backlog: number,
    private readonly options: StreamOptions,
  ) {}

  arrive(socket: net.Socket): void {
    // The queue holds backlog + 1, as Linux's accept queue does; past that a newcomer is refused
    // (reset) where Linux would drop its SYN: node:net has accepted it from the OS already.
    if (this.closed || this.queue.length > this.backlog) {
      socket.resetAndDestroy();
      return;
    }
    socket.on('error', () => {}); // reported through the connection once accepted
    this.queue.push(socket);
    this.notify?.();
  }

  setOptions(options: Partial<StreamOptions>): void {
    Object.assign(this.options, options);
  }

  accept(): StreamConnection | null {
    while (this.queue.length > 0) {
      const socket = this.queue.shift()!;
      if (socket.destroyed) continue;
      socket.removeAllListeners('error');
      return new KernelConnection(socket, this.options);
    }
    return null;
  }

  close(): void {
    if (this.closed) return;
    this.closed = true;
    for (const s of this.queue) s.resetAndDestroy();
    this.queue = [];
    this.server.close();
    this.notify?.();
  }
}

function closeServer(server: net.Server): Promise<void> {
  return new Promise((resolve) => server.close(() => resolve()));
}
