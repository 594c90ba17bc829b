/**
 * SYN cookies segment by segment (RFC 4987 §3.6; Linux's tcp_syncookies=1
 * and net/ipv4/syncookies.c): used only when the SYN queue is full, no state
 * kept for the SYN, the connection rebuilt from the final ACK with the MSS
 * (Linux's table), window scale, SACK and timestamps the SYN offered.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { StreamListener } from '../../../src/stack/types.js';
import { COOKIE_MSS, cookieOptions, flowOf } from '../../../src/stack/user/tcp/syncookie.js';
import { State } from '../../../src/stack/user/tcp/state.js';
import type { Tcb } from '../../../src/stack/user/tcp/tcb.js';
import { expectSeg, Harness, PEER_IP, readAll, US_IP, type Offer } from './harness.js';

/** Half-open connections a listener keeps before it falls back on cookies (its backlog, at least 128). */
const SYN_QUEUE = 128;

/** A listener with backlog 8 whose SYN queue is full of handshakes from ports 20000… that never finish. */
function flooded(tcp = {}): { h: Harness; listener: StreamListener } {
  const h = new Harness({ tcp });
  const listener = h.listen(8);
  for (let i = 0; i < SYN_QUEUE; i++) h.send({ flags: 'S', seq: 0, srcPort: 20000 + i, options: { mss: 1460 } });
  assert.equal(h.take().length, SYN_QUEUE);
  assert.equal(h.stack.tcp.connections.size, SYN_QUEUE);
  // From now on the harness speaks for the real client on port 40000 and learns our ISS from its SYN-ACK.
  h.iss = null;
  h.peerPort = 40000;
  return { h, listener };
}

function connection(h: Harness, port = 40000): Tcb | undefined {
  return [...h.stack.tcp.connections.values()].find((t) => t.remote.port === port);
}

/** The real client's SYN with `offer`; returns our SYN-ACK. */
function syn(h: Harness, offer: Offer) {
  h.peerTs = !!offer.ts;
  h.send({ flags: 'S', seq: 0, options: h.synOptions(offer), tsVal: false });
  const synAck = h.one('the SYN-ACK');
  expectSeg(synAck, { flags: 'S.', seq: 0, ack: 1 });
  return synAck;
}

test('tcp_syncookies=1: with the SYN queue full, a SYN gets a cookie SYN-ACK and leaves no state; the ACK builds the connection with MSS, window scale, SACK and timestamps', async () => {
  const { h, listener } = flooded();
  const synAck = syn(h, { mss: 1460, sack: true, ts: true, wscale: 9 });
  assert.equal(h.counter('tcp.syncookie-sent'), 1);
  assert.equal(h.stack.tcp.connections.size, SYN_QUEUE, 'nothing kept for the SYN');
  assert.equal(connection(h), undefined);
  assert.equal(synAck.options.mss, 1460);
  assert.equal(synAck.options.sackPermitted, true);
  assert.equal(synAck.options.windowScale, 7, 'our shift for a 64 KiB buffer');
  assert.equal(synAck.options.timestamp?.echo, h.peerTsVal());
  // The low 6 bits of our TSval (before its offset) carry the client's window scale (9) and SACK (bit 4).
  const offset = h.stack.tcp.cookies.tsOffset(flowOf(PEER_IP, US_IP, 40000, 80));
  const encoded = (synAck.options.timestamp!.value - offset) >>> 0;
  assert.equal(encoded & 63, 9 | 16);
  assert.deepEqual(cookieOptions(encoded), { windowScale: 9, sack: true });
  assert.ok(((encoded - Math.floor(h.now())) | 0) <= 0, 'never ahead of our clock (modulo 2^32)');

  h.advance(5);
  h.send({ flags: '.', seq: 1, ack: 1 });
  h.none('no answer to the final ACK');
  assert.equal(h.counter('tcp.syncookie-recv'), 1);
  const t = connection(h)!;
  assert.ok(t, 'the connection exists now');
  assert.equal(t.state, State.Established);
  assert.equal(t.mss, 1460 - 12, 'the cookie MSS less the timestamp option');
  assert.equal(t.sndShift, 9);
  assert.equal(t.rcvShift, 7);
  assert.equal(t.sackOk, true);
  assert.equal(t.tsOk, true);
  assert.equal(t.tsRecent, h.peerTsVal(), "TS.Recent from the ACK's TSval");
  // accept() gives it out (the half-open handshakes are not in the way), and data flows both ways.
  const conn = listener.accept()!;
  assert.ok(conn);
  assert.deepEqual(conn.remote, { address: '10.0.0.2', port: 40000 });
  conn.write(new TextEncoder().encode('hello'));
  const out = h.one();
  expectSeg(out, { flags: 'P.', seq: 1, ack: 1, len: 5 });
  assert.ok(((out.options.timestamp!.value - offset - encoded) | 0) >= 5, 'TSvals go on from the cookie (modulo 2^32)');
  h.send({ flags: 'P.', seq: 1, ack: 6, data: 'world', window: 100 });
  assert.equal(new TextDecoder().decode(readAll(conn)), 'world');
  assert.equal(t.sndWnd, 100 << 9, "the ACK's window, scaled by the shift the cookie carried");
});

test("Linux's cookie MSS table (536, 1300, 1440, 1460): the client's MSS is rounded down to an entry, 536 below the first or when it offered none", async () => {
  const cases: Array<[number | undefined, number]> = [
    [undefined, 536],
    [500, 536],
    [1299, 536],
    [1300, 1300],
    [1439, 1300],
    [1452, 1440],
    [1460, 1460],
    [8960, 1460],
  ];
  for (const [offered, want] of cases) {
    const { h } = flooded();
    syn(h, offered === undefined ? {} : { mss: offered });
    h.send({ flags: '.', seq: 1, ack: 1 });
    assert.equal(connection(h)?.mss, want, `offered ${offered}`);
  }
  assert.deepEqual([...COOKIE_MSS], [536, 1300, 1440, 1460]);
});

test('without timestamps a cookie cannot carry window scale or SACK: the SYN-ACK offers MSS only, and the connection has neither (as Linux)', async () => {
  const { h } = flooded();
  const synAck = syn(h, { mss: 1460, sack: true, wscale: 7 });
  assert.deepEqual(synAck.options, { mss: 1460 });
  h.send({ flags: '.', seq: 1, ack: 1 });
  const t = connection(h)!;
  assert.equal(t.sackOk, false);
  assert.equal(t.tsOk, false);
  assert.equal(t.sndShift, 0);
  assert.equal(t.rcvShift, 0);
});

test('a forged ACK (wrong cookie) or one for another ISN gets a RST and makes no connection', async () => {
  const { h } = flooded();
  syn(h, { mss: 1460 });
  // (A cookie off by one or two still decodes, to another MSS index, as Linux's does: the hash guards the rest.)
  h.send({ flags: '.', seq: 1, ack: 100_001 });
  expectSeg(h.one(), { flags: 'R', seq: 100_001 });
  h.send({ flags: '.', seq: 100_001, ack: 1 });
  expectSeg(h.one(), { flags: 'R', seq: 1 });
  h.send({ flags: '.', seq: 1, ack: 1, srcPort: 40001 });
  expectSeg(h.one(), { flags: 'R', seq: 1 });
  assert.equal(h.counter('tcp.syncookie-failed'), 3);
  assert.equal(connection(h), undefined);
  // The right one still works.
  h.send({ flags: '.', seq: 1, ack: 1 });
  h.none();
  assert.ok(connection(h));
});

test('a cookie is valid in its minute and the next (MAX_SYNCOOKIE_AGE 2), not after', async () => {
  for (const [wait, accepted] of [
    [119_999, true],
    [120_000, false],
  ] as const) {
    const { h } = flooded();
    syn(h, { mss: 1460 });
    h.advance(wait);
    h.take();
    h.send({ flags: '.', seq: 1, ack: 1 });
    if (accepted) {
      h.none();
      assert.ok(connection(h), `after ${wait} ms`);
    } else {
      expectSeg(h.one(), { flags: 'R', seq: 1 });
      assert.equal(connection(h), undefined, `after ${wait} ms`);
    }
  }
});

test('the final ACK may carry data: it is delivered with the connection', async () => {
  const { h, listener } = flooded();
  syn(h, { mss: 1460 });
  h.send({ flags: 'P.', seq: 1, ack: 1, data: 'GET / HTTP/1.1\r\n\r\n' });
  const conn = listener.accept()!;
  assert.equal(new TextDecoder().decode(readAll(conn)), 'GET / HTTP/1.1\r\n\r\n');
});

test('a retransmitted SYN gets the same cookie: no state, same answer', async () => {
  const { h } = flooded();
  const first = syn(h, { mss: 1460 });
  h.advance(1000);
  h.take(); // the half-open handshakes' SYN-ACKs, sent again
  h.send({ flags: 'S', seq: 0, options: { mss: 1460 } });
  const again = h.one();
  assert.equal(again.seq, first.seq);
  assert.equal(h.counter('tcp.syncookie-sent'), 2);
});

test('with the accept queue full too, SYNs are dropped (no cookie) and a cookie ACK is dropped silently, as Linux does', async () => {
  const { h, listener } = flooded();
  // Backlog 8: the accept queue holds 8 + 1 (Linux's sk_acceptq_is_full).
  for (let port = 41000; port < 41009; port++) {
    h.iss = null;
    h.send({ flags: 'S', seq: 0, srcPort: port, options: { mss: 1460 } });
    h.one();
    h.send({ flags: '.', seq: 1, ack: 1, srcPort: port });
  }
  assert.equal(h.counter('tcp.syncookie-recv'), 9);
  h.iss = null;
  h.send({ flags: 'S', seq: 0, options: { mss: 1460 } });
  h.none('accept queue full: the SYN is dropped');
  // Room for one: the client's retransmitted SYN gets its cookie; another client takes the place before its ACK.
  assert.ok(listener.accept());
  h.send({ flags: 'S', seq: 0, options: { mss: 1460 } });
  h.one();
  const iss = h.iss;
  h.iss = null;
  h.send({ flags: 'S', seq: 0, srcPort: 42000, options: { mss: 1460 } });
  h.one();
  h.send({ flags: '.', seq: 1, ack: 1, srcPort: 42000 });
  h.iss = iss;
  h.send({ flags: '.', seq: 1, ack: 1 });
  h.none('no RST for an ACK the full queue cannot take');
  assert.equal(connection(h), undefined);
  assert.equal(connection(h, 42000)?.state, State.Established);
});

test('synCookies 0 drops SYNs when the queue is full; synCookies 2 answers every SYN with a cookie', async () => {
  const { h } = flooded({ synCookies: 0 });
  h.send({ flags: 'S', seq: 0, options: { mss: 1460 } });
  h.none();
  assert.equal(h.counter('tcp.syncookie-sent'), 0);
  const always = new Harness({ tcp: { synCookies: 2 } });
  always.listen(8);
  always.send({ flags: 'S', seq: 0, options: { mss: 1460 } });
  always.one();
  assert.equal(always.stack.tcp.connections.size, 0, 'no state even with an empty queue');
  always.send({ flags: '.', seq: 1, ack: 1 });
  assert.equal(always.state(), 'ESTABLISHED');
});
