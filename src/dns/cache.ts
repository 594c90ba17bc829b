/**
 * The resolver's cache: answers kept for their TTL, negative answers
 * (NXDOMAIN, NODATA) for the SOA's negative TTL (RFC 2308), and at most
 * `maxEntries` of them, least recently used first out. Time comes from the
 * clock passed in, so tests move it instead of sleeping.
 */
import type { DnsRecord } from '../wire/dns/types.js';

export type CacheResult =
  | { kind: 'answer'; name: string; records: DnsRecord[]; chain: string[]; ttl: number }
  | { kind: 'nxdomain' | 'nodata'; ttl: number };

interface Entry {
  expires: number;
  stored: number;
  value: CacheResult;
}

export interface CacheOptions {
  maxEntries?: number;
  /** Caps a record's TTL (seconds); a week, as many resolvers do. */
  maxTtl?: number;
  /** Caps negative caching (seconds); RFC 2308 §5 suggests 1–3 hours. */
  maxNegativeTtl?: number;
  /** Milliseconds; Date.now by default. */
  now?: () => number;
}

export class DnsCache {
  private readonly entries = new Map<string, Entry>();
  private readonly maxEntries: number;
  private readonly maxTtl: number;
  private readonly maxNegativeTtl: number;
  readonly now: () => number;
  hits = 0;
  misses = 0;

  constructor(options: CacheOptions = {}) {
    this.maxEntries = options.maxEntries ?? 10_000;
    this.maxTtl = options.maxTtl ?? 604_800;
    this.maxNegativeTtl = options.maxNegativeTtl ?? 10_800;
    this.now = options.now ?? Date.now;
  }

  get size(): number {
    return this.entries.size;
  }

  /** The cached result with TTLs counted down to what is left, or undefined. */
  get(key: string): CacheResult | undefined {
    const entry = this.entries.get(key);
    if (!entry) {
      this.misses++;
      return undefined;
    }
    const now = this.now();
    if (now >= entry.expires) {
      this.entries.delete(key);
      this.misses++;
      return undefined;
    }
    // Refresh its place in the LRU order.
    this.entries.delete(key);
    this.entries.set(key, entry);
    this.hits++;
    const elapsed = Math.floor((now - entry.stored) / 1000);
    const v = entry.value;
    if (v.kind !== 'answer') return { kind: v.kind, ttl: Math.max(0, v.ttl - elapsed) };
    return { ...v, ttl: Math.max(0, v.ttl - elapsed), records: v.records.map((r) => ({ ...r, ttl: Math.max(0, r.ttl - elapsed) }) as DnsRecord) };
  }

  set(key: string, value: CacheResult): void {
    const cap = value.kind === 'answer' ? this.maxTtl : this.maxNegativeTtl;
    const ttl = Math.min(value.ttl, cap);
    if (ttl <= 0) return;
    const now = this.now();
    this.entries.delete(key);
    this.entries.set(key, { expires: now + ttl * 1000, stored: now, value: { ...value, ttl } });
    while (this.entries.size > this.maxEntries) this.entries.delete(this.entries.keys().next().value as string);
  }

  clear(): void {
    this.entries.clear();
  }
}
