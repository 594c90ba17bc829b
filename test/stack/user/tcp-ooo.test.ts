/**
 * The out-of-order queue under attack and under pressure (issue 12, point 4):
 * a peer that sends one byte at every other offset of a 64 KiB window must
 * cost O(log n) per segment (counted in the queue's operations, not in wall
 * time), hold memory close to what it stores, and be pruned as Linux prunes
 * (tcp_prune_ofo_queue: drop from the highest sequence, never below the
 * arriving segment; a segment that would land last is dropped unACKed).
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import v8 from 'node:v8';
import vm from 'node:vm';
import { RUN_COST } from '../../../src/stack/user/tcp/ooo-queue.js';
import { RecvBuffer } from '../../../src/stack/user/tcp/recv-buffer.js';
import { expectSeg, Harness, pattern, readAll } from './harness.js';
import { xorshift } from '../../prng.js';

v8.setFlagsFromString('--expose-gc');
const gc = vm.runInNewContext('gc') as () => void;

/** Heap and array-buffer bytes in use after full collections. */
function memory(): number {
  gc();
  gc();
  const m = process.memoryUsage();
  return m.heapUsed + m.arrayBuffers;
}

/** Offsets 2, 4, …, 65534 relative to the peer's ISN: one byte each, every other byte of the 64 KiB window. */
const FLOOD = Array.from({ length: 32_767 }, (_, k) => 2 + 2 * k);

async function flood(order: number[]) {
  const h = new Harness();
  const { conn } = await h.passiveOpen({ mss: 1460, sack: true });
  const t = h.tcb();
  assert.equal(((t.rcvAdv - t.rcvNxt) | 0), 65535, 'a 64 KiB window');
  const before = memory();
  for (let i = 0; i < order.length; i++) {
    h.send({ flags: '.', seq: order[i]!, ack: 1, data: 1 });
    // The ACKs sent are not what is measured: let them go.
    if (i % 1024 === 0) h.device.sent.length = 0;
  }
  h.device.sent.length = 0;
  const held = memory() - before;
  return { h, conn, t, held };
}

for (const [name, order] of [
  ['in ascending order', FLOOD],
  ['in a seeded random order', shuffle(FLOOD, 12)],
] as const) {
  test(`issue 12: 32,767 one-byte segments at every other offset of a 64 KiB window, ${name}, cost O(log n) each and little memory`, async () => {
    const { h, conn, t, held } = await flood(order);
    const ops = h.counter('tcp.ooo-ops');
    // A sorted list scanned per segment costs n²/2 ≈ 5·10^8 steps here; a balanced tree a few dozen per segment.
    assert.ok(ops > 0, 'the queue counts its operations');
    assert.ok(ops <= 32_767 * 64, `queue operations: ${ops} (${(ops / 32_767).toFixed(1)} per segment)`);
    // Memory: the bytes held plus a bounded overhead per run (a quarter of the buffer at most), by the
    // queue's account (ooo-queue.test.ts checks the account against the heap) and on the heap itself,
    // where the old queue held 10 MB (about 300 B per byte held). The heap figure is loose: a measurement
    // of a few hundred kilobytes moves by about that much between runs.
    const runs = t.recvBuf.runs;
    assert.ok(runs <= RecvBuffer.maxRuns(t.options.recvBufferSize), `runs held: ${runs}`);
    assert.ok(t.recvBuf.pendingMemory <= t.recvBuf.pendingBytes * 1.5 + runs * RUN_COST, `queue memory ${t.recvBuf.pendingMemory} B`);
    assert.ok(t.recvBuf.pendingMemory <= t.options.recvBufferSize / 4 + t.recvBuf.pendingBytes * 1.5);
    assert.ok(held < 1024 * 1024, `memory held after the flood: ${held} B`);
    assert.ok(h.counter('tcp.ooo-dropped') + h.counter('tcp.ooo-pruned') > 0, 'the flood met the bound');
    // The stream is intact: once the peer sends the window in order, the application reads exactly it.
    for (let seq = 1; seq < 65536; seq += 1460) h.send({ flags: '.', seq, ack: 1, data: Math.min(1460, 65536 - seq) });
    const got = readAll(conn);
    assert.equal(got.length, 65535);
    assert.deepEqual(got, pattern(65535));
    assert.equal(t.recvBuf.runs, 0);
  });
}

test("Linux's tcp_data_queue_ofo at the bound: a segment that would land last is dropped without an ACK; one below the last run prunes from the top and the SACK history restarts", async () => {
  const h = new Harness();
  // An 8 KiB buffer allows 8 runs.
  const { conn } = await h.passiveOpen({ mss: 1460, sack: true }, { recvBufferSize: 8192 });
  assert.equal(RecvBuffer.maxRuns(8192), 8);
  for (let k = 1; k <= 8; k++) {
    h.send({ flags: '.', seq: 200 * k, ack: 1, data: 100 });
    expectSeg(h.one(), { flags: '.', ack: 1 });
  }
  h.send({ flags: '.', seq: 1800, ack: 1, data: 100 });
  h.none('dropped unacknowledged: it would land last');
  assert.equal(h.counter('tcp.ooo-dropped'), 1);
  // Joining a run needs no new one.
  h.send({ flags: '.', seq: 1700, ack: 1, data: 50 });
  expectSeg(h.one(), { ack: 1, sack: [[1600, 1750], [1400, 1500], [1200, 1300], [1000, 1100]] });
  // A new run below the top one: the top run is pruned, the SACK blocks start afresh.
  h.send({ flags: '.', seq: 1550, ack: 1, data: 10 });
  expectSeg(h.one(), { ack: 1, sack: [[1550, 1560]] });
  assert.equal(h.counter('tcp.ooo-pruned'), 1);
  // The peer resends everything in order (as it would after its timeout): the stream is whole.
  for (let seq = 1; seq < 1900; seq += 300) h.send({ flags: '.', seq, ack: 1, data: Math.min(300, 1900 - seq) });
  assert.deepEqual(readAll(conn), pattern(1899));
});

function shuffle<T>(items: readonly T[], seed: number): T[] {
  const random = xorshift(seed);
  const out = [...items];
  for (let i = out.length - 1; i > 0; i--) {
    const j = random() % (i + 1);
    [out[i], out[j]] = [out[j]!, out[i]!];
  }
  return out;
}
