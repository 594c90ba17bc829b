/** Faults as a decorator around a bare device: each fault at its rate, both directions, any clock. */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { VirtualClock } from '../../src/link/clock.js';
import { FaultyDevice } from '../../src/link/faults.js';
import { Random } from '../../src/link/random.js';
import type { Device } from '../../src/link/types.js';
import { WallClock } from '../../src/link/wall-clock.js';

/** A bare device: records what is sent on it; `inject` plays a packet arriving from the outside. */
class BareDevice implements Device {
  readonly mtu = 1500;
  receive: ((packet: Uint8Array) => void) | null = null;
  readonly sent: Uint8Array[] = [];
  send(packet: Uint8Array): void {
    this.sent.push(packet);
  }
  inject(packet: Uint8Array): void {
    this.receive?.(packet);
  }
}

const packet = (id: number) => new Uint8Array([id & 0xff, id >>> 8, 0, 0, 0, 0, 0, 0]);
const idOf = (p: Uint8Array) => p[0]! | (p[1]! << 8);

test('no faults: packets pass straight through, synchronously, both ways', () => {
  const clock = new VirtualClock();
  const bare = new BareDevice();
  const dev = new FaultyDevice(bare, { clock, random: new Random(1) });
  const got: Uint8Array[] = [];
  dev.receive = (p) => got.push(p);
  const p = packet(1);
  dev.send(p);
  bare.inject(packet(2));
  assert.equal(bare.sent[0], p, 'the same buffer, not a copy');
  assert.deepEqual(got.map(idOf), [2]);
  assert.equal(dev.mtu, 1500);
  assert.equal(clock.pending, 0);
  assert.deepEqual(dev.stats, { seen: 2, lost: 0, duplicated: 0, reordered: 0, corrupted: 0 });
});

test('loss and duplication at about their rates, on the direction asked for only', () => {
  const clock = new VirtualClock();
  const bare = new BareDevice();
  const dev = new FaultyDevice(bare, { clock, random: new Random(2), params: { loss: 0.2, duplicate: 0.1 }, direction: 'send' });
  const got: Uint8Array[] = [];
  dev.receive = (p) => got.push(p);
  const n = 10_000;
  for (let i = 0; i < n; i++) {
    dev.send(packet(i));
    bare.inject(packet(i));
  }
  const { lost, duplicated } = dev.stats;
  assert.ok(Math.abs(lost - n * 0.2) < n * 0.2 * 0.1, `lost ${lost}`);
  assert.ok(Math.abs(duplicated - n * 0.8 * 0.1) < n * 0.8 * 0.1 * 0.15, `duplicated ${duplicated}`);
  assert.equal(bare.sent.length, n - lost + duplicated);
  assert.equal(got.length, n, 'the receive direction is untouched');
  // A duplicate is its own buffer.
  const twins = bare.sent.findIndex((p, i) => i > 0 && idOf(p) === idOf(bare.sent[i - 1]!));
  assert.ok(twins > 0);
  assert.notEqual(bare.sent[twins], bare.sent[twins - 1]);
});

test('delay and reordering hold packets back on the clock, so later ones overtake', () => {
  const clock = new VirtualClock();
  const bare = new BareDevice();
  const dev = new FaultyDevice(bare, { clock, random: new Random(3), params: { delayMs: 5, reorder: 0.3, reorderMs: 2 }, direction: 'receive' });
  const got: Array<[number, number]> = [];
  dev.receive = (p) => got.push([clock.now(), idOf(p)]);
  for (let i = 0; i < 1000; i++) clock.setTimer(i * 0.1, () => bare.inject(packet(i)));
  clock.advance(99.9);
  clock.advance(10);
  assert.equal(got.length, 1000);
  let inversions = 0;
  for (const [i, [time, id]] of got.entries()) {
    const held = time - id * 0.1;
    assert.ok(held >= 5 - 1e-9 && held <= 7 + 1e-9, `packet ${id} held ${held} ms`);
    if (i > 0 && id < got[i - 1]![1]) inversions++;
  }
  assert.ok(inversions > 50, `inversions ${inversions}`);
  assert.ok(Math.abs(dev.stats.reordered - 300) < 60, `reordered ${dev.stats.reordered}`);
});

test('corruption flips exactly one bit of a copy; the sender keeps its bytes', () => {
  const clock = new VirtualClock();
  const bare = new BareDevice();
  const dev = new FaultyDevice(bare, { clock, random: new Random(4), params: { corrupt: 1 } });
  const original = new Uint8Array(64).fill(0xa5);
  for (let i = 0; i < 100; i++) dev.send(original);
  assert.equal(dev.stats.corrupted, 100);
  assert.ok(original.every((b) => b === 0xa5));
  for (const p of bare.sent) {
    let bits = 0;
    for (const [i, b] of p.entries()) for (let x = b ^ original[i]!; x; x &= x - 1) bits++;
    assert.equal(bits, 1);
  }
});

test('the same seed gives the same faults; params changed in place take effect', () => {
  const run = (seed: number) => {
    const bare = new BareDevice();
    const dev = new FaultyDevice(bare, { clock: new VirtualClock(), random: new Random(seed), params: { loss: 0.3, corrupt: 0.3 } });
    for (let i = 0; i < 200; i++) dev.send(packet(i));
    const before = bare.sent.length;
    dev.params.loss = 1;
    dev.send(packet(999));
    assert.equal(bare.sent.length, before, 'loss 1 loses the next packet');
    return bare.sent.map((p) => [...p].join(',')).join(';');
  };
  assert.equal(run(7), run(7));
  assert.notEqual(run(7), run(8));
});

test('runs on the wall clock unchanged', async () => {
  const bare = new BareDevice();
  const dev = new FaultyDevice(bare, { clock: new WallClock(), random: new Random(5), params: { delayMs: 5 } });
  dev.send(packet(1));
  assert.equal(bare.sent.length, 0);
  await new Promise((resolve) => setTimeout(resolve, 30));
  assert.deepEqual(bare.sent.map(idOf), [1]);
});
