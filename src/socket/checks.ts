/** Argument checks every call shares: each bad argument is a SocketError naming the call and descriptor. */
import type { Endpoint, StreamConnection } from '../stack/types.js';
import { ipFamily } from '../wire/ip-address.js';
import { SocketError } from './errors.js';
import type { Sock } from './sock.js';

export function streamOf(s: Sock, call: string, fd: number): StreamConnection {
  if (s.broken) throw s.broken;
  if (s.state === 'listening') throw new SocketError('ENOTCONN', { call, fd, detail: 'socket is listening; use accept' });
  if (!s.conn) throw new SocketError('ENOTCONN', { call, fd });
  return s.conn;
}

export function peerOf(s: Sock, call: string, fd: number): Endpoint {
  if (!s.peer) throw new SocketError('ENOTCONN', { call, fd, detail: 'udp socket has no peer: connect first, or use sendto/recvfrom' });
  return s.peer;
}

export function endpoint(address: string, port: number, call: string, fd: number): Endpoint {
  if (typeof address !== 'string' || ipFamily(address) === 0) throw new SocketError('EINVAL', { call, fd, detail: `not an IP address: ${String(address)}` });
  if (!Number.isInteger(port) || port < 0 || port > 65_535) throw new SocketError('EINVAL', { call, fd, detail: `port must be 0-65535, not ${String(port)}` });
  if (call !== 'bind' && port === 0) throw new SocketError('EINVAL', { call, fd, detail: 'port 0 is not a destination' });
  return { address, port };
}

export function span(buffer: Uint8Array, length: number | undefined, call: string, fd: number): Uint8Array {
  if (!(buffer instanceof Uint8Array)) throw new SocketError('EINVAL', { call, fd, detail: 'buffer must be a Uint8Array' });
  if (length === undefined || length === buffer.length) return buffer;
  if (!Number.isInteger(length) || length < 0 || length > buffer.length) throw new SocketError('EINVAL', { call, fd, detail: `length ${String(length)} is outside the buffer (${buffer.length} bytes)` });
  return buffer.subarray(0, length);
}
