/**
 * The seam between the socket library and a protocol stack.
 *
 * Two stacks sit behind it: the kernel's (node:net, node:dgram) and
 * protostack's own user-space TCP/IP. The socket library owns descriptors,
 * blocking and timeouts; a stack owns connections and their buffers and never
 * blocks. The calls that wait on the network (read, accept, recv) are
 * non-blocking here, in the style of O_NONBLOCK plus poll: they answer now or
 * say WOULD_BLOCK, and the stack calls `notify` when something changed, so the
 * library can try again. Writes lend the caller's bytes to the stack until the
 * returned promise settles, which lets the kernel stack hand them to the OS
 * without a copy; a stack with its own send buffer copies and settles at once.
 */

export const WOULD_BLOCK = -1;

export type Family = 4 | 6;

export interface Endpoint {
  readonly address: string;
  readonly port: number;
}

/** Something the stack can wake: set by the socket library, called by the stack. */
export interface Notifiable {
  /** Called whenever readability, writability, an error or the end of a stream may have changed. */
  notify: (() => void) | null;
}

export interface StreamOptions {
  /** Disable Nagle's algorithm (TCP_NODELAY). */
  noDelay: boolean;
  /** Send keep-alive probes after this many idle milliseconds; 0 turns keep-alive off. */
  keepAliveMs: number;
  /** Bound on bytes the stack buffers for sending on this connection. */
  sendBufferSize: number;
  /** Bound on bytes the stack buffers for receiving before it stops reading (flow control). */
  recvBufferSize: number;
  /**
   * TCP_MAXSEG: a ceiling on the MSS the SYN offers and the segments sent, set before the
   * connection opens; 0 or absent leaves it to the route. A stack that cannot set it ignores it.
   */
  maxSegment?: number;
  /** TCP_USER_TIMEOUT: ms sent data may stay unacknowledged before ETIMEDOUT; 0 or absent: off. A stack that cannot set it ignores it. */
  userTimeoutMs?: number;
}

export interface StreamConnection extends Notifiable {
  readonly local: Endpoint;
  readonly remote: Endpoint;
  /** Copies received bytes into `into`: the count, 0 at the end of the stream, or WOULD_BLOCK. Throws SocketError once reset. */
  read(into: Uint8Array): number;
  /** Bytes waiting to be read now. */
  readonly readable: number;
  /**
   * Hands bytes to the stack, at most sendBufferSize at a time. Returns null when the stack took
   * them at once (copied, or written to the OS), else a promise that settles once it no longer needs `data`.
   */
  write(data: Uint8Array): Promise<void> | null;
  /** Sends FIN after the queued data ('write'), stops delivering received data ('read'), or both. */
  shutdown(how: 'read' | 'write' | 'both'): void;
  /** Graceful close: queued data is still sent, then FIN. Unread received data makes it a reset, as in Linux. */
  close(): void;
  /** Abortive close: RST now, buffers dropped. */
  abort(): void;
  setOptions(options: Partial<StreamOptions>): void;
}

export interface StreamListener extends Notifiable {
  readonly local: Endpoint;
  /** A connection from the backlog, or null when none is waiting. */
  accept(): StreamConnection | null;
  /** Options for connections from now on, as a listening socket's options pass to the sockets it accepts. */
  setOptions(options: Partial<StreamOptions>): void;
  close(): void;
}

/** A local TCP address that is bound but neither listening nor connected yet. */
export interface StreamBinding {
  readonly local: Endpoint;
  /** Starts listening; accepted connections start with `options`, as accepted sockets inherit the listener's. */
  listen(backlog: number, options: StreamOptions): StreamListener;
  connect(remote: Endpoint, options: ConnectOptions): Promise<StreamConnection>;
  close(): void;
}

export interface ConnectOptions extends StreamOptions {
  signal?: AbortSignal;
}

export interface Datagram {
  /** Bytes copied into the caller's buffer. */
  readonly bytes: number;
  readonly address: string;
  readonly port: number;
  /** The datagram was longer than the buffer; the rest was discarded (MSG_TRUNC). */
  readonly truncated: boolean;
}

export interface DatagramEndpoint extends Notifiable {
  /** The local address; after connect, the source address the stack chose for the peer. */
  readonly local: Endpoint;
  /**
   * Fixes the peer: the stack picks the route and source address (nothing is sent) and
   * delivers only the peer's datagrams. Fails with ENETUNREACH when there is no route.
   */
  connect(remote: Endpoint): Promise<void>;
  /** The next datagram copied into `into`, or null when none is waiting. */
  recv(into: Uint8Array): Datagram | null;
  /** Sends one datagram (to the connected peer, the only address allowed once connected); settles once the stack no longer needs `data`. */
  send(data: Uint8Array, address: string, port: number): Promise<void>;
  /** Datagrams dropped because the receive buffer was full. */
  readonly drops: number;
  close(): void;
}

export interface DatagramOptions {
  recvBufferSize: number;
}

export type TimerHandle = unknown;

export interface ProtocolStack {
  /** A short name for traces: "kernel", "user". */
  readonly name: string;
  /** Milliseconds on the stack's clock: the wall for the kernel, virtual time for a simulation. */
  now(): number;
  /** A deadline timer; it must not keep the process alive by itself. */
  setTimer(ms: number, fire: () => void): TimerHandle;
  clearTimer(handle: TimerHandle): void;
  /** Reserves a local TCP address; port 0 picks a free one. */
  bindStream(local: Endpoint): Promise<StreamBinding>;
  /** Opens a connection from an address the stack picks. */
  connect(remote: Endpoint, options: ConnectOptions): Promise<StreamConnection>;
  /** Opens a UDP endpoint on a local address; port 0 picks a free one. */
  bindDatagram(local: Endpoint, options: DatagramOptions): Promise<DatagramEndpoint>;
}
