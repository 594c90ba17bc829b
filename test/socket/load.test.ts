/** Many connections at once, and a large transfer whose memory stays bounded because backpressure works. */
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { after, test } from 'node:test';
import { dial, echoLoop, kernelLibrary, listenLoopback, readExactly } from '../helpers.js';

const lib = kernelLibrary();
after(() => lib.closeAll());

test('500 concurrent connections each echo their own message', async () => {
  const server = kernelLibrary('server');
  const { fd: listener, port } = await listenLoopback(server, 1024);
  const serving = echoLoop(server, listener);
  const N = 500;
  const fds = await Promise.all(Array.from({ length: N }, () => dial(lib, port)));
  assert.equal(new Set(fds).size, N, 'every connection has its own descriptor');
  assert.equal(lib.openCount, N);
  const results = await Promise.all(
    fds.map(async (fd, i) => {
      const message = Buffer.from(`connection ${i} says hello`);
      await lib.write(fd, message);
      const back = await readExactly(lib, fd, message.length);
      await lib.close(fd);
      return back.equals(message);
    }),
  );
  assert.equal(results.filter(Boolean).length, N);
  assert.equal(lib.openCount, 0);
  await server.close(listener);
  await serving;
});

/** A deterministic stream of bytes, so both ends can hash what should pass without keeping it. */
function pattern(size: number, seed: number): Uint8Array {
  const out = new Uint8Array(size);
  let x = seed >>> 0 || 1;
  for (let i = 0; i < size; i++) {
    x ^= x << 13;
    x ^= x >>> 17;
    x ^= x << 5;
    out[i] = x & 0xff;
  }
  return out;
}

const CHUNK = 64 * 1024;
const BASE = pattern(CHUNK, 1);

/**
 * Chunk number `i`: a fresh allocation with its own contents (the pattern, stamped with its
 * number). A library that queued instead of waiting would have to keep every one of them, so
 * memory measures copies held, not references to a few reused buffers.
 */
function freshChunk(i: number): Uint8Array {
  const out = new Uint8Array(CHUNK);
  out.set(BASE);
  new DataView(out.buffer).setUint32(0, i);
  return out;
}

const MiB = 1024 * 1024;

test('256 MiB of distinct chunks arrive intact while RSS stays within 64 MiB of where it started (backpressure)', async (t) => {
  const TOTAL = 256 * MiB;
  const { fd: listener, port } = await listenLoopback(lib);
  const client = await dial(lib, port);
  const conn = await lib.accept(listener);
  // No gc() here (npm test runs without --expose-gc): the bound must hold with garbage included.
  const baseline = process.memoryUsage.rss();
  let peak = baseline;
  // Sampled inside both loops as well as on a timer: a writer that never waits would never let a timer run.
  const sample = () => (peak = Math.max(peak, process.memoryUsage.rss()));
  const sampler = setInterval(sample, 10);

  const sent = createHash('sha256');
  let written = 0;
  const writing = (async () => {
    for (let i = 0; written < TOTAL; i++) {
      const chunk = freshChunk(i);
      sent.update(chunk);
      written += await lib.write(client, chunk);
      if (i % 16 === 0) sample();
    }
    await lib.shutdown(client, 'write');
  })();

  const received = createHash('sha256');
  const buf = new Uint8Array(CHUNK);
  let got = 0;
  for (let i = 0; ; i++) {
    const n = await lib.read(conn, buf);
    if (n === 0) break;
    received.update(buf.subarray(0, n));
    got += n;
    if (i % 16 === 0) sample();
  }
  await writing;
  sample();
  clearInterval(sampler);
  for (const d of [client, conn, listener]) await lib.close(d);
  assert.equal(got, TOTAL);
  assert.equal(received.digest('hex'), sent.digest('hex'));
  const grew = (peak - baseline) / MiB;
  t.diagnostic(`RSS grew by ${grew.toFixed(1)} MiB`);
  assert.ok(grew < 64, `RSS grew by ${grew.toFixed(1)} MiB while moving 256 MiB of distinct chunks`);
});

test('a reader that stops reading stalls the writer within the socket buffers; then everything arrives', async () => {
  const TOTAL = 64 * MiB;
  const { fd: listener, port } = await listenLoopback(lib);
  const client = await dial(lib, port);
  const conn = await lib.accept(listener);
  const sent = createHash('sha256');
  let written = 0;
  const writing = (async () => {
    for (let i = 0; written < TOTAL; i++) {
      const chunk = freshChunk(i);
      sent.update(chunk);
      written += await lib.write(client, chunk);
    }
    await lib.shutdown(client, 'write');
  })();

  // The reader does not read. The writer must stop once the buffers are full.
  await new Promise((r) => setTimeout(r, 400));
  const stalledAt = written;
  await new Promise((r) => setTimeout(r, 200));
  assert.equal(written, stalledAt, 'no progress while nobody reads');
  assert.ok(stalledAt > 0 && stalledAt < 32 * MiB, `writer stalled after ${stalledAt} bytes, bounded by socket buffers`);

  const received = createHash('sha256');
  const buf = new Uint8Array(CHUNK);
  let got = 0;
  for (;;) {
    const n = await lib.read(conn, buf);
    if (n === 0) break;
    received.update(buf.subarray(0, n));
    got += n;
  }
  await writing;
  assert.equal(got, TOTAL);
  assert.equal(received.digest('hex'), sent.digest('hex'));
  for (const d of [client, conn, listener]) await lib.close(d);
});
