/** The response-rate limiter on its own, with time passed in: buckets per source network, refill, slip, the bounded table. */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { RateLimiter } from '../../src/dns/rate-limit.js';

const run = (rl: RateLimiter, address: string, n: number, now: number) => Array.from({ length: n }, () => rl.check(address, now));

test('a second of answers, then drops with every slip-th a TC reply; the bucket refills with time', () => {
  const rl = new RateLimiter({ responsesPerSecond: 3, slip: 3 });
  assert.deepEqual(run(rl, '10.0.0.1', 9, 0), ['send', 'send', 'send', 'drop', 'drop', 'slip', 'drop', 'drop', 'slip']);
  assert.deepEqual(run(rl, '10.0.0.1', 2, 500), ['send', 'drop'], 'half a second refills one and a half answers');
  assert.deepEqual(run(rl, '10.0.0.1', 4, 10_000), ['send', 'send', 'send', 'drop'], 'never more than a second of answers saved up');
});

test('one bucket per /24 (IPv4, and IPv4-mapped IPv6) and per /56 (IPv6); slip 0 never slips', () => {
  const rl = new RateLimiter({ responsesPerSecond: 1, slip: 0 });
  assert.equal(rl.check('192.0.2.1', 0), 'send');
  assert.equal(rl.check('192.0.2.254', 0), 'drop', 'same /24');
  assert.equal(rl.check('::ffff:192.0.2.9', 0), 'drop', 'the same network, mapped');
  assert.equal(rl.check('192.0.3.1', 0), 'send', 'another /24');
  assert.equal(rl.check('2001:db8:0:ab00::1', 0), 'send');
  assert.equal(rl.check('2001:db8:0:abff::2', 0), 'drop', 'same /56');
  assert.equal(rl.check('2001:db8:0:ac00::1', 0), 'send', 'another /56');
  assert.deepEqual(run(rl, '192.0.2.1', 5, 0), ['drop', 'drop', 'drop', 'drop', 'drop']);
});

test('the table of sources is bounded: the least recently seen is forgotten (and starts again full)', () => {
  const rl = new RateLimiter({ responsesPerSecond: 1, slip: 0, maxSources: 2 });
  assert.equal(rl.check('10.0.1.1', 0), 'send');
  assert.equal(rl.check('10.0.2.1', 0), 'send');
  assert.equal(rl.check('10.0.1.1', 0), 'drop', 'seen again: now the most recent');
  assert.equal(rl.check('10.0.3.1', 0), 'send', 'a third source pushes out 10.0.2.x');
  assert.equal(rl.check('10.0.1.1', 0), 'drop', 'still remembered');
  assert.equal(rl.check('10.0.2.1', 0), 'send', 'forgotten, so a full bucket again');
});

test('bad options are RangeErrors', () => {
  for (const o of [{ responsesPerSecond: 0 }, { responsesPerSecond: Infinity }, { responsesPerSecond: 1, slip: 1.5 }, { responsesPerSecond: 1, maxSources: 0 }]) {
    assert.throws(() => new RateLimiter(o), RangeError, JSON.stringify(o));
  }
});
