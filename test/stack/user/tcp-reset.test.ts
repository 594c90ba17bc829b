/**
 * Resets we send and resets and ICMP errors we get: RFC 9293 §3.10.7.1
 * (closed ports), §3.9 ABORT, §3.10.7.4 (RST arrival), RFC 1122 §4.2.3.9
 * (ICMP errors), RFC 1191 (fragmentation needed).
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { SocketLibrary } from '../../../src/socket/library.js';
import { WOULD_BLOCK } from '../../../src/stack/types.js';
import { expectSeg, flush, Harness, pattern, readAll, thrown, track } from './harness.js';

// With no connection there is no ISS of ours: the harness shows our numbers as they are on the wire.

test('RFC 9293 §3.10.7.1: a SYN to a closed port gets <SEQ=0><ACK=SEG.SEQ+SEG.LEN><CTL=RST,ACK>, window 0', () => {
  const h = new Harness();
  h.send({ flags: 'S', seq: 0, options: { mss: 1460 } });
  const rst = h.one();
  expectSeg(rst, { flags: 'R.', seq: 0, ack: 1, window: 0, len: 0 });
  assert.deepEqual(rst.options, {});
  assert.equal(rst.srcPort, 80);
  assert.equal(rst.dstPort, 40000);
  assert.equal(h.counter('tcp.reset-sent'), 1);
  assert.equal(h.counter('tcp.no-socket'), 1);
});

test('RFC 9293 §3.10.7.1: SEG.LEN counts data and FIN: a SYN with 10 bytes and FIN is answered with ACK = SEQ + 12', () => {
  const h = new Harness();
  h.send({ flags: 'SF', seq: 100, data: 10 });
  expectSeg(h.one(), { flags: 'R.', seq: 0, ack: 112 });
});

test('RFC 9293 §3.10.7.1: an ACK-bearing segment to a closed port gets <SEQ=SEG.ACK><CTL=RST> with no ACK', () => {
  const h = new Harness();
  h.send({ flags: 'P.', seq: 7, ack: 0x12345678, data: 20 });
  expectSeg(h.one(), { flags: 'R', seq: 0x12345678, ack: 0, window: 0, len: 0 });
});

test('RFC 9293 §3.10.7.1: a FIN|ACK to a closed port gets <SEQ=SEG.ACK><CTL=RST>', () => {
  const h = new Harness();
  h.send({ flags: 'F.', seq: 7, ack: 99 });
  expectSeg(h.one(), { flags: 'R', seq: 99 });
});

test('RFC 9293 §3.10.7.1: a segment without ACK (data and FIN) gets <SEQ=0><ACK=SEG.SEQ+SEG.LEN><CTL=RST,ACK>', () => {
  const h = new Harness();
  h.send({ flags: 'F', seq: 5, data: 3 });
  expectSeg(h.one(), { flags: 'R.', seq: 0, ack: 9 });
});

test('RFC 9293 §3.10.7.1: a segment with no flags at all gets RST,ACK acknowledging its data', () => {
  const h = new Harness();
  h.send({ flags: '', seq: 5, data: 4 });
  expectSeg(h.one(), { flags: 'R.', seq: 0, ack: 9 });
});

test('RFC 9293 §3.10.7.1: a RST to a closed port is never answered, with or without ACK', () => {
  const h = new Harness();
  h.send({ flags: 'R', seq: 5 });
  h.send({ flags: 'R.', seq: 5, ack: 5 });
  h.send({ flags: 'RS', seq: 5 });
  h.none();
  assert.equal(h.counter('tcp.reset-sent'), 0);
});

test('RFC 9293 §3.10.7.1: a segment for a port we connect from but to another peer port is not ours: RST', async () => {
  const h = new Harness();
  await h.activeOpen();
  h.send({ flags: '.', seq: 1, ack: 1, srcPort: 81 });
  const rst = h.one();
  assert.equal(rst.flags, 'R');
  assert.equal(rst.dstPort, 81);
  assert.equal(h.state(), 'ESTABLISHED');
});

test('RFC 9293 §3.10.7.3: connect() through the socket library fails with ECONNREFUSED when the peer answers the SYN with RST,ACK', async () => {
  const h = new Harness();
  const lib = new SocketLibrary(h.stack);
  const fd = await lib.socket('tcp');
  const connecting = track(lib.connect(fd, '10.0.0.2', 80));
  await flush();
  const syn = h.one();
  assert.equal(syn.flags, 'S');
  h.usPort = syn.srcPort;
  h.peerPort = 80;
  h.send({ flags: 'R.', seq: 0, ack: 1 });
  await flush();
  assert.equal(connecting.error(), 'ECONNREFUSED');
  h.none();
});

test('RFC 1122 §4.2.3.9: ICMP port unreachable for our SYN fails connect() with ECONNREFUSED at once', async () => {
  const h = new Harness();
  const pending = h.connect();
  const syn = h.one();
  h.sendIcmpUnreachable(3, syn.packet);
  await flush();
  assert.equal(pending.error(), 'ECONNREFUSED');
  assert.equal(h.state(), 'none');
  h.advance(5000);
  h.none('no SYN retransmission after the error');
});

test('RFC 1122 §4.2.3.9: ICMP host unreachable is a soft error: the SYN is retried, and EHOSTUNREACH is reported on giving up', async () => {
  const h = new Harness({ tcp: { synRetries: 1 } });
  const pending = h.connect();
  const syn = h.one();
  h.sendIcmpUnreachable(1, syn.packet);
  await flush();
  assert.equal(pending.settled(), false);
  h.advance(1000);
  expectSeg(h.one(), { flags: 'S', seq: 0 });
  h.advance(2000);
  await flush();
  assert.equal(pending.error(), 'EHOSTUNREACH');
});

test('RFC 1122 §4.2.3.9: ICMP unreachable on an established connection does not abort it', async () => {
  const h = new Harness();
  const { conn } = await h.activeOpen();
  conn.write(pattern(100));
  const data = h.one();
  h.sendIcmpUnreachable(3, data.packet);
  h.sendIcmpUnreachable(1, data.packet);
  assert.equal(h.state(), 'ESTABLISHED');
  h.send({ flags: '.', seq: 1, ack: 101 });
  assert.equal(conn.write(pattern(10)), null);
  expectSeg(h.one(), { flags: 'P.', seq: 101, len: 10 });
});

test('RFC 1191: ICMP fragmentation needed (MTU 1000) lowers the MSS to 960 and resends what is in flight in smaller segments', async () => {
  const h = new Harness();
  const { conn } = await h.activeOpen();
  conn.write(pattern(2920));
  const [first] = h.take();
  h.sendIcmpUnreachable(4, first!.packet, 1000);
  assert.deepEqual(
    h.take().map((o) => [o.flags, o.seq, o.len]),
    [
      ['.', 1, 960],
      ['.', 961, 960],
      ['.', 1921, 960],
      ['P.', 2881, 40],
    ],
  );
  assert.equal(h.counter('tcp.pmtu-lowered'), 1);
  // A larger MTU later does not raise it (RFC 1191 §6.3: only a timer may).
  h.sendIcmpUnreachable(4, first!.packet, 1400);
  h.none();
});

test('RFC 9293 §3.9 ABORT: abort() in ESTABLISHED sends <SEQ=SND.NXT><CTL=RST>, and read() then fails with ECONNABORTED', async () => {
  const h = new Harness();
  const { conn } = await h.activeOpen();
  conn.write(pattern(100));
  h.one();
  conn.abort();
  expectSeg(h.one(), { flags: 'R.', seq: 101, len: 0 });
  assert.equal(h.state(), 'none');
  assert.equal(thrown(() => conn.read(new Uint8Array(10))), 'ECONNABORTED');
  // The peer's next segment finds no connection.
  h.send({ flags: '.', seq: 1, ack: 101 });
  expectSeg(h.one(), { flags: 'R', seq: 101 });
});

test('RFC 9293 §3.9 ABORT: unsent data is dropped, the RST carries SND.NXT, not the end of the queue', async () => {
  const h = new Harness();
  const { conn } = await h.activeOpen({ mss: 1460, window: 1000 });
  conn.write(pattern(5000));
  expectSeg(h.one(), { seq: 1, len: 1000 });
  conn.abort();
  expectSeg(h.one(), { flags: 'R.', seq: 1001 });
});

test('RFC 9293 §3.6 and Linux: close() with unread received data resets the connection instead of a FIN', async () => {
  const h = new Harness();
  const { conn } = await h.activeOpen();
  h.send({ flags: 'P.', seq: 1, ack: 1, data: 10 });
  conn.close();
  expectSeg(h.one(), { flags: 'R.', seq: 1 });
  assert.equal(h.state(), 'none');
});

test('RFC 9293 §3.6 and Linux: close() when everything was read is a graceful FIN', async () => {
  const h = new Harness();
  const { conn } = await h.activeOpen();
  h.send({ flags: 'P.', seq: 1, ack: 1, data: 10 });
  assert.equal(readAll(conn).length, 10);
  conn.close();
  expectSeg(h.one(), { flags: 'F.', seq: 1, ack: 11 });
});

test('RFC 9293 §3.10.7.4 (ESTABLISHED): a RST at exactly RCV.NXT resets: read() and write() fail with ECONNRESET, nothing is sent', async () => {
  const h = new Harness();
  const { conn } = await h.activeOpen();
  let woke = 0;
  conn.notify = () => woke++;
  h.send({ flags: 'R', seq: 1 });
  h.none();
  assert.equal(h.state(), 'none');
  assert.ok(woke > 0, 'the application is woken');
  assert.equal(thrown(() => conn.read(new Uint8Array(10))), 'ECONNRESET');
  await assert.rejects(conn.write(pattern(1))!, { code: 'ECONNRESET' });
});

test('RFC 9293 §3.10.7.4: data received before a RST can still be read, then ECONNRESET', async () => {
  const h = new Harness();
  const { conn } = await h.activeOpen();
  h.send({ flags: 'P.', seq: 1, ack: 1, data: 5 });
  h.send({ flags: 'R.', seq: 6, ack: 1 });
  assert.equal(conn.read(new Uint8Array(10)), 5);
  assert.equal(thrown(() => conn.read(new Uint8Array(10))), 'ECONNRESET');
});

test('RFC 9293 §3.10.7.4: a RST rejects a write waiting for buffer space', async () => {
  const h = new Harness();
  const { conn } = await h.activeOpen({ mss: 1460, window: 0 }, { sendBufferSize: 1000 });
  assert.equal(conn.write(pattern(800)), null);
  const waiting = conn.write(pattern(800));
  assert.ok(waiting, 'the second write waits for room');
  h.take();
  h.send({ flags: 'R', seq: 1 });
  await assert.rejects(waiting, { code: 'ECONNRESET' });
});

test('RFC 9293 §3.10.7.4: a RST in CLOSE-WAIT resets the connection (ECONNRESET)', async () => {
  const h = new Harness();
  const { conn } = await h.activeOpen();
  h.send({ flags: 'F.', seq: 1, ack: 1 });
  h.one();
  assert.equal(h.state(), 'CLOSE-WAIT');
  conn.write(pattern(10));
  h.one();
  h.send({ flags: 'R', seq: 2 });
  assert.equal(h.state(), 'none');
  await assert.rejects(conn.write(pattern(1))!, { code: 'ECONNRESET' });
});

test('RFC 9293 §3.10.7.4: a RST in LAST-ACK closes the connection silently', async () => {
  const h = new Harness();
  const { conn } = await h.activeOpen();
  h.send({ flags: 'F.', seq: 1, ack: 1 });
  h.one();
  conn.close();
  expectSeg(h.one(), { flags: 'F.', seq: 1, ack: 2 });
  assert.equal(h.state(), 'LAST-ACK');
  h.send({ flags: 'R', seq: 2 });
  h.none();
  assert.equal(h.state(), 'none');
});

test('RFC 9293 §3.10.7.4: a RST in TIME-WAIT ends it early (no RFC 1337 protection, as Linux by default)', async () => {
  const h = new Harness();
  const { conn } = await h.activeOpen();
  conn.shutdown('write');
  h.one();
  h.send({ flags: 'F.', seq: 1, ack: 2 });
  h.one();
  assert.equal(h.state(), 'TIME-WAIT');
  h.send({ flags: 'R', seq: 2 });
  h.none();
  assert.equal(h.state(), 'none');
});

test('RFC 9293 §3.10.7.4: a RST in FIN-WAIT-2 resets; the application reading sees ECONNRESET', async () => {
  const h = new Harness();
  const { conn } = await h.activeOpen();
  conn.shutdown('write');
  h.one();
  h.send({ flags: '.', seq: 1, ack: 2 });
  assert.equal(h.state(), 'FIN-WAIT-2');
  h.send({ flags: 'R', seq: 1 });
  assert.equal(h.state(), 'none');
  assert.equal(thrown(() => conn.read(new Uint8Array(1))), 'ECONNRESET');
});

test('RFC 9293 §3.10.7.4: after a reset, read() does not block: it throws (never WOULD_BLOCK)', async () => {
  const h = new Harness();
  const { conn } = await h.activeOpen();
  assert.equal(conn.read(new Uint8Array(1)), WOULD_BLOCK);
  h.send({ flags: 'R', seq: 1 });
  assert.equal(thrown(() => conn.read(new Uint8Array(1))), 'ECONNRESET');
});
