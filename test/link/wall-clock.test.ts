import assert from 'node:assert/strict';
import { test } from 'node:test';
import { WallClock } from '../../src/link/wall-clock.js';

test('WallClock: now() starts near 0 and follows real time', async () => {
  const clock = new WallClock();
  const start = clock.now();
  assert.ok(start >= 0 && start < 50, `starts near 0, got ${start}`);
  await new Promise((r) => setTimeout(r, 30));
  const later = clock.now();
  assert.ok(later - start >= 25, `30 ms later reads ${later - start} ms later`);
});

test('WallClock: a timer fires after its delay, and a cleared one never does', async () => {
  const clock = new WallClock();
  const fired: string[] = [];
  const t0 = clock.now();
  let at = 0;
  clock.setTimer(20, () => { fired.push('kept'); at = clock.now() - t0; });
  const cleared = clock.setTimer(10, () => fired.push('cleared'));
  clock.clearTimer(cleared);
  await new Promise((r) => setTimeout(r, 60));
  assert.deepEqual(fired, ['kept']);
  assert.ok(at >= 18, `fired after ${at} ms`);
});
