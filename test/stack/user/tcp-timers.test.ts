/** Keep-alive (RFC 1122 §4.2.3.6, Linux's tcp_keepalive_*) and the delayed-ACK timer (RFC 9293 §3.8.6.3). */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { expectSeg, Harness, pattern, thrown } from './harness.js';

async function keepAlive(keepAliveMs: number, tcp = {}) {
  const h = new Harness({ tcp });
  const { conn } = await h.activeOpen({ mss: 1460 }, { keepAliveMs });
  return { h, conn };
}

test('RFC 1122 §4.2.3.6: after keepAliveMs idle a keep-alive probe goes: <SEQ=SND.UNA−1><ACK=RCV.NXT>, no data', async () => {
  const { h } = await keepAlive(10_000);
  h.advance(9_999);
  h.none();
  h.advance(1);
  const probe = h.one();
  expectSeg(probe, { flags: '.', seq: 0, ack: 1, len: 0 });
  assert.equal(h.counter('tcp.keepalive'), 1);
});

test('RFC 1122 §4.2.3.6: the probe sequence number follows SND.UNA after data was exchanged', async () => {
  const { h, conn } = await keepAlive(10_000);
  conn.write(pattern(100));
  h.one();
  h.send({ flags: 'P.', seq: 1, ack: 101, data: 20 });
  h.advance(40);
  h.one();
  h.advance(10_000);
  expectSeg(h.one(), { flags: '.', seq: 100, ack: 21, len: 0 });
});

test('tcp_keepalive_intvl, tcp_keepalive_probes: unanswered probes go every keepAliveIntervalMs; after keepAliveProbes the connection fails with ETIMEDOUT', async () => {
  const { h, conn } = await keepAlive(10_000, { keepAliveIntervalMs: 1000, keepAliveProbes: 3 });
  h.advance(12_999);
  assert.deepEqual(
    h.take().map((o) => [o.at, o.seq]),
    [
      [10_000, 0],
      [11_000, 0],
      [12_000, 0],
    ],
  );
  assert.equal(h.state(), 'ESTABLISHED');
  h.advance(1);
  assert.equal(h.state(), 'none');
  assert.equal(thrown(() => conn.read(new Uint8Array(1))), 'ETIMEDOUT');
});

test('Linux defaults: probes every 75 s, 9 of them: an idle dead peer is given up 60 s + 9 × 75 s after the last word', async () => {
  const { h } = await keepAlive(60_000);
  h.advance(60_000 + 9 * 75_000 - 1);
  const times = h.take().map((o) => o.at);
  assert.deepEqual(
    times,
    Array.from({ length: 9 }, (_, i) => 60_000 + i * 75_000),
  );
  assert.equal(h.state(), 'ESTABLISHED');
  h.advance(1);
  assert.equal(h.state(), 'none');
});

test('RFC 1122 §4.2.3.6: an answered probe resets the count: a live peer is probed forever and never timed out', async () => {
  const { h } = await keepAlive(10_000, { keepAliveIntervalMs: 1000, keepAliveProbes: 3 });
  const times: number[] = [];
  while (h.now() < 200_000) {
    if (h.step() === null) break;
    for (const o of h.take()) {
      expectSeg(o, { flags: '.', seq: 0, ack: 1, len: 0 });
      times.push(o.at);
      h.send({ flags: '.', seq: 1, ack: 1 });
    }
  }
  assert.equal(h.state(), 'ESTABLISHED');
  // One probe per keepAliveMs of silence after each answer.
  assert.deepEqual(times.slice(0, 4), [10_000, 20_000, 30_000, 40_000]);
});

test('RFC 1122 §4.2.3.6: traffic from the peer pushes the first probe back', async () => {
  const { h } = await keepAlive(10_000);
  h.advance(5_000);
  h.send({ flags: 'P.', seq: 1, ack: 1, data: 10 });
  h.advance(40);
  h.one();
  h.advance(9_959);
  h.none();
  h.advance(1);
  expectSeg(h.one(), { flags: '.', seq: 0, ack: 11, len: 0 });
});

test('RFC 1122 §4.2.3.6: keep-alive is off by default: an idle connection sends nothing for hours', async () => {
  const h = new Harness();
  await h.activeOpen();
  h.advance(3 * 3600_000);
  h.none();
  assert.equal(h.state(), 'ESTABLISHED');
});

test('setOptions({ keepAliveMs }) turns keep-alive on for an established connection', async () => {
  const h = new Harness();
  const { conn } = await h.activeOpen();
  h.advance(1000);
  conn.setOptions({ keepAliveMs: 5000 });
  h.none();
  // Idle since the handshake at 0: the first probe is due at 5 s.
  h.advance(3_999);
  h.none();
  h.advance(1);
  expectSeg(h.one(), { flags: '.', seq: 0, ack: 1, len: 0 });
  conn.setOptions({ keepAliveMs: 0 });
  h.advance(600_000);
  h.none('off again');
});

test('RFC 9293 §3.8.6.3: delayedAckMs sets the delayed-ACK timer (200 ms here)', async () => {
  const h = new Harness({ tcp: { delayedAckMs: 200 } });
  await h.activeOpen();
  h.send({ flags: 'P.', seq: 1, ack: 1, data: 10 });
  h.advance(199);
  h.none();
  h.advance(1);
  expectSeg(h.one(), { flags: '.', seq: 1, ack: 11 });
});

test('RFC 9293 §3.8.6.3: the delayed-ACK timer is not restarted by later segments (ACK within 40 ms of the first)', async () => {
  const h = new Harness();
  await h.activeOpen();
  h.send({ flags: 'P.', seq: 1, ack: 1, data: 10 });
  h.advance(30);
  h.send({ flags: 'P.', seq: 11, ack: 1, data: 10 });
  h.advance(10);
  expectSeg(h.one(), { flags: '.', ack: 21 });
});
