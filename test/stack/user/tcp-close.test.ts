/**
 * Connection close in every order, segment by segment (RFC 9293 §3.6,
 * Figures 12 and 13, and §3.10.7.4 for FIN arrival in each state).
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { WOULD_BLOCK, type StreamOptions } from '../../../src/stack/types.js';
import { brief, expectSeg, Harness, pattern, readAll } from './harness.js';

async function established(options: Partial<StreamOptions> = {}, tcp = {}) {
  const h = new Harness({ tcp });
  const { conn } = await h.activeOpen({ mss: 1460 }, options);
  return { h, conn };
}

test('RFC 9293 §3.6 Figure 12, we close first: FIN → FIN-WAIT-1 → FIN-WAIT-2 → TIME-WAIT → CLOSED after 2·MSL (60 s)', async () => {
  const { h, conn } = await established();
  conn.shutdown('write');
  expectSeg(h.one(), { flags: 'F.', seq: 1, ack: 1, len: 0 });
  assert.equal(h.state(), 'FIN-WAIT-1');
  h.send({ flags: '.', seq: 1, ack: 2 });
  h.none();
  assert.equal(h.state(), 'FIN-WAIT-2');
  h.send({ flags: 'F.', seq: 1, ack: 2 });
  expectSeg(h.one(), { flags: '.', seq: 2, ack: 2 });
  assert.equal(h.state(), 'TIME-WAIT');
  assert.equal(conn.read(new Uint8Array(1)), 0, 'end of stream');
  h.advance(59_999);
  assert.equal(h.state(), 'TIME-WAIT');
  h.advance(1);
  assert.equal(h.state(), 'none');
  h.none('CLOSED silently');
  // The 4-tuple is free: a stray segment now gets a RST.
  h.send({ flags: '.', seq: 2, ack: 2 });
  expectSeg(h.one(), { flags: 'R', seq: 2 });
});

test('RFC 9293 §3.6 Figure 12, the peer closes first: ACK of its FIN at once, CLOSE-WAIT, read() returns 0, then our FIN → LAST-ACK → CLOSED', async () => {
  const { h, conn } = await established();
  h.send({ flags: 'F.', seq: 1, ack: 1 });
  expectSeg(h.one(), { flags: '.', seq: 1, ack: 2 });
  assert.equal(h.state(), 'CLOSE-WAIT');
  assert.equal(conn.read(new Uint8Array(10)), 0);
  // We may still send in CLOSE-WAIT.
  conn.write(pattern(10));
  expectSeg(h.one(), { flags: 'P.', seq: 1, ack: 2, len: 10 });
  h.send({ flags: '.', seq: 2, ack: 11 });
  conn.close();
  expectSeg(h.one(), { flags: 'F.', seq: 11, ack: 2 });
  assert.equal(h.state(), 'LAST-ACK');
  h.send({ flags: '.', seq: 2, ack: 12 });
  h.none();
  assert.equal(h.state(), 'none', 'CLOSED with no TIME-WAIT');
});

test('RFC 9293 §3.6 Figure 13, simultaneous close: FINs cross, CLOSING, then TIME-WAIT when our FIN is ACKed', async () => {
  const { h, conn } = await established();
  conn.shutdown('write');
  expectSeg(h.one(), { flags: 'F.', seq: 1, ack: 1 });
  h.send({ flags: 'F.', seq: 1, ack: 1 });
  expectSeg(h.one(), { flags: '.', seq: 2, ack: 2 });
  assert.equal(h.state(), 'CLOSING');
  h.send({ flags: '.', seq: 2, ack: 2 });
  h.none();
  assert.equal(h.state(), 'TIME-WAIT');
  h.advance(60_000);
  assert.equal(h.state(), 'none');
});

test('RFC 9293 §3.10.7.4: in FIN-WAIT-1 a FIN that also ACKs our FIN goes straight to TIME-WAIT', async () => {
  const { h, conn } = await established();
  conn.shutdown('write');
  h.one();
  h.send({ flags: 'F.', seq: 1, ack: 2 });
  expectSeg(h.one(), { flags: '.', seq: 2, ack: 2 });
  assert.equal(h.state(), 'TIME-WAIT');
});

test('RFC 9293 §3.10.7.4 (TIME-WAIT): a retransmitted FIN is ACKed again and restarts the 2·MSL timer', async () => {
  const { h, conn } = await established();
  conn.shutdown('write');
  h.one();
  h.send({ flags: 'F.', seq: 1, ack: 2 });
  h.one();
  h.advance(30_000);
  h.send({ flags: 'F.', seq: 1, ack: 2 });
  expectSeg(h.one(), { flags: '.', seq: 2, ack: 2 });
  h.advance(59_999);
  assert.equal(h.state(), 'TIME-WAIT', 'the wait restarted at 30 s');
  h.advance(1);
  assert.equal(h.state(), 'none');
});

test('RFC 9293 §3.10.7.4 (TIME-WAIT): timeWaitMs sets the wait', async () => {
  const { h, conn } = await established({}, { timeWaitMs: 1000 });
  conn.shutdown('write');
  h.one();
  h.send({ flags: 'F.', seq: 1, ack: 2 });
  h.one();
  h.advance(999);
  assert.equal(h.state(), 'TIME-WAIT');
  h.advance(1);
  assert.equal(h.state(), 'none');
});

test('RFC 9293 §3.10.7.4 (TIME-WAIT): a pure ACK is not answered', async () => {
  const { h, conn } = await established();
  conn.shutdown('write');
  h.one();
  h.send({ flags: 'F.', seq: 1, ack: 2 });
  h.one();
  h.send({ flags: '.', seq: 2, ack: 2 });
  h.none();
});

test('RFC 6298 §5: an unacknowledged FIN is retransmitted after 1 s, then 2 s, same sequence number', async () => {
  const { h, conn } = await established();
  conn.shutdown('write');
  h.one();
  h.advance(1000);
  expectSeg(h.one(), { flags: 'F.', seq: 1, ack: 1 });
  h.advance(1999);
  h.none();
  h.advance(1);
  expectSeg(h.one(), { flags: 'F.', seq: 1, ack: 1 });
});

test('RFC 6298 §5: our FIN in LAST-ACK is retransmitted until ACKed', async () => {
  const { h, conn } = await established();
  h.send({ flags: 'F.', seq: 1, ack: 1 });
  h.one();
  conn.close();
  expectSeg(h.one(), { flags: 'F.', seq: 1, ack: 2 });
  h.advance(1000);
  expectSeg(h.one(), { flags: 'F.', seq: 1, ack: 2 });
  h.send({ flags: '.', seq: 2, ack: 2 });
  assert.equal(h.state(), 'none');
});

test('RFC 9293 §3.6: the FIN rides on the last data segment when data is still queued (Nagle held it)', async () => {
  const { h, conn } = await established();
  conn.write(pattern(10));
  conn.write(pattern(10, 10));
  h.take();
  conn.shutdown('write');
  expectSeg(h.one(), { flags: 'FP.', seq: 11, ack: 1, len: 10 });
  h.send({ flags: '.', seq: 1, ack: 22 });
  assert.equal(h.state(), 'FIN-WAIT-2');
});

test('RFC 9293 §3.6: the FIN waits for data the peer window holds back, and follows the last byte', async () => {
  const h = new Harness();
  const { conn } = await h.activeOpen({ mss: 1460, window: 1000 });
  conn.write(pattern(2500));
  conn.shutdown('write');
  assert.deepEqual(brief(h.take()), ['. 1:1 1000']);
  h.send({ flags: '.', seq: 1, ack: 1001, window: 1000 });
  assert.deepEqual(brief(h.take()), ['. 1001:1 1000']);
  h.send({ flags: '.', seq: 1, ack: 2001, window: 1000 });
  assert.deepEqual(brief(h.take()), ['FP. 2001:1 500']);
});

test('RFC 9293 §3.6: after shutdown(write) (half-close) data from the peer is still received and ACKed in FIN-WAIT-2', async () => {
  const { h, conn } = await established();
  conn.shutdown('write');
  h.one();
  h.send({ flags: '.', seq: 1, ack: 2 });
  h.send({ flags: 'P.', seq: 1, ack: 2, data: 100 });
  h.advance(40);
  expectSeg(h.one(), { flags: '.', seq: 2, ack: 101 });
  assert.deepEqual(readAll(conn), pattern(100));
  assert.equal(conn.read(new Uint8Array(1)), WOULD_BLOCK);
});

test('RFC 9293 §3.9: write() after shutdown(write) fails with EPIPE', async () => {
  const { h, conn } = await established();
  conn.shutdown('write');
  h.one();
  await assert.rejects(conn.write(pattern(1))!, { code: 'EPIPE' });
});

test('tcp_fin_timeout: an orphaned connection (close()) in FIN-WAIT-2 is dropped after finTimeoutMs', async () => {
  const { h, conn } = await established({}, { finTimeoutMs: 5000 });
  conn.close();
  h.one();
  h.send({ flags: '.', seq: 1, ack: 2 });
  assert.equal(h.state(), 'FIN-WAIT-2');
  h.advance(4999);
  assert.equal(h.state(), 'FIN-WAIT-2');
  h.advance(1);
  assert.equal(h.state(), 'none');
  h.none('dropped silently');
});

test('tcp_fin_timeout: a half-closed connection the application still holds waits in FIN-WAIT-2 as long as it takes', async () => {
  const { h, conn } = await established({}, { finTimeoutMs: 5000 });
  conn.shutdown('write');
  h.one();
  h.send({ flags: '.', seq: 1, ack: 2 });
  h.advance(600_000);
  assert.equal(h.state(), 'FIN-WAIT-2');
  h.none();
});

test('RFC 9293 §3.10.7.4: a FIN ahead of missing data waits; when the data arrives both are ACKed and the state is CLOSE-WAIT', async () => {
  const { h, conn } = await established();
  h.send({ flags: 'F.', seq: 101, ack: 1 });
  expectSeg(h.one(), { flags: '.', seq: 1, ack: 1 });
  assert.equal(h.state(), 'ESTABLISHED');
  h.send({ flags: '.', seq: 1, ack: 1, data: 100 });
  expectSeg(h.one(), { flags: '.', seq: 1, ack: 102 });
  assert.equal(h.state(), 'CLOSE-WAIT');
  assert.deepEqual(readAll(conn), pattern(100));
  assert.equal(conn.read(new Uint8Array(1)), 0);
});

test('RFC 9293 §3.10.7.4: a FIN with data is ACKed at once, both the data and the FIN', async () => {
  const { h, conn } = await established();
  h.send({ flags: 'FP.', seq: 1, ack: 1, data: 10 });
  expectSeg(h.one(), { flags: '.', seq: 1, ack: 12 });
  assert.equal(readAll(conn).length, 10);
  assert.equal(conn.read(new Uint8Array(1)), 0);
});

test('RFC 9293 §3.10.7.4 (CLOSE-WAIT): a retransmitted FIN is ACKed again', async () => {
  const { h } = await established();
  h.send({ flags: 'F.', seq: 1, ack: 1 });
  h.one();
  h.send({ flags: 'F.', seq: 1, ack: 1 });
  expectSeg(h.one(), { flags: '.', seq: 1, ack: 2 });
  assert.equal(h.state(), 'CLOSE-WAIT');
});

test('RFC 9293 §3.6, Linux: data arriving after close() (nobody will read it) is answered with RST', async () => {
  const { h, conn } = await established();
  conn.close();
  expectSeg(h.one(), { flags: 'F.', seq: 1, ack: 1 });
  h.send({ flags: 'P.', seq: 1, ack: 2, data: 10 });
  expectSeg(h.one(), { flags: 'R.', seq: 2 });
  assert.equal(h.state(), 'none');
});

test('RFC 9293 §3.6: data arriving after shutdown(write) is fine: the application can still read', async () => {
  const { h, conn } = await established();
  conn.shutdown('write');
  h.one();
  h.send({ flags: 'P.', seq: 1, ack: 2, data: 10 });
  h.none('no RST');
  assert.equal(readAll(conn).length, 10);
});

test('shutdown(read): received data is ACKed and dropped, read() returns 0', async () => {
  const { h, conn } = await established();
  conn.shutdown('read');
  h.send({ flags: 'P.', seq: 1, ack: 1, data: 100 });
  h.advance(40);
  expectSeg(h.one(), { flags: '.', seq: 1, ack: 101 });
  assert.equal(conn.read(new Uint8Array(200)), 0);
});

test('RFC 9293 §3.6: close() after data already sent sends a bare FIN after it, and the state walks FIN-WAIT-1 → FIN-WAIT-2', async () => {
  const { h, conn } = await established();
  conn.write(pattern(3000));
  assert.deepEqual(brief(h.take()), ['. 1:1 1460', '. 1461:1 1460', 'P. 2921:1 80']);
  conn.close();
  assert.deepEqual(brief(h.take()), ['F. 3001:1 0']);
  h.send({ flags: '.', seq: 1, ack: 2921 });
  assert.equal(h.state(), 'FIN-WAIT-1');
  h.send({ flags: '.', seq: 1, ack: 3002 });
  assert.equal(h.state(), 'FIN-WAIT-2');
});

test('RFC 9293 §3.6: the application reading after the peer FIN in FIN-WAIT-2 sees the end of stream, then TIME-WAIT', async () => {
  const { h, conn } = await established();
  conn.shutdown('write');
  h.one();
  h.send({ flags: '.', seq: 1, ack: 2 });
  h.send({ flags: 'FP.', seq: 1, ack: 2, data: 5 });
  expectSeg(h.one(), { flags: '.', seq: 2, ack: 7 });
  assert.equal(readAll(conn).length, 5);
  assert.equal(conn.read(new Uint8Array(5)), 0);
  assert.equal(h.state(), 'TIME-WAIT');
});

test('RFC 9293 §3.6.1: a SYN beyond the window of a TIME-WAIT connection reopens it through the listener', async () => {
  const h = new Harness();
  const { conn } = await h.passiveOpen();
  conn.close();
  expectSeg(h.one(), { flags: 'F.', seq: 1, ack: 1 });
  h.send({ flags: 'F.', seq: 1, ack: 2 });
  h.one();
  assert.equal(h.state(), 'TIME-WAIT');
  h.iss = null;
  h.send({ flags: 'S', seq: 100_000, options: { mss: 1460 } });
  const synAck = h.one();
  expectSeg(synAck, { flags: 'S.', seq: 0, ack: 100_001 });
  assert.equal(h.state(), 'SYN-RECEIVED');
  assert.equal(h.counter('tcp.time-wait-reused'), 1);
});

test('RFC 9293 §3.9: close() twice sends one FIN; abort() after close() sends <SEQ=SND.NXT><CTL=RST> (past the FIN)', async () => {
  const { h, conn } = await established();
  conn.close();
  h.one();
  conn.close();
  h.none();
  assert.equal(h.state(), 'FIN-WAIT-1');
  conn.abort();
  expectSeg(h.one(), { flags: 'R.', seq: 2 });
  assert.equal(h.state(), 'none');
  conn.abort();
  h.none('nothing more once closed');
});

test('RFC 9293 §3.10.7.4 (FIN-WAIT-1): data and FIN crossing our FIN: CLOSING, then TIME-WAIT; the data stays readable throughout', async () => {
  const { h, conn } = await established();
  conn.shutdown('write');
  expectSeg(h.one(), { flags: 'F.', seq: 1, ack: 1 });
  h.send({ flags: 'FP.', seq: 1, ack: 1, data: 30 });
  expectSeg(h.one(), { flags: '.', seq: 2, ack: 32 });
  assert.equal(h.state(), 'CLOSING');
  h.send({ flags: '.', seq: 32, ack: 2 });
  assert.equal(h.state(), 'TIME-WAIT');
  assert.deepEqual(readAll(conn), pattern(30));
  assert.equal(conn.read(new Uint8Array(1)), 0);
});

test('RFC 9293 §3.10.7.4 (FIN-WAIT-1): data from the peer is accepted and ACKed while our FIN is outstanding', async () => {
  const { h, conn } = await established();
  conn.shutdown('write');
  h.one();
  h.send({ flags: '.', seq: 1, ack: 1, data: 1460 });
  h.send({ flags: '.', seq: 1461, ack: 1, data: 1460 });
  expectSeg(h.one(), { flags: '.', seq: 2, ack: 2921 });
  assert.equal(h.state(), 'FIN-WAIT-1');
  assert.equal(readAll(conn).length, 2920);
});

test('RFC 9293 §3.6 and Linux: close() in CLOSE-WAIT with unread data resets instead of sending a FIN', async () => {
  const { h, conn } = await established();
  h.send({ flags: 'FP.', seq: 1, ack: 1, data: 10 });
  h.one();
  conn.close();
  expectSeg(h.one(), { flags: 'R.', seq: 1 });
  assert.equal(h.state(), 'none');
});
