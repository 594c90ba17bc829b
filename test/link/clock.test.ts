/** The virtual clock: heap order, cancellation, advance by hand, and run() driving async code. */
import assert from 'node:assert/strict';
import { readFile } from 'node:fs/promises';
import { test } from 'node:test';
import { VirtualClock } from '../../src/link/clock.js';
import { Random } from '../../src/link/random.js';

test('events fire in time order, equal times in the order they were set', () => {
  const clock = new VirtualClock();
  const fired: string[] = [];
  for (const [ms, name] of [[5, 'e'], [1, 'a'], [3, 'c1'], [3, 'c2'], [0, 'zero'], [3, 'c3'], [2, 'b']] as const)
    clock.setTimer(ms, () => fired.push(`${name}@${clock.now()}`));
  assert.equal(clock.pending, 7);
  assert.equal(clock.nextTime(), 0);
  clock.advance(10);
  assert.deepEqual(fired, ['zero@0', 'a@1', 'b@2', 'c1@3', 'c2@3', 'c3@3', 'e@5']);
  assert.equal(clock.now(), 10);
  assert.equal(clock.pending, 0);
  assert.equal(clock.nextTime(), null);
});

test('a large random schedule pops sorted by (time, insertion)', () => {
  const clock = new VirtualClock();
  const random = new Random(7);
  const fired: Array<[number, number]> = [];
  const expected: Array<[number, number]> = [];
  const handles = [];
  for (let i = 0; i < 5000; i++) {
    const ms = random.int(200);
    handles.push(clock.setTimer(ms, () => fired.push([clock.now(), i])));
    expected.push([ms, i]);
  }
  // Clear every third one: cancellation must not disturb the rest.
  for (let i = 0; i < 5000; i += 3) clock.clearTimer(handles[i]);
  clock.advance(200);
  const want = expected.filter(([, i]) => i % 3 !== 0).sort((a, b) => a[0] - b[0] || a[1] - b[1]);
  assert.deepEqual(fired, want);
});

test('negative and NaN delays mean now; time never goes backwards', () => {
  const clock = new VirtualClock();
  clock.advance(4);
  const at: number[] = [];
  clock.setTimer(-10, () => at.push(clock.now()));
  clock.setTimer(NaN, () => at.push(clock.now()));
  clock.advance(-3);
  assert.deepEqual(at, [4, 4]);
  assert.equal(clock.now(), 4);
});

test('clearTimer cancels, is idempotent, and ignores fired or foreign handles', () => {
  const clock = new VirtualClock();
  const other = new VirtualClock();
  let fired = 0;
  const a = clock.setTimer(1, () => fired++);
  const b = clock.setTimer(2, () => fired++);
  const foreign = other.setTimer(1, () => {});
  clock.clearTimer(a);
  clock.clearTimer(a);
  clock.clearTimer(foreign);
  clock.clearTimer(undefined);
  assert.equal(clock.pending, 1);
  assert.equal(other.pending, 1);
  assert.equal(clock.nextTime(), 2);
  clock.advance(5);
  clock.clearTimer(b);
  assert.equal(fired, 1);
  assert.equal(clock.pending, 0);
});

test('many cleared timers are compacted away without losing live ones', () => {
  const clock = new VirtualClock();
  let fired = 0;
  const keep = [];
  for (let round = 0; round < 100; round++) {
    const handles = [];
    for (let i = 0; i < 100; i++) handles.push(clock.setTimer(1000 + i, () => fired++));
    for (const handle of handles.slice(1)) clock.clearTimer(handle);
    keep.push(handles[0]);
  }
  assert.equal(clock.pending, 100);
  clock.advance(2000);
  assert.equal(fired, 100);
});

test('advance fires events that events set, within the window only', () => {
  const clock = new VirtualClock();
  const at: number[] = [];
  const tick = () => {
    at.push(clock.now());
    clock.setTimer(3, tick);
  };
  clock.setTimer(0, tick);
  clock.advance(10);
  assert.deepEqual(at, [0, 3, 6, 9]);
  assert.equal(clock.now(), 10);
  assert.equal(clock.nextTime(), 12);
  assert.throws(() => {
    clock.setTimer(0, () => clock.advance(1));
    clock.advance(5);
  }, /inside a timer callback/);
});

test('run() jumps time while awaits run in between: 1000 sleeps of 7 ms end at 7000 ms', async () => {
  const clock = new VirtualClock();
  const sleep = (ms: number) => new Promise<void>((resolve) => clock.setTimer(ms, resolve));
  const result = await clock.run(async () => {
    for (let i = 0; i < 1000; i++) {
      await sleep(7);
      await Promise.resolve();
    }
    return 'done';
  });
  assert.equal(result, 'done');
  assert.equal(clock.now(), 7000);
  assert.equal(clock.pending, 0);
});

test('run() lets a deep promise chain finish before time moves on', async () => {
  const clock = new VirtualClock();
  const seen: number[] = [];
  let later = false;
  clock.setTimer(10, () => (later = true));
  await clock.run(async () => {
    // Twenty microtask hops at time 0, then a timer at 1 ms: it must fire before the one at 10 ms.
    let p = Promise.resolve();
    for (let i = 0; i < 20; i++) p = p.then(() => {});
    await p;
    await new Promise<void>((resolve) => clock.setTimer(1, resolve));
    seen.push(clock.now());
    assert.equal(later, false);
  });
  assert.deepEqual(seen, [1]);
});

test('run() waits for real I/O when nothing virtual is pending', async () => {
  const clock = new VirtualClock();
  const text = await clock.run(async () => {
    await new Promise<void>((resolve) => clock.setTimer(5, resolve));
    const data = await readFile(new URL(import.meta.url));
    await new Promise<void>((resolve) => clock.setTimer(5, resolve));
    return data.length;
  });
  assert.ok(text > 0);
  assert.equal(clock.now(), 10);
});

test('concurrent and nested runs share one driver and each gets its own result', async () => {
  const clock = new VirtualClock();
  const sleep = (ms: number) => new Promise<void>((resolve) => clock.setTimer(ms, resolve));
  const order: string[] = [];
  const a = clock.run(async () => {
    await sleep(30);
    order.push(`a@${clock.now()}`);
    return 'a';
  });
  const b = clock.run(async () => {
    await sleep(10);
    const inner = await clock.run(async () => {
      await sleep(5);
      order.push(`inner@${clock.now()}`);
      return 'inner';
    });
    order.push(`b@${clock.now()}`);
    return `b+${inner}`;
  });
  assert.deepEqual(await Promise.all([a, b]), ['a', 'b+inner']);
  assert.deepEqual(order, ['inner@15', 'b@15', 'a@30']);
});

test('run() rejects past limitMs with ERR_SIM_TIME_LIMIT, and with an event callback\'s exception', async () => {
  const clock = new VirtualClock();
  const forever = async () => {
    for (;;) await new Promise<void>((resolve) => clock.setTimer(1000, resolve));
  };
  await assert.rejects(clock.run(forever, { limitMs: 10_000 }), (error: Error & { code?: string }) => error.code === 'ERR_SIM_TIME_LIMIT');
  assert.ok(clock.now() <= 10_000);

  const broken = new VirtualClock();
  broken.setTimer(3, () => {
    throw new Error('stack bug');
  });
  await assert.rejects(broken.run(new Promise(() => {})), /stack bug/);
  assert.equal(broken.now(), 3);
  // The clock still works afterwards.
  assert.equal(await broken.run(new Promise<number>((resolve) => broken.setTimer(2, () => resolve(broken.now())))), 5);
});

test('run() passes on the work\'s own rejection and synchronous throw', async () => {
  const clock = new VirtualClock();
  await assert.rejects(clock.run(async () => {
    await new Promise<void>((resolve) => clock.setTimer(1, resolve));
    throw new Error('app failed');
  }), /app failed/);
  await assert.rejects(clock.run(() => {
    throw new Error('sync');
  }), /sync/);
});

test('the same program gives the same event order', async () => {
  async function program(seed: number): Promise<string[]> {
    const clock = new VirtualClock();
    const random = new Random(seed);
    const log: string[] = [];
    const worker = async (name: string) => {
      for (let i = 0; i < 50; i++) {
        await new Promise<void>((resolve) => clock.setTimer(random.int(5), resolve));
        log.push(`${name}${i}@${clock.now()}`);
      }
    };
    await clock.run(Promise.all([worker('x'), worker('y'), worker('z')]));
    return log;
  }
  const first = await program(3);
  assert.deepEqual(await program(3), first);
  assert.notDeepEqual(await program(4), first);
});

test('Random: same seed, same sequence; int stays in range; float in [0, 1)', () => {
  const a = new Random(42);
  const b = new Random(42);
  const c = new Random(43);
  const seqA = Array.from({ length: 100 }, () => a.uint32());
  assert.deepEqual(Array.from({ length: 100 }, () => b.uint32()), seqA);
  assert.notDeepEqual(Array.from({ length: 100 }, () => c.uint32()), seqA);
  // A known answer pins the sequence across platforms and refactors.
  assert.deepEqual(seqA.slice(0, 3), [3825871779, 1851418855, 1383259262]);
  const counts = new Array(6).fill(0);
  for (let i = 0; i < 60_000; i++) counts[a.int(6)]++;
  for (const count of counts) assert.ok(Math.abs(count - 10_000) < 500, `int(6) counts ${counts}`);
  let sum = 0;
  for (let i = 0; i < 10_000; i++) {
    const x = a.float();
    assert.ok(x >= 0 && x < 1);
    sum += x;
  }
  assert.ok(Math.abs(sum / 10_000 - 0.5) < 0.02);
  assert.throws(() => a.int(0), RangeError);
});
