/**
 * Linux's quick-ACK mode (delack.ts): the first segments of a connection are
 * acknowledged at once, a connection that answers data with data delays its
 * ACK to carry it on the reply, and a duplicate segment brings quick ACKs back.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { expectSeg, Harness, readAll } from './harness.js';

async function established(quickAcks = 16) {
  const h = new Harness({ tcp: { quickAcks } });
  const { conn } = await h.activeOpen({ mss: 1460 });
  return { h, conn };
}

test('Linux quick-ACK: the first data segment of a connection is acknowledged at once, not after 40 ms', async () => {
  const { h } = await established();
  h.send({ flags: 'P.', seq: 1, ack: 1, data: 100 });
  expectSeg(h.one(), { flags: '.', seq: 1, ack: 101 });
});

test('Linux quick-ACK: with quickAcks 0 the same segment waits for the delayed-ACK timer (RFC 9293 §3.8.6.3)', async () => {
  const { h } = await established(0);
  h.send({ flags: 'P.', seq: 1, ack: 1, data: 100 });
  h.none();
  h.advance(40);
  expectSeg(h.one(), { flags: '.', seq: 1, ack: 101 });
});

test('Linux quick-ACK: the mode ends after its budget of ACKs (2 here: a 4096-byte window / 2 MSS), then ACKs are delayed', async () => {
  const h = new Harness({ tcp: { quickAcks: 16 } });
  const { conn } = await h.activeOpen({ mss: 1460 }, { recvBufferSize: 4096 });
  for (let i = 0; i < 2; i++) {
    h.send({ flags: 'P.', seq: 1 + i * 10, ack: 1, data: 10 });
    expectSeg(h.one(), { flags: '.', ack: 11 + i * 10 }, `quick ACK ${i + 1}`);
  }
  h.send({ flags: 'P.', seq: 21, ack: 1, data: 10 });
  h.none('the third is delayed');
  h.advance(40);
  expectSeg(h.one(), { flags: '.', ack: 31 });
  assert.equal(readAll(conn).length, 30);
});

test('Linux ping-pong: a reply sent within 40 ms of data received makes the next request\'s ACK wait to ride on the reply', async () => {
  const { h, conn } = await established();
  h.send({ flags: 'P.', seq: 1, ack: 1, data: 100 });
  h.one();
  readAll(conn);
  conn.write(new Uint8Array(50));
  expectSeg(h.one(), { flags: 'P.', seq: 1, ack: 101, len: 50 });
  h.send({ flags: 'P.', seq: 101, ack: 51, data: 100 });
  h.none('interactive: the ACK is delayed');
  readAll(conn);
  conn.write(new Uint8Array(20));
  expectSeg(h.one(), { flags: 'P.', seq: 51, ack: 201, len: 20 }, 'the reply carries it');
});

test('Linux quick-ACK: a duplicate segment ends ping-pong mode and is acknowledged at once', async () => {
  const { h, conn } = await established();
  h.send({ flags: 'P.', seq: 1, ack: 1, data: 100 });
  h.one();
  readAll(conn);
  conn.write(new Uint8Array(50));
  h.one();
  h.send({ flags: 'P.', seq: 1, ack: 51, data: 100 });
  expectSeg(h.one(), { flags: '.', ack: 101 }, 'duplicate: ACK at once');
  h.send({ flags: 'P.', seq: 101, ack: 51, data: 100 });
  expectSeg(h.one(), { flags: '.', ack: 201 }, 'quick ACKs again');
});
