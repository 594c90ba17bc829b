/** Active and simultaneous open, segment by segment (RFC 9293 §3.5, §3.10.7.3; RFC 6298 §5.7). */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { brief, expectSeg, flush, Harness, pattern, readAll } from './harness.js';

const FULL = { mss: 1460, sack: true, ts: true, wscale: 7 };

test('RFC 9293 §3.5: our SYN has seq ISS, no ACK, an unscaled window, and MSS, SACK-permitted, timestamps, window scale 7', () => {
  const h = new Harness();
  h.connect();
  const syn = h.one();
  expectSeg(syn, { flags: 'S', seq: 0, ack: 0, window: 65535, len: 0 });
  assert.equal(syn.options.mss, 1460);
  assert.equal(syn.options.sackPermitted, true);
  assert.equal(syn.options.windowScale, 7);
  assert.equal(syn.options.timestamp?.echo, 0);
  assert.equal(h.state(), 'SYN-SENT');
});

test("RFC 9293 §3.1: the SYN's options are laid out as Linux lays them out (MSS, SACK-OK+TS, NOP+WS)", () => {
  const h = new Harness();
  h.connect();
  const syn = h.one();
  assert.equal(syn.bytes[12]! >> 4, 10, 'a 40-byte header');
  const ts = syn.options.timestamp!.value;
  const tsBytes = [ts >>> 24, (ts >>> 16) & 0xff, (ts >>> 8) & 0xff, ts & 0xff];
  assert.deepEqual([...syn.bytes.subarray(20, 40)], [2, 4, 0x05, 0xb4, 4, 2, 8, 10, ...tsBytes, 0, 0, 0, 0, 1, 3, 3, 7]);
});

test('RFC 9293 §3.7.1: the MSS we offer follows the interface MTU (1280 → 1240)', () => {
  const h = new Harness({ mtu: 1280 });
  h.connect();
  assert.equal(h.one().options.mss, 1240);
});

test('RFC 9293 §3.10.7.3: a SYN-ACK that acknowledges our SYN is answered with <SEQ=1><ACK=1><CTL=ACK> and connect() resolves', async () => {
  const h = new Harness();
  const pending = h.connect();
  h.one();
  h.send({ flags: 'S.', seq: 0, ack: 1, options: { mss: 1460 } });
  const ack = h.one();
  expectSeg(ack, { flags: '.', seq: 1, ack: 1, window: 65535, len: 0 });
  assert.deepEqual(ack.options, {}, 'no options when the peer offered none but MSS');
  await flush();
  const conn = pending.value();
  assert.equal(conn.remote.port, 80);
  assert.equal(h.state(), 'ESTABLISHED');
});

test('RFC 7323 §2.2, §3.2: with every option negotiated our ACK carries a timestamp echoing the SYN-ACK and a scaled window', async () => {
  const h = new Harness();
  const pending = h.connect();
  const syn = h.one();
  h.send({ flags: 'S.', seq: 0, ack: 1, options: h.synOptions(FULL, syn.options.timestamp!.value), tsVal: false });
  const ack = h.one();
  expectSeg(ack, { flags: '.', seq: 1, ack: 1, window: 65536 >> 7 });
  assert.equal(ack.options.timestamp?.echo, h.peerTsVal());
  assert.equal(ack.options.sack, undefined);
  await flush();
  assert.ok(pending.settled());
});

test('RFC 9293 §3.10.7.3: our window after the handshake is right whatever the peer ISN (also 2^31 away from zero)', async () => {
  for (const peerIsn of [0, 0x7fffffff, 0x80000000, 0xc0000000, 0xffffffff]) {
    const h = new Harness({ peerIsn });
    const { ack } = await h.activeOpen({ mss: 1460, wscale: 7 });
    expectSeg(ack, { flags: '.', seq: 1, ack: 1, window: 512 }, `peer ISN ${peerIsn}`);
    // And the window is honoured: a full segment is taken and acknowledged.
    h.send({ flags: 'P.', seq: 1, ack: 1, data: 1460 });
    h.send({ flags: 'P.', seq: 1461, ack: 1, data: 1460 });
    expectSeg(h.one(), { flags: '.', seq: 1, ack: 2921 }, `peer ISN ${peerIsn}`);
  }
});

test('RFC 9293 §3.10.7.3: a SYN-ACK acknowledging something we never sent gets <SEQ=SEG.ACK><CTL=RST>, and the open goes on', async () => {
  const h = new Harness();
  const pending = h.connect();
  h.one();
  h.send({ flags: 'S.', seq: 0, ack: 5, options: { mss: 1460 } });
  const rst = h.one();
  expectSeg(rst, { flags: 'R', seq: 5, len: 0 });
  assert.equal(h.state(), 'SYN-SENT');
  h.send({ flags: 'S.', seq: 0, ack: 1, options: { mss: 1460 } });
  expectSeg(h.one(), { flags: '.', seq: 1, ack: 1 });
  await flush();
  assert.ok(pending.settled());
});

test('RFC 9293 §3.10.7.3: a SYN-ACK acknowledging our ISS itself (not ISS+1) is unacceptable: RST', () => {
  const h = new Harness();
  h.connect();
  h.one();
  h.send({ flags: 'S.', seq: 0, ack: 0, options: { mss: 1460 } });
  expectSeg(h.one(), { flags: 'R', seq: 0 });
  assert.equal(h.state(), 'SYN-SENT');
});

test('RFC 9293 §3.10.7.3: in SYN-SENT a RST whose ACK acknowledges our SYN refuses the connection: ECONNREFUSED, nothing sent', async () => {
  const h = new Harness();
  const pending = h.connect();
  h.one();
  h.send({ flags: 'R.', seq: 0, ack: 1 });
  await flush();
  assert.equal(pending.error(), 'ECONNREFUSED');
  h.none();
  assert.equal(h.state(), 'none');
});

test('RFC 9293 §3.10.7.3: in SYN-SENT a RST without ACK, or with an unacceptable ACK, is dropped', async () => {
  const h = new Harness();
  const pending = h.connect();
  h.one();
  h.send({ flags: 'R', seq: 0 });
  h.send({ flags: 'R.', seq: 0, ack: 7 });
  await flush();
  assert.equal(pending.settled(), false);
  h.none('no answer to a RST');
  assert.equal(h.state(), 'SYN-SENT');
});

test('RFC 9293 §3.10.7.3: in SYN-SENT a segment with neither SYN nor RST (a bare ACK of our SYN) is dropped', async () => {
  const h = new Harness();
  const pending = h.connect();
  h.one();
  h.send({ flags: '.', seq: 0, ack: 1 });
  await flush();
  h.none();
  assert.equal(pending.settled(), false);
  assert.equal(h.state(), 'SYN-SENT');
});

test('RFC 6298 §2.1, §5.5: the SYN is retransmitted after 1 s, then 2, 4, 8, 16, 32 s, same sequence number each time', () => {
  const h = new Harness();
  h.connect();
  const first = h.one();
  const gaps = [1000, 2000, 4000, 8000, 16000, 32000];
  let tsPrev = first.options.timestamp!.value;
  for (const gap of gaps) {
    h.advance(gap - 1);
    h.none(`no retransmission before ${gap} ms`);
    h.advance(1);
    const syn = h.one(`a retransmitted SYN after ${gap} ms`);
    expectSeg(syn, { flags: 'S', seq: 0, ack: 0, window: 65535 });
    assert.equal(syn.options.mss, 1460);
    assert.equal(syn.options.timestamp!.value - tsPrev, gap, 'TSval follows the clock in ms');
    tsPrev = syn.options.timestamp!.value;
  }
  assert.equal(h.counter('tcp.syn-retransmit'), 6);
});

test('RFC 6298 §5.5 and tcp_syn_retries: after synRetries (6) retransmissions connect() fails with ETIMEDOUT, the last wait capped at maxRtoMs (60 s)', async () => {
  const h = new Harness();
  const pending = h.connect();
  h.advance(122_999);
  assert.deepEqual(
    h.take().map((o) => o.at),
    [0, 1000, 3000, 7000, 15000, 31000, 63000],
  );
  await flush();
  assert.equal(pending.settled(), false);
  h.advance(1);
  await flush();
  assert.equal(pending.error(), 'ETIMEDOUT');
  h.none('no RST when giving up');
  assert.equal(h.state(), 'none');
});

test('tcp_syn_retries: synRetries 2 gives up at 1 + 2 + 4 = 7 s', async () => {
  const h = new Harness({ tcp: { synRetries: 2 } });
  const pending = h.connect();
  h.advance(6999);
  assert.deepEqual(
    h.take().map((o) => o.at),
    [0, 1000, 3000],
  );
  await flush();
  assert.equal(pending.settled(), false);
  h.advance(1);
  await flush();
  assert.equal(pending.error(), 'ETIMEDOUT');
});

test('RFC 9293 §3.10.7.3: a SYN-ACK answering a retransmitted SYN completes the open', async () => {
  const h = new Harness();
  const pending = h.connect();
  h.advance(1000);
  assert.equal(h.take().length, 2);
  h.send({ flags: 'S.', seq: 0, ack: 1, options: { mss: 1460 } });
  expectSeg(h.one(), { flags: '.', seq: 1, ack: 1 });
  await flush();
  assert.ok(pending.settled());
  // The SYN timer is gone: nothing more is sent.
  h.advance(10_000);
  h.none();
});

test('RFC 6298 §5.7: after the SYN was retransmitted (and no RTT was measured) data starts with a 3 s RTO', async () => {
  const h = new Harness();
  const pending = h.connect();
  h.advance(1000);
  h.take();
  h.send({ flags: 'S.', seq: 0, ack: 1, options: { mss: 1460 } });
  h.take();
  await flush();
  const conn = pending.value();
  conn.write(pattern(100));
  expectSeg(h.one(), { flags: 'P.', seq: 1, len: 100 });
  h.advance(2999);
  h.none('no retransmission before 3 s');
  h.advance(1);
  expectSeg(h.one(), { flags: 'P.', seq: 1, len: 100 });
});

test('RFC 6298 §2.1: with no retransmitted SYN the first data RTO is the initial 1 s', async () => {
  const h = new Harness();
  const { conn } = await h.activeOpen();
  conn.write(pattern(100));
  h.one();
  h.advance(999);
  h.none();
  h.advance(1);
  expectSeg(h.one(), { flags: 'P.', seq: 1, len: 100 });
});

test('RFC 9293 §3.10.7.3: data on the SYN-ACK is taken and acknowledged', async () => {
  const h = new Harness();
  const pending = h.connect();
  h.one();
  h.send({ flags: 'S.', seq: 0, ack: 1, options: { mss: 1460 }, data: 'hello' });
  expectSeg(h.one(), { flags: '.', seq: 1, ack: 6 });
  await flush();
  assert.equal(new TextDecoder().decode(readAll(pending.value())), 'hello');
});

test('RFC 9293 §3.5 Figure 8: simultaneous open, SYN crossing SYN: we answer <SEQ=ISS><ACK=IRS+1><CTL=SYN,ACK> and reach ESTABLISHED', async () => {
  const h = new Harness();
  const pending = h.connect();
  const syn = h.one();
  h.peerTs = true;
  h.send({ flags: 'S', seq: 0, options: h.synOptions(FULL), tsVal: false });
  const synAck = h.one();
  expectSeg(synAck, { flags: 'S.', seq: 0, ack: 1, window: 65535 });
  assert.equal(synAck.options.mss, 1460);
  assert.equal(synAck.options.sackPermitted, true);
  assert.equal(synAck.options.windowScale, 7);
  assert.equal(synAck.options.timestamp?.echo, h.peerTsVal(), 'echoes the SYN');
  assert.equal(h.state(), 'SYN-RECEIVED');
  void syn;
  // Line 6 of Figure 8: the peer's SYN-ACK.
  h.send({ flags: 'S.', seq: 0, ack: 1 });
  await flush();
  assert.ok(pending.settled(), 'ESTABLISHED on the SYN-ACK');
  assert.equal(h.state(), 'ESTABLISHED');
  const out = h.take();
  assert.ok(out.length <= 1, brief(out).join(', '));
  if (out[0]) expectSeg(out[0], { flags: '.', seq: 1, ack: 1 });
  // Data flows both ways.
  const conn = pending.value();
  conn.write(pattern(10));
  expectSeg(h.one(), { flags: 'P.', seq: 1, ack: 1, len: 10 });
});

test('RFC 9293 §3.5 Figure 8: simultaneous open completes too when the peer answers our SYN-ACK with a bare ACK', async () => {
  const h = new Harness();
  const pending = h.connect();
  h.one();
  h.send({ flags: 'S', seq: 0, options: { mss: 1460 } });
  expectSeg(h.one(), { flags: 'S.', seq: 0, ack: 1 });
  h.send({ flags: '.', seq: 1, ack: 1 });
  h.none();
  await flush();
  assert.ok(pending.settled());
  assert.equal(h.state(), 'ESTABLISHED');
});

test('RFC 9293 §3.5: in simultaneous open the SYN-ACK is retransmitted on the SYN timer', () => {
  const h = new Harness();
  h.connect();
  h.one();
  h.send({ flags: 'S', seq: 0, options: { mss: 1460 } });
  h.one();
  h.advance(1000);
  expectSeg(h.one(), { flags: 'S.', seq: 0, ack: 1 });
});

test('RFC 9293 §3.9 (ABORT in SYN-SENT): close() during the handshake sends nothing and rejects connect()', async () => {
  const h = new Harness();
  const pending = h.connect();
  h.one();
  const t = h.tcb();
  t.close();
  await flush();
  assert.ok(pending.settled());
  h.none();
  assert.equal(h.state(), 'none');
  h.advance(5000);
  h.none('no SYN retransmission after close');
});

test('connect() rejects with ECANCELED when its signal aborts, and no more SYNs go', async () => {
  const h = new Harness();
  const ac = new AbortController();
  const pending = h.stack.connect({ address: '10.0.0.2', port: 80 }, { noDelay: false, keepAliveMs: 0, sendBufferSize: 65536, recvBufferSize: 65536, signal: ac.signal });
  h.one();
  ac.abort();
  await assert.rejects(pending, { code: 'ECANCELED' });
  h.advance(5000);
  h.none();
});

test('RFC 9293 §3.10.7.4: a RST at RCV.NXT in SYN-RECEIVED of an active (simultaneous) open refuses the connection: ECONNREFUSED', async () => {
  const h = new Harness();
  const pending = h.connect();
  h.one();
  h.send({ flags: 'S', seq: 0, options: { mss: 1460 } });
  h.one();
  h.send({ flags: 'R', seq: 1 });
  await flush();
  assert.equal(pending.error(), 'ECONNREFUSED');
  h.none();
});

test("the layer's tap sees every segment in and out of the handshake, in order", async () => {
  const h = new Harness();
  const seen: string[] = [];
  h.stack.tcp.tap = (direction, _tcb, seg) => seen.push(`${direction} ${seg.flags & 0x02 ? 'S' : ''}${seg.flags & 0x10 ? '.' : ''}`);
  await h.activeOpen();
  assert.deepEqual(seen, ['out S', 'in S.', 'out .']);
});

test("RFC 7323 §2.3: the window scale offered follows tcp_rmem's maximum, as Linux picks it (6 MiB → 7, 15 MiB → 8)", () => {
  for (const [max, scale] of [[6 * 1024 * 1024, 7], [15 * 1024 * 1024, 8], [65_535, 0], [1 << 20, 5]] as const) {
    const h = new Harness({ tcp: { recvBufferMax: max } });
    h.connect({ recvBufferSize: 32 * 1024 });
    assert.equal(h.one().options.windowScale, scale, `recvBufferMax ${max}`);
  }
  // A receive buffer larger than the maximum still fits its window.
  const h = new Harness();
  h.connect({ recvBufferSize: 32 * 1024 * 1024 });
  assert.equal(h.one().options.windowScale, 10);
});

test('TCP_MAXSEG (maxSegment): the SYN offers it and the segments sent stay under it', async () => {
  const h = new Harness();
  const { conn, syn } = await h.activeOpen({ mss: 1460 }, { maxSegment: 1100 });
  assert.equal(syn.options.mss, 1100);
  conn.write(pattern(3000));
  const out = h.take();
  assert.deepEqual(out.map((o) => o.len), [1100, 1100, 800]);
});
