import assert from 'node:assert/strict';
import { test } from 'node:test';
import { DescriptorTable } from '../../src/socket/descriptors.js';

test('the table hands out the lowest free descriptor, even after many frees in any order', () => {
  const table = new DescriptorTable<string>(1000);
  const fds = Array.from({ length: 100 }, (_, i) => table.allocate(`s${i}`));
  assert.deepEqual(fds, Array.from({ length: 100 }, (_, i) => i + 3));
  for (const fd of [50, 7, 90, 3, 60]) assert.equal(table.release(fd), `s${fd - 3}`);
  assert.equal(table.release(7), undefined, 'releasing twice finds nothing');
  assert.deepEqual([1, 2, 3, 4, 5, 6].map(() => table.allocate('x')), [3, 7, 50, 60, 90, 103]);
  assert.equal(table.size, 101);
});

test('the table refuses past its limit', () => {
  const table = new DescriptorTable<number>(2);
  assert.equal(table.allocate(1), 3);
  assert.equal(table.allocate(2), 4);
  assert.equal(table.allocate(3), -1);
  table.release(3);
  assert.equal(table.allocate(4), 3);
});
