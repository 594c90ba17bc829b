/** The simulated link: routing by destination, delay arithmetic, queues, faults at the right rates, determinism. */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { SimulatedLink as Link, SimulatedPort as LinkDevice } from '../../src/link/simulated-link.js';
import { Network } from '../../src/link/network.js';

/** A minimal IPv4-shaped packet: destination at bytes 16..20 and a 32-bit id at 20..24. */
function packet(dst: string, id: number, size = 100): Uint8Array {
  const bytes = new Uint8Array(size);
  bytes[0] = 0x45;
  bytes.set(dst.split('.').map(Number), 16);
  new DataView(bytes.buffer).setUint32(20, id);
  return bytes;
}

const idOf = (bytes: Uint8Array) => new DataView(bytes.buffer, bytes.byteOffset).getUint32(20);

/** Records (time, id) of everything `device` receives. */
function record(link: Link, device: LinkDevice): Array<[number, number]> {
  const got: Array<[number, number]> = [];
  device.receive = (bytes) => got.push([link.clock.now(), idOf(bytes)]);
  return got;
}

test('a packet goes to the device owning its destination, after latencyMs, never inside send', () => {
  const net = new Network({ seed: 1 });
  const lan = net.link({ latencyMs: 5 });
  const a = lan.attach('10.0.0.1');
  const b = lan.attach('10.0.0.2');
  const c = lan.attach('10.0.0.3');
  const atB = record(lan, b);
  const atC = record(lan, c);
  assert.equal(a.mtu, 1500);
  a.send(packet('10.0.0.2', 1));
  a.send(packet('10.0.0.3', 2));
  a.send(packet('10.0.0.9', 3));
  a.send(new Uint8Array(10));
  assert.deepEqual(atB, []);
  net.clock.advance(4.999);
  assert.deepEqual(atB, []);
  net.clock.advance(0.001);
  assert.deepEqual(atB, [[5, 1]]);
  assert.deepEqual(atC, [[5, 2]]);
  assert.equal(lan.stats.noRoute, 2);
  assert.equal(lan.stats.sent, 4);
  assert.equal(lan.stats.delivered, 2);
  assert.throws(() => lan.attach('10.0.0.2'), /already attached/);
  assert.throws(() => lan.attach('10.0.0.256'), /not a dotted IPv4/);
});

test('zero delay still delivers through a timer', () => {
  const net = new Network({ seed: 1 });
  const lan = net.link();
  const a = lan.attach('10.0.0.1');
  const b = lan.attach('10.0.0.2');
  const atB = record(lan, b);
  a.send(packet('10.0.0.2', 7));
  assert.deepEqual(atB, []);
  assert.equal(net.clock.pending, 1);
  net.clock.advance(0);
  assert.deepEqual(atB, [[0, 7]]);
});

test('serialisation: 1500 B at 12 Mbit/s takes 1 ms, back-to-back packets queue behind each other', () => {
  const net = new Network({ seed: 1 });
  const lan = net.link({ latencyMs: 5, bandwidthBps: 12_000_000 });
  const a = lan.attach('10.0.0.1');
  const b = lan.attach('10.0.0.2');
  const c = lan.attach('10.0.0.3');
  const atB = record(lan, b);
  const atC = record(lan, c);
  for (let i = 0; i < 3; i++) a.send(packet('10.0.0.2', i, 1500));
  // Another direction has its own transmitter, so it does not wait behind a → b.
  a.send(packet('10.0.0.3', 9, 750));
  net.clock.advance(3.5);
  // After the queue has drained the link is idle again: no waiting.
  net.clock.setTimer(0, () => a.send(packet('10.0.0.2', 3, 1500)));
  net.clock.advance(100);
  assert.deepEqual(atB, [[6, 0], [7, 1], [8, 2], [9.5, 3]]);
  assert.deepEqual(atC, [[5.5, 9]]);
});

test('drop-tail: a direction queues at most queueBytes', () => {
  const net = new Network({ seed: 1 });
  const lan = net.link({ bandwidthBps: 12_000_000, queueBytes: 3000 });
  const a = lan.attach('10.0.0.1');
  const b = lan.attach('10.0.0.2');
  const atB = record(lan, b);
  for (let i = 0; i < 5; i++) a.send(packet('10.0.0.2', i, 1500));
  assert.equal(lan.stats.queueDrops, 3);
  // 1 ms later one packet (1500 B) is still queued, so exactly one more fits.
  net.clock.advance(1);
  a.send(packet('10.0.0.2', 5, 1500));
  a.send(packet('10.0.0.2', 6, 1500));
  net.clock.advance(10);
  assert.equal(lan.stats.queueDrops, 4);
  assert.deepEqual(atB, [[1, 0], [2, 1], [3, 5]]);
});

test('packets over the MTU are dropped and counted', () => {
  const net = new Network({ seed: 1 });
  const lan = net.link({ mtu: 1280 });
  const a = lan.attach('10.0.0.1');
  const b = lan.attach('10.0.0.2');
  const atB = record(lan, b);
  assert.equal(a.mtu, 1280);
  a.send(packet('10.0.0.2', 1, 1281));
  a.send(packet('10.0.0.2', 2, 1280));
  net.clock.advance(1);
  assert.equal(lan.stats.tooBig, 1);
  assert.deepEqual(atB, [[0, 2]]);
});

test('loss, duplication and reordering happen at about their rates over 10k packets', () => {
  const net = new Network({ seed: 5 });
  const lan = net.link({ latencyMs: 10, loss: 0.1, duplicate: 0.05, reorder: 0.2, reorderMs: 4 });
  const a = lan.attach('10.0.0.1');
  const b = lan.attach('10.0.0.2');
  const atB = record(lan, b);
  const n = 10_000;
  for (let i = 0; i < n; i++) net.clock.setTimer(i * 0.1, () => a.send(packet('10.0.0.2', i)));
  net.clock.advance(n * 0.1 + 20);
  const { lost, duplicated, reordered, delivered } = lan.stats;
  const near = (value: number, want: number, name: string) => assert.ok(Math.abs(value - want) < want * 0.12, `${name}: ${value}, expected about ${want}`);
  near(lost, n * 0.1, 'lost');
  near(duplicated, n * 0.9 * 0.05, 'duplicated');
  near(reordered, (n * 0.9 + duplicated) * 0.2, 'reordered');
  assert.equal(delivered, n - lost + duplicated);
  assert.equal(atB.length, delivered);
  // Reordered packets were held back by (0, 4] ms, so some arrive after a later-sent one.
  let inversions = 0;
  for (let i = 1; i < atB.length; i++) if (atB[i]![1] < atB[i - 1]![1]) inversions++;
  assert.ok(inversions > 100, `inversions ${inversions}`);
  for (const [time, id] of atB) {
    const delay = time - id * 0.1;
    assert.ok(delay >= 10 - 1e-9 && delay <= 14 + 1e-9, `packet ${id} took ${delay} ms`);
  }
});

test('same seed, same delivery sequence; another seed differs', () => {
  function trace(seed: number): string {
    const net = new Network({ seed });
    const lan = net.link({ latencyMs: 1, bandwidthBps: 100_000_000, loss: 0.05, duplicate: 0.02, reorder: 0.1, reorderMs: 2 });
    const a = lan.attach('10.0.0.1');
    const b = lan.attach('10.0.0.2');
    const atB = record(lan, b);
    // b answers every packet, so faults in one direction shape the other.
    b.receive = (bytes) => {
      atB.push([net.clock.now(), idOf(bytes)]);
      b.send(packet('10.0.0.1', idOf(bytes) + 1_000_000, 60));
    };
    const atA = record(lan, a);
    for (let i = 0; i < 2000; i++) net.clock.setTimer(i * 0.05, () => a.send(packet('10.0.0.2', i, 1000)));
    net.clock.advance(1000);
    return JSON.stringify([atA, atB, lan.stats]);
  }
  assert.equal(trace(11), trace(11));
  assert.notEqual(trace(11), trace(12));
});

test('a tap sees every packet at send time, before faults', () => {
  const net = new Network({ seed: 1 });
  const lan = net.link({ latencyMs: 3, loss: 1 });
  const seen: Array<[number, number]> = [];
  lan.capture({ packet: (time, bytes) => seen.push([time, idOf(bytes)]) });
  const a = lan.attach('10.0.0.1');
  lan.attach('10.0.0.2');
  net.clock.setTimer(2, () => a.send(packet('10.0.0.2', 1)));
  net.clock.setTimer(4.5, () => a.send(packet('10.0.0.2', 2)));
  net.clock.advance(10);
  assert.deepEqual(seen, [[2, 1], [4.5, 2]]);
  assert.equal(lan.stats.lost, 2);
  assert.equal(lan.stats.delivered, 0);
});

test('setParams changes faults mid-run; detach and down make a peer vanish', () => {
  const net = new Network({ seed: 1 });
  const lan = net.link({ latencyMs: 1 });
  const a = lan.attach('10.0.0.1');
  let b = lan.attach('10.0.0.2');
  let atB = record(lan, b);
  a.send(packet('10.0.0.2', 1));
  net.clock.advance(2);
  lan.setParams({ loss: 1 });
  a.send(packet('10.0.0.2', 2));
  net.clock.advance(2);
  lan.setParams({ loss: 0 });
  // Down: what is in flight to it and what it sends disappear.
  a.send(packet('10.0.0.2', 3));
  b.up = false;
  b.send(packet('10.0.0.1', 4));
  net.clock.advance(2);
  b.up = true;
  a.send(packet('10.0.0.2', 5));
  net.clock.advance(2);
  assert.deepEqual(atB, [[1, 1], [7, 5]]);
  assert.equal(lan.stats.down, 2);
  // Detach: the address becomes unknown, and can be attached again.
  a.send(packet('10.0.0.2', 6));
  lan.detach(b);
  a.send(packet('10.0.0.2', 7));
  net.clock.advance(2);
  assert.equal(lan.stats.down, 3);
  assert.equal(lan.stats.noRoute, 1);
  b = lan.attach('10.0.0.2');
  atB = record(lan, b);
  a.send(packet('10.0.0.2', 8));
  net.clock.advance(2);
  assert.deepEqual(atB, [[11, 8]]);
});

test('a duplicated packet arrives as two separate buffers', () => {
  const net = new Network({ seed: 1 });
  const lan = net.link({ duplicate: 1 });
  const a = lan.attach('10.0.0.1');
  const b = lan.attach('10.0.0.2');
  const got: Uint8Array[] = [];
  b.receive = (bytes) => got.push(bytes);
  a.send(packet('10.0.0.2', 1));
  net.clock.advance(0);
  assert.equal(got.length, 2);
  assert.notEqual(got[0]!.buffer, got[1]!.buffer);
  assert.deepEqual(got[0], got[1]);
});
