/** The cache on an injected clock: TTLs count down, entries expire, negative answers too, and the size is bounded. */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { DnsCache } from '../../src/dns/cache.js';
import { TYPE, type DnsRecord } from '../../src/wire/dns/types.js';

const a = (ttl: number): DnsRecord => ({ name: 'www.example.test', type: TYPE.A, class: 1, ttl, data: '192.0.2.1' });

test('an answer is served with its TTL counting down and is gone at the TTL', () => {
  let now = 1_000_000;
  const cache = new DnsCache({ now: () => now });
  cache.set('www|1', { kind: 'answer', name: 'www', records: [a(300)], chain: [], ttl: 300 });
  now += 100_000;
  const hit = cache.get('www|1');
  assert.equal(hit?.kind, 'answer');
  assert.equal(hit!.ttl, 200);
  assert.equal((hit as any).records[0].ttl, 200);
  now += 199_999;
  assert.ok(cache.get('www|1'), 'still there 1 ms before the TTL ends');
  now += 1;
  assert.equal(cache.get('www|1'), undefined, 'gone at the TTL');
});

test('negative answers are cached for their own TTL and capped (RFC 2308)', () => {
  let now = 0;
  const cache = new DnsCache({ now: () => now, maxNegativeTtl: 600 });
  cache.set('nx|1', { kind: 'nxdomain', ttl: 3600 });
  cache.set('nd|28', { kind: 'nodata', ttl: 30 });
  now += 31_000;
  assert.equal(cache.get('nd|28'), undefined);
  assert.equal(cache.get('nx|1')?.kind, 'nxdomain');
  now += 570_000;
  assert.equal(cache.get('nx|1'), undefined, 'capped at 600 s');
});

test('TTL 0 is not cached; the cache holds at most maxEntries, evicting the least recently used', () => {
  const cache = new DnsCache({ maxEntries: 3 });
  cache.set('zero', { kind: 'answer', name: 'z', records: [a(0)], chain: [], ttl: 0 });
  assert.equal(cache.size, 0);
  for (const k of ['a', 'b', 'c']) cache.set(k, { kind: 'nodata', ttl: 60 });
  cache.get('a'); // a is now the most recently used
  cache.set('d', { kind: 'nodata', ttl: 60 });
  assert.equal(cache.size, 3);
  assert.equal(cache.get('b'), undefined, 'b was the least recently used');
  assert.ok(cache.get('a') && cache.get('c') && cache.get('d'));
});
