/**
 * What a connection needs from the TCP layer that holds it, and nothing
 * more: the clock, the tunables, the counters, a way out for its segments,
 * the MSS its route allows, and leaving the table. TcpLayer implements it;
 * the TCB and the functions over it (sender, input, handshake, ...) reach
 * the layer only through it, so they can be read, and tested, without the
 * table, the listeners or the ports, and an IPv6 layer can host them too.
 *
 * Generic in the connection so this file imports no TCB: the layer imports
 * the TCB, and the TCB imports nothing of the layer (no cycle, not even of types).
 */
import type { Clock } from '../../../link/types.js';
import type { TcpSegment } from '../../../wire/tcp.js';
import type { Counters } from '../counters.js';
import type { TcpConfig } from './config.js';

export interface TcpHost<Conn> {
  readonly clock: Clock;
  readonly config: TcpConfig;
  readonly counters: Counters;
  /** Puts one of `conn`'s segments on the wire (between its addresses, seen by the tap). */
  emit(conn: Conn, seg: TcpSegment): void;
  /** The largest segment the route to `remoteIp` carries: min(config.mss, MTU − IP and TCP headers). */
  mssTo(remoteIp: Uint8Array): number;
  /** The connection is over: out of the table (its 4-tuple is free again), then its `released()`. */
  release(conn: Conn): void;
  /** RFC 5961 §7: whether the stack-wide budget of challenge ACKs allows one more this second. */
  challengeAllowed(): boolean;
  /** A new SYN for `conn` in TIME-WAIT (RFC 9293 §3.6.1): `conn` gives way and a listener, if any, takes the SYN. */
  reopen(conn: Conn, seg: TcpSegment): void;
}

/** The listener a passive open came from, as the connection sees it: where to report the handshake's end. */
export interface ListenerHook<Conn> {
  /** The handshake completed: `conn` waits for accept(). */
  ready(conn: Conn): void;
  /** `conn` is gone before accept() took it. */
  forget(conn: Conn): void;
}
