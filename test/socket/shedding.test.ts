/** The order in which a full server sheds connections: idle before slow, the oldest of each first, busy never. */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { ShedOrder } from '../../src/socket/shedding.js';
import { xorshift } from '../prng.js';

function drain<K>(order: ShedOrder<K>): K[] {
  const out: K[] = [];
  for (let k = order.pick(); k !== undefined; k = order.pick()) out.push(k);
  return out;
}

test('idle connections go first, the longest idle first; then slow ones, the longest in progress first', () => {
  const order = new ShedOrder<string>();
  order.slow('s1');
  order.idle('i1');
  order.slow('s2');
  order.idle('i2');
  assert.equal(order.size, 4);
  assert.deepEqual(drain(order), ['i1', 'i2', 's1', 's2']);
  assert.equal(order.size, 0);
  assert.equal(order.pick(), undefined);
});

test('a busy connection is never picked; idle again, it goes to the back; slow again, it keeps its place', () => {
  const order = new ShedOrder<number>();
  for (const k of [1, 2, 3]) order.idle(k);
  order.busy(1);
  order.idle(1); // a kept-alive connection after its response: the most recently idle
  order.idle(2); // already idle: keeps its place
  order.slow(7);
  order.slow(8);
  order.slow(7); // more bytes of the same head: still the slowest
  order.busy(3);
  order.busy(99); // unknown: nothing happens
  order.idle(4);
  order.forget(4); // gone
  order.forget(99);
  assert.deepEqual(drain(order), [2, 1, 7, 8]);
});

test('idle after slow moves a connection to the idle tier (its request was answered)', () => {
  const order = new ShedOrder<string>();
  order.slow('a');
  order.idle('b');
  order.idle('a');
  assert.deepEqual(drain(order), ['b', 'a']);
});

test('random operations agree with a plain model', () => {
  const next = xorshift(12);
  const int = (n: number) => next() % n;
  const order = new ShedOrder<number>();
  // The model: a list per tier, in order of entry.
  const idle: number[] = [];
  const slow: number[] = [];
  const remove = (k: number) => {
    for (const list of [idle, slow]) {
      const i = list.indexOf(k);
      if (i >= 0) list.splice(i, 1);
    }
  };
  for (let step = 0; step < 20_000; step++) {
    const k = int(50);
    const op = int(4);
    if (op === 0) {
      if (!idle.includes(k)) (remove(k), idle.push(k));
      order.idle(k);
    } else if (op === 1) {
      if (!slow.includes(k)) (remove(k), slow.push(k));
      order.slow(k);
    } else if (op === 2) {
      remove(k);
      if (k % 2) order.busy(k);
      else order.forget(k);
    } else {
      const want = idle.length > 0 ? idle.shift() : slow.shift();
      assert.equal(order.pick(), want, `step ${step}`);
    }
    assert.equal(order.size, idle.length + slow.length);
  }
});
