/**
 * Response-rate limiting for the DNS server's UDP answers, after BIND's RRL:
 * a token bucket per source network (/24 for IPv4, /56 for IPv6, as BIND's
 * defaults), so a spoofed victim cannot be sent more than N answers a second
 * whatever the attacker asks. Past the rate an answer is dropped, and every
 * `slip`-th dropped one goes out as a bare TC reply instead, so a real client
 * behind that network retries over TCP (which a spoofer cannot complete) and
 * still gets its answer. The table of sources is bounded; the least recently
 * seen is forgotten first.
 */
import { parseIPv4, parseIPv6 } from '../wire/ip-address.js';

export interface RateLimitOptions {
  /** Answers per second per source network; the bucket holds one second's worth. */
  responsesPerSecond: number;
  /** Every slip-th dropped answer is sent as a bare TC reply; 0 never. Default 2, as BIND. */
  slip?: number;
  /** Source networks remembered at most. Default 100,000. */
  maxSources?: number;
}

export type Verdict = 'send' | 'drop' | 'slip';

interface Bucket {
  tokens: number;
  at: number;
  dropped: number;
}

export class RateLimiter {
  private readonly rate: number;
  private readonly slip: number;
  private readonly maxSources: number;
  /** In order of last use: Map iteration order is insertion order, so the first is the stalest. */
  private readonly buckets = new Map<string, Bucket>();

  constructor(options: RateLimitOptions) {
    this.rate = options.responsesPerSecond;
    this.slip = options.slip ?? 2;
    this.maxSources = options.maxSources ?? 100_000;
    if (!(this.rate > 0) || !Number.isFinite(this.rate)) throw new RangeError('rateLimit.responsesPerSecond must be a positive number');
    if (!Number.isInteger(this.slip) || this.slip < 0) throw new RangeError('rateLimit.slip must be a whole number, 0 or more');
    if (!Number.isInteger(this.maxSources) || this.maxSources < 1) throw new RangeError('rateLimit.maxSources must be at least 1');
  }

  /** Whether an answer to `address` may go now (`now` in milliseconds). */
  check(address: string, now: number): Verdict {
    const key = network(address);
    let b = this.buckets.get(key);
    if (b) {
      this.buckets.delete(key);
      b.tokens = Math.min(this.rate, b.tokens + ((now - b.at) * this.rate) / 1000);
      b.at = now;
    } else {
      if (this.buckets.size >= this.maxSources) this.buckets.delete(this.buckets.keys().next().value!);
      b = { tokens: this.rate, at: now, dropped: 0 };
    }
    this.buckets.set(key, b);
    if (b.tokens >= 1) {
      b.tokens -= 1;
      return 'send';
    }
    b.dropped++;
    return this.slip > 0 && b.dropped % this.slip === 0 ? 'slip' : 'drop';
  }
}

/** The source network an address belongs to, as a string key (an IPv4-mapped IPv6 address counts as IPv4). */
function network(address: string): string {
  const v4 = parseIPv4(address);
  if (v4) return `${v4[0]}.${v4[1]}.${v4[2]}`;
  const v6 = parseIPv6(address);
  if (!v6) return address;
  if (v6.subarray(0, 10).every((b) => b === 0) && v6[10] === 0xff && v6[11] === 0xff) return `${v6[12]}.${v6[13]}.${v6[14]}`;
  return Array.from(v6.subarray(0, 7), (b) => b.toString(16)).join(':');
}
