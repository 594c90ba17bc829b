/**
 * Many connections at once, and a large transfer whose memory stays bounded
 * because backpressure works, on both stacks. The simulated link simulates
 * every packet, so its transfers are smaller (`sized`); each is still many
 * times the socket buffers, which is what backpressure is about.
 */
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { dial, echoLoop, readExactly } from '../helpers.js';
import { connectPair, eachStack, listenOn, sized } from './stacks.js';

eachStack('500 concurrent connections each echo their own message', async ({ client: { lib }, server }) => {
  const { fd: listener, port } = await listenOn(server, 1024);
  const serving = echoLoop(server.lib, listener);
  const N = 500;
  const fds = await Promise.all(Array.from({ length: N }, () => dial(lib, port, server.address)));
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
  await server.lib.close(listener);
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

eachStack('256 MiB (simulated: 16 MiB) of distinct chunks arrive intact while RSS stays within 64 MiB of where it started (backpressure)', async (net, t) => {
  const TOTAL = sized(net, 256, 16) * MiB;
  const { lib } = net.client;
  const { fd: client, conn, close } = await connectPair(net);
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
    const n = await net.server.lib.read(conn, buf);
    if (n === 0) break;
    received.update(buf.subarray(0, n));
    got += n;
    if (i % 16 === 0) sample();
  }
  await writing;
  sample();
  clearInterval(sampler);
  await close();
  assert.equal(got, TOTAL);
  assert.equal(received.digest('hex'), sent.digest('hex'));
  const grew = (peak - baseline) / MiB;
  t.diagnostic(`RSS grew by ${grew.toFixed(1)} MiB`);
  assert.ok(grew < 64, `RSS grew by ${grew.toFixed(1)} MiB while moving ${TOTAL / MiB} MiB of distinct chunks`);
});

eachStack('a reader that stops reading stalls the writer within the socket buffers; then everything arrives', async (net, t) => {
  const TOTAL = sized(net, 64, 8) * MiB;
  const { lib } = net.client;
  const { fd: client, conn, close } = await connectPair(net);
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
  await net.sleep(400);
  const stalledAt = written;
  await net.sleep(200);
  assert.equal(written, stalledAt, 'no progress while nobody reads');
  t.diagnostic(`writer stalled after ${stalledAt} bytes`);
  assert.ok(stalledAt > 0 && stalledAt < 32 * MiB, `writer stalled after ${stalledAt} bytes, bounded by socket buffers`);
  // The user stack holds exactly what its buffers allow (SO_SNDBUF + SO_RCVBUF); Linux autotunes its own, hence the looser bound above.
  if (net.name === 'user') {
    const { sendBufferSize, recvBufferSize } = await lib.getsockopt(client);
    assert.ok(stalledAt <= sendBufferSize + recvBufferSize, `${stalledAt} bytes taken, more than the ${sendBufferSize + recvBufferSize} the two buffers hold`);
  }

  const received = createHash('sha256');
  const buf = new Uint8Array(CHUNK);
  let got = 0;
  for (;;) {
    const n = await net.server.lib.read(conn, buf);
    if (n === 0) break;
    received.update(buf.subarray(0, n));
    got += n;
  }
  await writing;
  assert.equal(got, TOTAL);
  assert.equal(received.digest('hex'), sent.digest('hex'));
  await close();
});
