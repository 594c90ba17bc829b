/**
 * The transfer tests: 100 MiB across the simulated link through the
 * socket library and the user-space stack, compared by SHA-256.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { bulk } from './bulk.js';

const MiB = 1024 * 1024;

test('100 MiB under 10% loss, 10% duplication and 10% reordering arrives byte-exact', async () => {
  const r = await bulk(100 * MiB, { latencyMs: 1, loss: 0.1, duplicate: 0.1, reorder: 0.1, reorderMs: 3 }, { seed: 11 });
  assert.equal(r.bytes, 100 * MiB);
  assert.equal(r.received, r.sent);
  // The faults really happened and were repaired.
  assert.ok(r.retransmits > 1000, `retransmits: ${r.retransmits}`);
  assert.ok((r.counters['tcp.fast-retransmit'] ?? 0) > 0);
});

test("under 5% corruption a transfer is byte-exact: the receiver's checksum check drops and counts the damaged segments", async () => {
  const r = await bulk(2 * MiB, { latencyMs: 1, corrupt: 0.05 }, { seed: 13 });
  assert.equal(r.bytes, 2 * MiB);
  assert.equal(r.received, r.sent);
  const dropped = (r.peerCounters['tcp.bad-checksum'] ?? 0) + (r.peerCounters['ipv4.bad-checksum'] ?? 0);
  assert.ok(dropped > 0, `checksum drops at the receiver: ${JSON.stringify(r.peerCounters)}`);
  assert.ok(r.retransmits > 0, 'the dropped segments were sent again');
});

test('100 MiB at 0% loss never retransmits', async () => {
  const r = await bulk(100 * MiB, { latencyMs: 1, bandwidthBps: 10e9 }, { seed: 12 });
  assert.equal(r.bytes, 100 * MiB);
  assert.equal(r.received, r.sent);
  assert.equal(r.retransmits, 0);
  assert.equal(r.counters['tcp.rto'] ?? 0, 0);
  assert.equal(r.counters['tcp.fast-retransmit'] ?? 0, 0);
});
