/**
 * Flow control segment by segment: the window we advertise (RFC 9293
 * §3.8.6, RFC 7323 §2 scaling), silly-window avoidance on both sides
 * (§3.8.6.2), and zero-window probing (§3.8.6.1) in both directions.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { WOULD_BLOCK } from '../../../src/stack/types.js';
import { brief, DEFAULT_OPTIONS, expectSeg, Harness, pattern, readAll, thrown } from './harness.js';

/** A connection whose receive buffer is 4096 bytes and whose windows are unscaled (the peer offered no window scale). */
async function small(tcp = {}) {
  const h = new Harness({ tcp });
  const { conn, syn } = await h.activeOpen({ mss: 1460 }, { recvBufferSize: 4096 });
  return { h, conn, syn };
}

/** A connection the peer opened with a zero window. */
async function closedPeer(tcp = {}) {
  const h = new Harness({ tcp });
  const { conn } = await h.activeOpen({ mss: 1460, window: 0 });
  return { h, conn };
}

test('RFC 7323 §2.3: a 1 MiB receive buffer is offered with shift 7 and advertised as 8192 << 7 after the handshake', async () => {
  const h = new Harness();
  const { syn, ack } = await h.activeOpen({ mss: 1460, wscale: 7 }, { recvBufferSize: 1 << 20 });
  expectSeg(syn, { window: 65535 });
  assert.equal(syn.options.windowScale, 7);
  expectSeg(ack, { window: 8192 });
});

test('RFC 7323 §2.3: a 16 MiB receive buffer needs shift 9 (65535 << 8 is too small), advertised as 32768 << 9', async () => {
  const h = new Harness();
  const { syn, ack } = await h.activeOpen({ mss: 1460, wscale: 7 }, { recvBufferSize: 16 << 20 });
  assert.equal(syn.options.windowScale, 9);
  expectSeg(ack, { window: 32768 });
});

test('RFC 7323 §2.2: when the peer offers no window scale we advertise bytes, at most 65535', async () => {
  const h = new Harness();
  const { syn, ack } = await h.activeOpen({ mss: 1460 }, { recvBufferSize: 1 << 20 });
  assert.equal(syn.options.windowScale, 7, 'we offered');
  expectSeg(ack, { window: 65535 });
});

test('RFC 9293 §3.8.6: the SYN advertises the whole receive buffer when it is below 64 KiB', async () => {
  const { syn } = await small();
  expectSeg(syn, { flags: 'S', window: 4096 });
});

test('RFC 9293 §3.8.6: when the application does not read, the window shrinks to zero as data fills the buffer', async () => {
  const { h } = await small();
  h.send({ flags: '.', seq: 1, ack: 1, data: 1460 });
  h.send({ flags: '.', seq: 1461, ack: 1, data: 1460 });
  expectSeg(h.one(), { flags: '.', ack: 2921, window: 4096 - 2920 });
  h.send({ flags: 'P.', seq: 2921, ack: 1, data: 1176 });
  h.advance(40);
  expectSeg(h.one(), { flags: '.', seq: 1, ack: 4097, window: 0 });
});

test('RFC 9293 §3.8.6: data beyond the advertised window is trimmed: only what fits is taken and acknowledged', async () => {
  const { h, conn } = await small();
  h.send({ flags: 'P.', seq: 1, ack: 1, data: 5000 });
  expectSeg(h.one(), { flags: '.', ack: 4097, window: 0 });
  assert.deepEqual(readAll(conn), pattern(4096));
});

test('RFC 9293 §3.8.6.1: the peer probing our zero window (Linux style, SEQ = RCV.NXT − 1) gets an ACK with window 0', async () => {
  const { h } = await small();
  h.send({ flags: 'P.', seq: 1, ack: 1, data: 4096 });
  h.take();
  h.send({ flags: '.', seq: 4096, ack: 1 });
  expectSeg(h.one(), { flags: '.', seq: 1, ack: 4097, window: 0 });
});

test('RFC 9293 §3.8.6.1: a one-byte probe into our zero window is not taken; the ACK repeats RCV.NXT and window 0', async () => {
  const { h, conn } = await small();
  h.send({ flags: 'P.', seq: 1, ack: 1, data: 4096 });
  h.take();
  h.send({ flags: 'P.', seq: 4097, ack: 1, data: 1 });
  expectSeg(h.one(), { flags: '.', seq: 1, ack: 4097, window: 0 });
  assert.equal(readAll(conn).length, 4096);
});

test('RFC 9293 §3.8.6.2.2: reading everything sends a window update at once', async () => {
  const { h, conn } = await small();
  h.send({ flags: 'P.', seq: 1, ack: 1, data: 4096 });
  h.take();
  assert.equal(readAll(conn).length, 4096);
  expectSeg(h.one(), { flags: '.', seq: 1, ack: 4097, window: 4096 });
});

test('RFC 9293 §3.8.6.2.2 (receiver SWS avoidance): a read freeing less than one MSS sends no update; the next one that makes it an MSS does', async () => {
  const { h, conn } = await small();
  h.send({ flags: 'P.', seq: 1, ack: 1, data: 4096 });
  h.take();
  assert.equal(conn.read(new Uint8Array(1000)), 1000);
  h.none('1000 bytes is a silly window');
  assert.equal(conn.read(new Uint8Array(500)), 500);
  expectSeg(h.one(), { flags: '.', ack: 4097, window: 1500 });
});

test('RFC 9293 §3.8.6.2.2: after a window update the peer can send again, and its data is taken', async () => {
  const { h, conn } = await small();
  h.send({ flags: 'P.', seq: 1, ack: 1, data: 4096 });
  h.take();
  readAll(conn);
  h.take();
  h.send({ flags: 'P.', seq: 4097, ack: 1, data: 100 });
  assert.deepEqual(readAll(conn), pattern(100, 4096));
});

test('RFC 9293 §3.8.6.1: with the peer window 0 nothing is sent, and after an RTO (1 s) a window probe <SEQ=SND.UNA−1><ACK=RCV.NXT> goes', async () => {
  const { h, conn } = await closedPeer();
  conn.write(pattern(100));
  h.none('the window is closed');
  h.advance(999);
  h.none();
  h.advance(1);
  expectSeg(h.one(), { flags: '.', seq: 0, ack: 1, len: 0 });
  assert.equal(h.counter('tcp.window-probe'), 1);
});

test('RFC 9293 §3.8.6.1, RFC 1122 §4.2.2.17: window probes back off exponentially (1, 2, 4, 8 … s) up to maxRtoMs (60 s)', async () => {
  const { h, conn } = await closedPeer();
  conn.write(pattern(100));
  const times: number[] = [];
  while (times.length < 9) {
    if (h.step() === null) break;
    for (const o of h.take()) {
      expectSeg(o, { flags: '.', seq: 0, ack: 1, len: 0 });
      times.push(o.at);
      // The peer answers: still window 0.
      h.send({ flags: '.', seq: 1, ack: 1, window: 0 });
    }
  }
  const gaps = times.map((t, i) => t - (times[i - 1] ?? 0));
  assert.deepEqual(gaps, [1000, 2000, 4000, 8000, 16000, 32000, 60000, 60000, 60000]);
});

test('RFC 1122 §4.2.2.17: a connection whose probes are answered is kept open however long the window stays shut (retries 3)', async () => {
  const { h, conn } = await closedPeer({ retries: 3 });
  conn.write(pattern(100));
  let probes = 0;
  while (h.now() < 3_600_000) {
    if (h.step() === null) break;
    for (const o of h.take()) {
      expectSeg(o, { flags: '.', seq: 0, len: 0 });
      probes++;
      h.send({ flags: '.', seq: 1, ack: 1, window: 0 });
    }
  }
  assert.ok(probes > 50, `${probes} probes in an hour`);
  assert.equal(h.state(), 'ESTABLISHED');
  // The window opens: the data goes at once.
  h.send({ flags: '.', seq: 1, ack: 1, window: 1000 });
  const seg = h.one();
  expectSeg(seg, { flags: 'P.', seq: 1, ack: 1, len: 100 });
  assert.deepEqual(seg.payload, pattern(100));
});

test('RFC 9293 §3.8.6.1: unanswered window probes end the connection with ETIMEDOUT after `retries` (3)', async () => {
  const { h, conn } = await closedPeer({ retries: 3 });
  conn.write(pattern(100));
  h.advance(14_999);
  assert.deepEqual(
    h.take().map((o) => o.at),
    [1000, 3000, 7000],
  );
  assert.equal(h.state(), 'ESTABLISHED');
  h.advance(1);
  assert.equal(h.state(), 'none');
  assert.equal(thrown(() => conn.read(new Uint8Array(1))), 'ETIMEDOUT');
});

test('RFC 9293 §3.8.6.1: a window update opening the window lets the queued data out without waiting for the probe timer', async () => {
  const { h, conn } = await closedPeer();
  conn.write(pattern(3000));
  h.advance(500);
  h.none();
  h.send({ flags: '.', seq: 1, ack: 1, window: 65535 });
  assert.deepEqual(brief(h.take()), ['. 1:1 1460', '. 1461:1 1460', 'P. 2921:1 80']);
  h.send({ flags: '.', seq: 1, ack: 3001, window: 65535 });
  h.advance(120_000);
  h.none('no probe once the window is open');
});

test('RFC 9293 §3.8.6.2.1: a window smaller than the MSS with nothing in flight is used as it is', async () => {
  const { h, conn } = await closedPeer();
  conn.write(pattern(3000));
  h.send({ flags: '.', seq: 1, ack: 1, window: 500 });
  assert.deepEqual(brief(h.take()), ['. 1:1 500']);
  h.send({ flags: '.', seq: 1, ack: 501, window: 500 });
  assert.deepEqual(brief(h.take()), ['. 501:1 500']);
});

test('RFC 9293 §3.8.6.2.1 (sender SWS avoidance): a window-limited piece below half an MSS is not sent while data is in flight', async () => {
  const h = new Harness();
  const { conn } = await h.activeOpen({ mss: 1460, window: 2000 });
  conn.write(pattern(5000));
  // 1460 fits, then only 540 (< 730) would: held.
  assert.deepEqual(brief(h.take()), ['. 1:1 1460']);
  h.send({ flags: '.', seq: 1, ack: 1461, window: 2000 });
  assert.deepEqual(brief(h.take()), ['. 1461:1 1460']);
});

test('RFC 9293 §3.8.6.2.1: a window-limited piece of at least half an MSS goes (Linux fills the window to the byte)', async () => {
  const h = new Harness();
  const { conn } = await h.activeOpen({ mss: 1460, window: 2300 });
  conn.write(pattern(5000));
  assert.deepEqual(brief(h.take()), ['. 1:1 1460', '. 1461:1 840']);
});

test('RFC 9293 §3.8.6.1: the peer closing its window after ACKing everything stops new data; probes go on the RTO (300 ms after a 100 ms RTT)', async () => {
  const h = new Harness();
  const { conn } = await h.activeOpen({ mss: 1460 });
  conn.write(pattern(1460));
  h.one();
  h.advance(100);
  h.send({ flags: '.', seq: 1, ack: 1461, window: 0 });
  conn.write(pattern(1460));
  h.none();
  // RTT 100 ms, so RTO 300 ms: the first probe goes then.
  h.advance(299);
  h.none();
  h.advance(1);
  expectSeg(h.one(), { flags: '.', seq: 1460, len: 0 }, 'a probe, not data');
});

test('RFC 7323 §2.3: the peer window field is scaled by the shift it offered (window 10 << 8 = 2560 bytes)', async () => {
  const h = new Harness();
  const pending = h.connect();
  h.one();
  h.send({ flags: 'S.', seq: 0, ack: 1, options: { mss: 1460, windowScale: 8 }, window: 65535 });
  h.one();
  const conn = (await pending.promise);
  h.send({ flags: '.', seq: 1, ack: 1, window: 10 });
  conn.write(pattern(5000));
  assert.deepEqual(brief(h.take()), ['. 1:1 1460', '. 1461:1 1100']);
});

test('RFC 7323 §2.2: the window field of the SYN-ACK itself is never scaled', async () => {
  const h = new Harness();
  const pending = h.connect();
  h.one();
  h.send({ flags: 'S.', seq: 0, ack: 1, options: { mss: 1460, windowScale: 8 }, window: 1000 });
  h.one();
  const conn = await pending.promise;
  conn.write(pattern(5000));
  assert.deepEqual(brief(h.take()), ['. 1:1 1000']);
});

test('the receive window is measured from RCV.NXT: data read in between does not let the peer overrun the buffer', async () => {
  const { h, conn } = await small();
  h.send({ flags: 'P.', seq: 1, ack: 1, data: 4096 });
  h.take();
  assert.equal(conn.read(new Uint8Array(2048)), 2048);
  const update = h.one();
  expectSeg(update, { ack: 4097, window: 2048 });
  h.send({ flags: 'P.', seq: 4097, ack: 1, data: 3000 });
  h.advance(40);
  expectSeg(h.one(), { ack: 4097 + 2048, window: 0 });
  assert.equal(readAll(conn).length, 2048 + 2048);
  assert.equal(conn.read(new Uint8Array(1)), WOULD_BLOCK);
});

test('setOptions other than a larger receive buffer changes nothing on the wire (SO_SNDBUF draws no window-update ACK, as on Linux)', async () => {
  const h = new Harness();
  const { conn } = await h.passiveOpen({ mss: 1460, wscale: 7 }, { recvBufferSize: 540_000 });
  conn.setOptions({ ...DEFAULT_OPTIONS, recvBufferSize: 540_000, sendBufferSize: 400_000 });
  h.none('no segment for SO_SNDBUF');
  conn.setOptions({ noDelay: true });
  h.none('no segment for TCP_NODELAY');
});
