/** One descriptor's socket as the library keeps it: its state, what the stack gave it, and who waits on it. */
import type { DatagramEndpoint, Endpoint, ProtocolStack, StreamBinding, StreamConnection, StreamListener, StreamOptions } from '../stack/types.js';
import type { SocketError } from './errors.js';
import type { SocketOptions } from './options.js';
import type { SocketType } from './types.js';
import { WaitQueue } from './wait.js';

export type State = 'new' | 'binding' | 'bound' | 'connecting' | 'connected' | 'listening';

/** The largest UDP payload in one IPv4 datagram (65535 - 20 - 8); IPv6 allows 20 more. */
export const MAX_UDP_PAYLOAD = { 4: 65_507, 6: 65_527 } as const;

export class Sock {
  state: State = 'new';
  closed = false;
  readShut = false;
  writeShut = false;
  binding: StreamBinding | null = null;
  conn: StreamConnection | null = null;
  listener: StreamListener | null = null;
  dgram: DatagramEndpoint | null = null;
  dgramPending: Promise<DatagramEndpoint> | null = null;
  /** The default peer of a connected UDP socket. */
  peer: Endpoint | null = null;
  /** Set when a timed-out write left the stream in an unknown state. */
  broken: SocketError | null = null;
  /** Cancels a connect in progress: close() abandons the handshake, as close() in SYN-SENT does. */
  connecting: AbortController | null = null;
  readonly waits: WaitQueue;
  readonly wake = () => this.waits.wakeAll();

  constructor(
    readonly kind: SocketType,
    public options: SocketOptions,
    stack: ProtocolStack,
  ) {
    this.waits = new WaitQueue(stack);
  }
}

/** The socket's options as the stack takes them. */
export function streamOptions(o: SocketOptions): StreamOptions {
  return { noDelay: o.noDelay, keepAliveMs: o.keepAlive ? o.keepAliveIdle : 0, sendBufferSize: o.sendBufferSize, recvBufferSize: o.recvBufferSize, maxSegment: o.maxSegment, userTimeoutMs: o.userTimeout };
}
