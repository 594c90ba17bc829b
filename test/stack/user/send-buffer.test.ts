import assert from 'node:assert/strict';
import { test } from 'node:test';
import { SendBuffer } from '../../../src/stack/user/tcp/send-buffer.js';

// Found on a TUN: the static file server reads a file into one Buffer and reuses it for the next
// read; a Buffer's slice() is a view, so the send buffer held bytes the next read overwrote and a
// 20 MiB download came out with a later 128 KiB of the file in place of the right one.
test('SendBuffer copies a Node Buffer it is given: the caller may reuse it at once', () => {
  const buffer = new SendBuffer(1 << 20);
  const data = Buffer.alloc(8192, 1);
  buffer.push(data);
  data.fill(2);
  const kept = buffer.peek(0, 8192);
  assert.equal(kept.length, 8192);
  assert.ok(kept.every((b) => b === 1), 'the bytes written, not the ones the caller put there later');
});
