/**
 * SYN cookies (RFC 4987 §3.6), laid out as Linux lays them out
 * (net/ipv4/syncookies.c), so a listener whose SYN queue is full can still
 * answer a SYN without keeping anything, and rebuild the connection from the
 * ACK that comes back.
 *
 * The cookie is our initial sequence number:
 *
 *   hash₀(addresses, ports) + client ISN + (count << 24)
 *     + ((hash₁(addresses, ports, count) + MSS index) mod 2^24)
 *
 * where count is the minute (it ages the cookie: one from this minute or the
 * last is valid) and the MSS index picks from Linux's table (536, 1300, 1440,
 * 1460), rounding the client's MSS down. The other options would not fit, so
 * when the client sent timestamps they ride in the low 6 bits of our SYN-ACK's
 * TSval, which the client echoes: bits 0–3 its window scale (15: none), bit 4
 * SACK-permitted (bit 5, ECN, is never set here). Without timestamps the
 * connection has no window scaling and no SACK, as on Linux.
 */
import type { RandomSource } from '../../../link/types.js';
import { halfSipHash4 } from './halfsiphash.js';

/** Linux's msstab, sorted: values chosen from the MSS seen on the Internet (1460 the most common). */
export const COOKIE_MSS = [536, 1300, 1440, 1460] as const;

const COOKIE_BITS = 24;
const COOKIE_MASK = (1 << COOKIE_BITS) - 1;
/** Cookies from the current period or the one before are valid (MAX_SYNCOOKIE_AGE). */
const MAX_AGE = 2;
/** TCP_SYNCOOKIE_PERIOD: one minute. */
export const COOKIE_PERIOD_MS = 60_000;
/** TCP_SYNCOOKIE_VALID: how long after the last overflow a listener still checks cookies. */
export const COOKIE_VALID_MS = MAX_AGE * COOKIE_PERIOD_MS;

const TS_BITS = 6;
const TS_MASK = (1 << TS_BITS) - 1;
const TS_NO_WSCALE = 0xf;
const TS_SACK = 1 << 4;

/** The four addresses and ports of a connection, as 32-bit words. */
export interface Flow {
  remoteIp: number;
  localIp: number;
  remotePort: number;
  localPort: number;
}

export class SynCookies {
  /** Two keys for the two hashes, one for timestamp offsets; 64 bits each. */
  private readonly keys: number[];

  constructor(random: RandomSource) {
    this.keys = Array.from({ length: 6 }, () => random.uint32());
  }

  /** The cookie for a SYN from `flow` carrying `clientIsn` and offering `mss` (536 when it offered none); and the MSS it encodes. */
  make(nowMs: number, flow: Flow, clientIsn: number, mss: number): { cookie: number; mss: number } {
    let index = COOKIE_MSS.length - 1;
    while (index > 0 && mss < COOKIE_MSS[index]!) index--;
    const count = period(nowMs);
    const cookie = this.hash(flow, 0, 0) + clientIsn + count * 2 ** COOKIE_BITS + ((this.hash(flow, count, 1) + index) & COOKIE_MASK);
    return { cookie: cookie >>> 0, mss: COOKIE_MSS[index]! };
  }

  /** The MSS a returning cookie encodes, or 0 when it is forged, altered or too old. */
  check(nowMs: number, flow: Flow, clientIsn: number, cookie: number): number {
    const count = period(nowMs);
    const rest = (cookie - this.hash(flow, 0, 0) - clientIsn) >>> 0;
    const age = (count - (rest >>> COOKIE_BITS)) & (0xffffffff >>> COOKIE_BITS);
    if (age >= MAX_AGE) return 0;
    const index = (rest - this.hash(flow, count - age, 1)) & COOKIE_MASK;
    return COOKIE_MSS[index] ?? 0;
  }

  /** Linux's cookie_hash: addresses, both ports in one word, and the period, under key `c`. */
  private hash(flow: Flow, count: number, c: 0 | 1): number {
    return halfSipHash4(this.keys[2 * c]!, this.keys[2 * c + 1]!, flow.remoteIp, flow.localIp, ((flow.remotePort << 16) | flow.localPort) >>> 0, count >>> 0);
  }

  /** A per-address-pair timestamp offset (Linux's secure_tcp_ts_off), so the ACK's echo can be read back without state. */
  tsOffset(flow: Flow): number {
    return halfSipHash4(this.keys[4]!, this.keys[5]!, flow.localIp, flow.remoteIp, 0, 0);
  }
}

/** Linux's cookie_init_timestamp: the TSval (before the offset) carrying the options, never above `tsNow`. */
export function cookieTimestamp(tsNow: number, windowScale: number | undefined, sack: boolean): number {
  const options = (windowScale ?? TS_NO_WSCALE) | (sack ? TS_SACK : 0);
  let ts = ((tsNow & ~TS_MASK) | options) >>> 0;
  if (ts > tsNow >>> 0) ts = (ts - (TS_MASK + 1)) >>> 0;
  return ts;
}

/** Linux's cookie_timestamp_decode: the options from the echoed TSval (the offset already taken off). */
export function cookieOptions(echo: number): { windowScale: number | undefined; sack: boolean } {
  const options = echo & TS_MASK;
  const wscale = options & TS_NO_WSCALE;
  return { windowScale: wscale === TS_NO_WSCALE ? undefined : wscale, sack: (options & TS_SACK) !== 0 };
}

function period(nowMs: number): number {
  return Math.floor(nowMs / COOKIE_PERIOD_MS) >>> 0;
}

export function flowOf(remoteIp: Uint8Array, localIp: Uint8Array, remotePort: number, localPort: number): Flow {
  return { remoteIp: word(remoteIp), localIp: word(localIp), remotePort, localPort };
}

function word(ip: Uint8Array): number {
  return ((ip[0]! << 24) | (ip[1]! << 16) | (ip[2]! << 8) | ip[3]!) >>> 0;
}
