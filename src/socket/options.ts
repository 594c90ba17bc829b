/** Per-socket options, their defaults and their checks. */
import { SocketError } from './errors.js';

export interface SocketOptions {
  /** Milliseconds connect() may wait for the handshake. */
  connectTimeout: number;
  /** Milliseconds read() and recvfrom() may wait for data (SO_RCVTIMEO). */
  readTimeout: number;
  /** Milliseconds write() and sendto() may wait for buffer space (SO_SNDTIMEO). */
  writeTimeout: number;
  /** Milliseconds accept() may wait for a connection. */
  acceptTimeout: number;
  /** TCP_NODELAY: send small segments at once instead of coalescing them (Nagle). */
  noDelay: boolean;
  /** SO_KEEPALIVE: probe an idle connection so a vanished peer is noticed. */
  keepAlive: boolean;
  /** TCP_KEEPIDLE, in milliseconds: idle time before the first probe. */
  keepAliveIdle: number;
  /** SO_SNDBUF: bytes the stack may hold for sending; also the largest piece handed to the stack at once. */
  sendBufferSize: number;
  /** SO_RCVBUF: bytes the stack may hold unread before it stops reading from the network. */
  recvBufferSize: number;
  /**
   * TCP_USER_TIMEOUT, in milliseconds: how long sent data may stay unacknowledged before the
   * connection fails with ETIMEDOUT, whatever the retry count; 0 (the default) leaves it to the
   * retries. The kernel stack (node:net) cannot set it and ignores it.
   */
  userTimeout: number;
  /** TCP_MAXSEG: the largest segment to offer and send, set before connect or on the listener; 0 leaves it to the route. The kernel stack ignores it. */
  maxSegment: number;
}

/** Every wait has a finite default, as the guide requires; raise them per socket where a longer wait is meant. */
export const DEFAULT_OPTIONS: Readonly<SocketOptions> = Object.freeze({
  connectTimeout: 30_000,
  readTimeout: 120_000,
  writeTimeout: 120_000,
  acceptTimeout: 3_600_000,
  noDelay: false,
  keepAlive: false,
  keepAliveIdle: 7_200_000,
  sendBufferSize: 256 * 1024,
  recvBufferSize: 128 * 1024,
  maxSegment: 0,
  userTimeout: 0,
});

/** Timers cannot wait longer than 2^31-1 ms; a longer "timeout" would fire at once. */
const MAX_TIMEOUT = 2 ** 31 - 1;
const MIN_BUFFER = 1024;
const MAX_BUFFER = 64 * 1024 * 1024;

export function checkOptions(options: Partial<SocketOptions>, call: string, fd?: number): void {
  const bad = (detail: string) => new SocketError('EINVAL', { call, fd, detail });
  for (const [key, value] of Object.entries(options)) {
    switch (key as keyof SocketOptions) {
      case 'connectTimeout':
      case 'readTimeout':
      case 'writeTimeout':
      case 'acceptTimeout':
      case 'keepAliveIdle':
        if (typeof value !== 'number' || !Number.isFinite(value) || value <= 0 || value > MAX_TIMEOUT)
          throw bad(`${key} must be a number of milliseconds in (0, ${MAX_TIMEOUT}]`);
        break;
      case 'sendBufferSize':
      case 'recvBufferSize':
        if (!Number.isInteger(value) || (value as number) < MIN_BUFFER || (value as number) > MAX_BUFFER)
          throw bad(`${key} must be an integer from ${MIN_BUFFER} to ${MAX_BUFFER}`);
        break;
      case 'userTimeout':
        if (!Number.isInteger(value) || (value as number) < 0 || (value as number) > MAX_TIMEOUT)
          throw bad(`${key} must be an integer number of milliseconds from 0 to ${MAX_TIMEOUT}`);
        break;
      case 'maxSegment':
        // Linux's bounds: TCP_MIN_MSS (88) to MAX_TCP_WINDOW (32767), or 0.
        if (!Number.isInteger(value) || ((value as number) !== 0 && ((value as number) < 88 || (value as number) > 32_767)))
          throw bad(`${key} must be 0 or an integer from 88 to 32767`);
        break;
      case 'noDelay':
      case 'keepAlive':
        if (typeof value !== 'boolean') throw bad(`${key} must be true or false`);
        break;
      default:
        throw bad(`unknown option ${key}`);
    }
  }
}
