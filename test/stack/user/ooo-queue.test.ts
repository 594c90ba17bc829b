/** The out-of-order queue on its own: a model check, its cost in operations and in memory, and Linux's pruning rules. */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import v8 from 'node:v8';
import vm from 'node:vm';
import { Counters } from '../../../src/stack/user/counters.js';
import { OutOfOrderQueue, RUN_COST } from '../../../src/stack/user/tcp/ooo-queue.js';
import { xorshift } from '../../prng.js';
import { pattern } from './harness.js';

v8.setFlagsFromString('--expose-gc');
const gc = vm.runInNewContext('gc') as () => void;

/** Sequence numbers start near 2^32, so every test crosses the wrap. */
const BASE = 0xffff_f000;
const at = (offset: number) => (BASE + offset) >>> 0;
/** The stream's bytes: byte i is pattern(…)[i]. */
const STREAM = pattern(1 << 17);

function queue() {
  const counters = new Counters();
  return { q: new OutOfOrderQueue(counters), counters };
}

function put(q: OutOfOrderQueue, from: number, to: number, maxRuns = Infinity) {
  return q.insert(at(from), STREAM.subarray(from, to), maxRuns);
}

/** Runs as [from, to) offsets. */
function runs(q: OutOfOrderQueue): Array<[number, number]> {
  return q.runs().map(([left, length]) => [(left - BASE) | 0, ((left - BASE) | 0) + length]);
}

test('segments that touch or overlap join one run; a covered one is a duplicate; bytes are counted once', () => {
  const { q } = queue();
  assert.equal(put(q, 100, 200), 'stored');
  assert.equal(put(q, 300, 400), 'stored');
  assert.equal(put(q, 200, 250), 'stored', 'touches the first run on its right');
  assert.equal(put(q, 280, 300), 'stored', 'touches the second on its left');
  assert.deepEqual(runs(q), [[100, 250], [280, 400]]);
  assert.equal(put(q, 120, 240), 'duplicate');
  assert.equal(put(q, 240, 290), 'stored', 'bridges the two');
  assert.deepEqual(runs(q), [[100, 400]]);
  assert.equal(q.bytes, 300);
  assert.equal(put(q, 50, 500), 'stored', 'covers the run entirely');
  assert.deepEqual(runs(q), [[50, 500]]);
  assert.equal(q.bytes, 450);
  assert.deepEqual(q.takeFirst(at(50)), STREAM.subarray(50, 500));
  assert.equal(q.count, 0);
});

test('a seeded model check: 20,000 random segments (overlapping, duplicated, in any order) come out as the exact stream', () => {
  const random = xorshift(7);
  const { q } = queue();
  const have = new Uint8Array(1 << 16);
  let next = 0;
  const out: number[] = [];
  for (let i = 0; i < 20_000; i++) {
    const from = next + 1 + (random() % 8000);
    const to = Math.min(from + 1 + (random() % 300), have.length);
    if (from >= to) continue;
    put(q, from, to);
    have.fill(1, from, to);
    // Now and then the hole at RCV.NXT fills, as the retransmission would.
    if (random() % 16 === 0) {
      let end = next + 1;
      while (end < have.length && !have[end]) end++;
      for (let k = next; k < end; k++) out.push(STREAM[k]!);
      have.fill(1, next, end);
      next = end;
      for (let d = q.takeFirst(at(next)); d; d = q.takeFirst(at(next))) {
        for (const b of d) out.push(b);
        next += d.length;
      }
      assert.ok(next >= have.length || !have[next], 'everything contiguous was taken');
    }
    // The queue holds exactly the bytes the model holds beyond RCV.NXT, as maximal runs.
    if (i % 997 === 0) {
      const want: Array<[number, number]> = [];
      for (let k = next; k < have.length; k++) {
        if (!have[k]) continue;
        const start = k;
        while (k < have.length && have[k]) k++;
        want.push([start, k]);
      }
      assert.deepEqual(runs(q), want);
      assert.equal(q.bytes, want.reduce((n, [a, b]) => n + b - a, 0));
    }
  }
  assert.deepEqual(new Uint8Array(out), STREAM.subarray(0, out.length));
});

test('O(log n): 32,767 runs at every other offset, inserted in a random order, then joined by the bytes between, cost a few dozen operations each', () => {
  const n = 32_767;
  const { q, counters } = queue();
  const order = Array.from({ length: n }, (_, k) => 2 + 2 * k);
  const random = xorshift(3);
  for (let i = n - 1; i > 0; i--) {
    const j = random() % (i + 1);
    [order[i], order[j]] = [order[j]!, order[i]!];
  }
  for (const o of order) put(q, o, o + 1);
  assert.equal(q.count, n);
  const inserting = counters.get('tcp.ooo-ops');
  // log2(32767) = 15. An insertion is about eight walks from the root: finding its neighbours, adding
  // the run (and rebalancing on the way back), and finding the runs of the SACK history.
  assert.ok(inserting <= n * 8 * 15, `operations inserting: ${inserting}`);
  // Filling the gaps in the same random order joins runs of every size: copies smaller into larger.
  for (const o of order) put(q, o + 1, o + 2);
  assert.equal(q.count, 1);
  const joining = counters.get('tcp.ooo-ops') - inserting;
  assert.ok(joining <= n * 10 * 15, `operations joining: ${joining}`);
  assert.deepEqual(q.takeFirst(at(2)), STREAM.subarray(2, 2 + 2 * n));
});

test('growth at either end, alternating, copies each byte a bounded number of times (no quadratic copying)', () => {
  const { q } = queue();
  put(q, 60_000, 60_001);
  let copied = 0;
  let lo = 60_000;
  let hi = 60_001;
  for (let i = 0; i < 20_000; i++) {
    const before = q.capacity;
    if (i % 2 === 0) put(q, --lo, lo + 1);
    else put(q, hi, ++hi);
    // A reallocation copies the run: count the bytes copied by how much the buffer grew.
    if (q.capacity !== before) copied += hi - lo;
  }
  assert.equal(q.count, 1);
  assert.ok(copied <= 8 * (hi - lo), `bytes copied: ${copied} for ${hi - lo} held`);
  assert.ok(q.capacity <= 1.5 * q.bytes + 2, `capacity ${q.capacity} for ${q.bytes} bytes`);
  assert.deepEqual(q.takeFirst(at(lo)), STREAM.subarray(lo, hi));
});

test('memory: 20,000 one-byte runs cost at most RUN_COST each on the heap, as the queue accounts them', () => {
  const measure = () => {
    gc();
    gc();
    const m = process.memoryUsage();
    return m.heapUsed + m.arrayBuffers;
  };
  const { q } = queue();
  // Warm the code paths so compiled code is not billed to the runs.
  for (let k = 0; k < 2000; k++) put(q, 2 * k, 2 * k + 1);
  q.takeFirst(at(1 << 20));
  while (q.count > 0) q.takeFirst(at(1 << 20));
  const before = measure();
  const n = 20_000;
  for (let k = 0; k < n; k++) put(q, 2 * k, 2 * k + 1);
  const perRun = (measure() - before) / n;
  assert.equal(q.count, n);
  assert.ok(perRun <= RUN_COST + 1, `heap per one-byte run: ${perRun.toFixed(0)} B`);
  assert.equal(q.memory, n * (RUN_COST + 1));
});

test('SACK blocks (RFC 2018 §4): the run holding the newest segment first, then earlier ones, each run once, at most the number asked', () => {
  const { q } = queue();
  for (const o of [100, 300, 500, 700, 900]) put(q, o, o + 10);
  const block = (a: number, b: number): [number, number] => [at(a), at(b)];
  assert.deepEqual(q.sackBlocks(4), [block(900, 910), block(700, 710), block(500, 510), block(300, 310)]);
  assert.deepEqual(q.sackBlocks(3), [block(900, 910), block(700, 710), block(500, 510)]);
  // Extending an older run brings it to the front; its old place is not repeated.
  put(q, 510, 520);
  assert.deepEqual(q.sackBlocks(4), [block(500, 520), block(900, 910), block(700, 710), block(300, 310)]);
  // A duplicate names its run first too.
  put(q, 702, 705);
  assert.deepEqual(q.sackBlocks(2), [block(700, 710), block(500, 520)]);
  // Runs delivered are no longer reported.
  q.takeFirst(at(100));
  q.takeFirst(at(300));
  assert.deepEqual(q.sackBlocks(4), [block(700, 710), block(500, 520), block(900, 910)]);
});

test('Linux tcp_prune_ofo_queue: at the bound a segment that would land last is dropped; one below prunes from the top, never below itself, and the SACK history is reset', () => {
  const { q, counters } = queue();
  for (const o of [100, 200, 300, 400, 500, 600, 700, 800]) assert.equal(put(q, o, o + 10, 8), 'stored');
  // Beyond the last run: dropped, nothing else changes.
  assert.equal(put(q, 900, 910, 8), 'dropped');
  assert.equal(q.count, 8);
  assert.equal(counters.get('tcp.ooo-dropped'), 1);
  // Joining a run needs no new one: still stored.
  assert.equal(put(q, 810, 820, 8), 'stored');
  // Below the top: the top run goes (a batch of max(1, 8/8) runs), the new one is stored.
  assert.equal(put(q, 650, 660, 8), 'stored');
  assert.deepEqual(
    runs(q).map(([a]) => a),
    [100, 200, 300, 400, 500, 600, 650, 700],
  );
  assert.equal(counters.get('tcp.ooo-pruned'), 1);
  assert.deepEqual(q.sackBlocks(4), [[at(650), at(660)]], 'only the newest block: the rest may be gone');
  // With a bound of 16 a batch is two runs.
  const { q: q2, counters: c2 } = queue();
  for (let k = 1; k <= 16; k++) put(q2, 100 * k, 100 * k + 10, 16);
  put(q2, 1450, 1460, 16);
  assert.equal(c2.get('tcp.ooo-pruned'), 2);
  assert.deepEqual(runs(q2).slice(-2), [[1400, 1410], [1450, 1460]]);
});
