/** Passive open through a listener, segment by segment (RFC 9293 §3.5, §3.10.7.2; RFC 7323 and RFC 2018 option negotiation). */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { SocketLibrary } from '../../../src/socket/library.js';
import { expectSeg, flush, Harness, readAll } from './harness.js';

test('RFC 9293 §3.10.7.2: a SYN to a listener gets <SEQ=ISS><ACK=SEG.SEQ+1><CTL=SYN,ACK> with every option the peer offered', () => {
  const h = new Harness();
  h.listen();
  h.send({ flags: 'S', seq: 0, options: h.synOptions({ mss: 1460, sack: true, ts: true, wscale: 7 }), tsVal: false });
  const synAck = h.one();
  expectSeg(synAck, { flags: 'S.', seq: 0, ack: 1, window: 65535, len: 0 });
  assert.equal(synAck.options.mss, 1460);
  assert.equal(synAck.options.sackPermitted, true);
  assert.equal(synAck.options.windowScale, 7);
  assert.equal(synAck.options.timestamp?.echo, h.peerTsVal(), 'TSecr echoes the SYN (RFC 7323 §3.2)');
  assert.equal(h.state(), 'SYN-RECEIVED');
});

test("RFC 7323 §1.3, RFC 2018 §2: options the peer's SYN lacks are not in the SYN-ACK (a bare SYN gets MSS only)", () => {
  const h = new Harness();
  h.listen();
  h.send({ flags: 'S', seq: 0 });
  const synAck = h.one();
  expectSeg(synAck, { flags: 'S.', seq: 0, ack: 1, window: 65535 });
  assert.deepEqual(synAck.options, { mss: 1460 });
  assert.equal(synAck.bytes[12]! >> 4, 6, 'a 24-byte header');
});

test('RFC 2018 §2: a SYN offering only SACK gets MSS and NOP NOP SACK-permitted', () => {
  const h = new Harness();
  h.listen();
  h.send({ flags: 'S', seq: 0, options: { mss: 1460, sackPermitted: true } });
  const synAck = h.one();
  assert.deepEqual(synAck.options, { mss: 1460, sackPermitted: true });
  assert.deepEqual([...synAck.bytes.subarray(20, 28)], [2, 4, 5, 0xb4, 1, 1, 4, 2]);
});

test('RFC 7323 §2.2: a SYN offering window scale (no timestamps) gets MSS and NOP WS=7, and our windows are scaled after', () => {
  const h = new Harness();
  const listener = h.listen();
  h.send({ flags: 'S', seq: 0, options: { mss: 1460, windowScale: 2 } });
  const synAck = h.one();
  assert.deepEqual(synAck.options, { mss: 1460, windowScale: 7 });
  assert.deepEqual([...synAck.bytes.subarray(20, 28)], [2, 4, 5, 0xb4, 1, 3, 3, 7]);
  h.send({ flags: '.', seq: 1, ack: 1, window: 1000 });
  const conn = listener.accept()!;
  // The peer's window field is scaled by its shift (2): 4000 bytes, so 4000 go at once.
  conn.write(new Uint8Array(10_000));
  const out = h.take();
  assert.deepEqual(
    out.map((o) => o.len),
    [1460, 1460, 1080],
  );
  expectSeg(out[0]!, { flags: '.', seq: 1, ack: 1, window: 65536 >> 7 });
});

test('RFC 9293 §3.10.7.4: the peer ACKing our SYN-ACK completes the handshake: accept() returns the connection, the listener is notified', () => {
  const h = new Harness();
  const listener = h.listen();
  let notified = 0;
  listener.notify = () => notified++;
  h.send({ flags: 'S', seq: 0, options: { mss: 1460 } });
  h.one();
  assert.equal(listener.accept(), null, 'nothing to accept before the final ACK');
  h.send({ flags: '.', seq: 1, ack: 1 });
  h.none();
  assert.equal(notified, 1);
  const conn = listener.accept();
  assert.ok(conn);
  assert.deepEqual(conn.remote, { address: '10.0.0.2', port: 40000 });
  assert.deepEqual(conn.local, { address: '10.0.0.1', port: 80 });
  assert.equal(h.state(), 'ESTABLISHED');
  assert.equal(listener.accept(), null);
});

test('RFC 9293 §3.10.7.4: a retransmitted SYN in SYN-RECEIVED is answered with the same SYN-ACK', () => {
  const h = new Harness();
  h.listen();
  h.send({ flags: 'S', seq: 0, options: { mss: 1460 } });
  const first = h.one();
  h.advance(300);
  h.send({ flags: 'S', seq: 0, options: { mss: 1460 } });
  const again = h.one();
  expectSeg(again, { flags: 'S.', seq: 0, ack: 1, window: first.window });
  assert.deepEqual(again.options, first.options);
});

test('RFC 6298 §5.5 and tcp_synack_retries: an unanswered SYN-ACK goes again at 1, 3, 7, 15, 31 s; then the half-open connection is dropped silently', () => {
  const h = new Harness();
  h.listen();
  h.send({ flags: 'S', seq: 0, options: { mss: 1460 } });
  h.one();
  h.advance(62_999);
  const again = h.take();
  assert.deepEqual(
    again.map((o) => o.at),
    [1000, 3000, 7000, 15000, 31000],
  );
  for (const o of again) expectSeg(o, { flags: 'S.', seq: 0, ack: 1 });
  assert.equal(h.state(), 'SYN-RECEIVED');
  h.advance(1);
  h.none('no RST when the half-open connection is dropped');
  assert.equal(h.state(), 'none');
  // Its final ACK now finds no connection: RST (RFC 9293 §3.10.7.1).
  h.send({ flags: '.', seq: 1, ack: 1 });
  expectSeg(h.one(), { flags: 'R', seq: 1 });
});

test('RFC 9293 §3.10.7.4: in SYN-RECEIVED an ACK of something we never sent gets <SEQ=SEG.ACK><CTL=RST>', () => {
  const h = new Harness();
  const listener = h.listen();
  h.send({ flags: 'S', seq: 0, options: { mss: 1460 } });
  h.one();
  h.send({ flags: '.', seq: 1, ack: 9 });
  expectSeg(h.one(), { flags: 'R', seq: 9, len: 0 });
  assert.equal(h.state(), 'SYN-RECEIVED');
  assert.equal(listener.accept(), null);
  h.send({ flags: '.', seq: 1, ack: 1 });
  assert.ok(listener.accept());
});

test('RFC 9293 §3.10.7.4: a RST in SYN-RECEIVED of a passive open returns to LISTEN: the connection vanishes, nothing is sent', () => {
  const h = new Harness();
  const listener = h.listen();
  h.send({ flags: 'S', seq: 0, options: { mss: 1460 } });
  h.one();
  h.send({ flags: 'R', seq: 1 });
  h.none();
  assert.equal(h.state(), 'none');
  assert.equal(listener.accept(), null);
  // The listener still listens.
  h.iss = null;
  h.send({ flags: 'S', seq: 100, options: { mss: 1460 } });
  expectSeg(h.one(), { flags: 'S.', seq: 0, ack: 101 });
});

test('RFC 9293 §3.10.7.4 step 4: a SYN with a new sequence number in SYN-RECEIVED of a passive open returns to LISTEN silently', () => {
  const h = new Harness();
  h.listen();
  h.send({ flags: 'S', seq: 0, options: { mss: 1460 } });
  h.one();
  h.send({ flags: 'S', seq: 50, options: { mss: 1460 } });
  h.none();
  assert.equal(h.state(), 'none');
});

test('RFC 9293 §3.5 and Linux: the accept queue holds backlog + 1 (backlog 1: two); then a new SYN is dropped silently, and taken once accept() makes room', () => {
  const h = new Harness();
  const listener = h.listen(1);
  // Two clients complete their handshakes: Linux's sk_acceptq_is_full is "queued > backlog".
  for (const srcPort of [40000, 40001]) {
    h.iss = null; // learn this handshake's ISS from its SYN-ACK
    h.send({ flags: 'S', seq: 0, options: { mss: 1460 }, srcPort });
    h.one();
    h.send({ flags: '.', seq: 1, ack: 1, srcPort });
  }
  // A third, from another port.
  h.iss = null;
  h.send({ flags: 'S', seq: 0, options: { mss: 1460 }, srcPort: 40002 });
  h.none('no SYN-ACK, no RST: the client will retry');
  assert.equal(h.counter('tcp.listen-overflow'), 1);
  assert.ok(listener.accept());
  assert.equal(h.stack.tcp.states().filter((st) => st.endsWith('ESTABLISHED')).length, 2, 'both handshakes completed');
  h.send({ flags: 'S', seq: 0, options: { mss: 1460 }, srcPort: 40002 });
  const synAck = h.one();
  assert.equal(synAck.flags, 'S.');
  assert.equal(synAck.dstPort, 40002);
});

test('Linux: backlog 0 still holds one connection (0 + 1), not none', () => {
  const h = new Harness();
  const listener = h.listen(0);
  h.send({ flags: 'S', seq: 0, options: { mss: 1460 } });
  h.one();
  h.send({ flags: '.', seq: 1, ack: 1 });
  h.iss = null;
  h.send({ flags: 'S', seq: 0, options: { mss: 1460 }, srcPort: 40001 });
  h.none('the second SYN is dropped');
  assert.ok(listener.accept());
  assert.equal(listener.accept(), null);
});

test('RFC 9293 §3.10.7.4: data on the handshake-completing ACK is queued for the application and acknowledged (delayed 40 ms)', () => {
  const h = new Harness();
  const listener = h.listen();
  h.send({ flags: 'S', seq: 0, options: { mss: 1460 } });
  h.one();
  h.send({ flags: 'P.', seq: 1, ack: 1, data: 'GET / HTTP/1.1\r\n\r\n' });
  h.none('the ACK is delayed');
  const conn = listener.accept()!;
  assert.equal(new TextDecoder().decode(readAll(conn)), 'GET / HTTP/1.1\r\n\r\n');
  h.advance(40);
  expectSeg(h.one(), { flags: '.', seq: 1, ack: 19 });
});

test('RFC 9293 §3.10.7.4: a FIN on the handshake-completing ACK: CLOSE-WAIT, acknowledged at once, read() returns 0', () => {
  const h = new Harness();
  const listener = h.listen();
  h.send({ flags: 'S', seq: 0, options: { mss: 1460 } });
  h.one();
  h.send({ flags: 'F.', seq: 1, ack: 1 });
  expectSeg(h.one(), { flags: '.', seq: 1, ack: 2 });
  assert.equal(h.state(), 'CLOSE-WAIT');
  const conn = listener.accept()!;
  assert.equal(conn.read(new Uint8Array(10)), 0);
});

test('RFC 9293 §3.10.7.2: an ACK (no SYN) to a listening port gets <SEQ=SEG.ACK><CTL=RST>; a RST gets nothing', () => {
  const h = new Harness();
  h.listen();
  h.send({ flags: '.', seq: 5, ack: 77 });
  const rst = h.one();
  expectSeg(rst, { flags: 'R', ack: 0, window: 0, len: 0 });
  assert.equal(rst.seq, 77, 'absolute: no ISS of ours is involved');
  h.send({ flags: 'R', seq: 5 });
  h.send({ flags: 'R.', seq: 5, ack: 77 });
  h.none();
});

test('RFC 9293 §3.10.7.2: a SYN-ACK to a listening port gets <SEQ=SEG.ACK><CTL=RST>', () => {
  const h = new Harness();
  h.listen();
  h.send({ flags: 'S.', seq: 0, ack: 1234 });
  expectSeg(h.one(), { flags: 'R', seq: 1234, ack: 0 });
  assert.equal(h.state(), 'none');
});

test('Linux: closing a listener resets the connections nobody accepted, and the port answers with RST after', () => {
  const h = new Harness();
  const listener = h.listen();
  h.send({ flags: 'S', seq: 0, options: { mss: 1460 } });
  h.one();
  h.send({ flags: '.', seq: 1, ack: 1 });
  listener.close();
  expectSeg(h.one(), { flags: 'R.', seq: 1 });
  assert.equal(h.state(), 'none');
  h.iss = null; // the RST's numbers are absolute: no ISS of ours
  h.send({ flags: 'S', seq: 1000, srcPort: 40001 });
  expectSeg(h.one(), { flags: 'R.', seq: 0, ack: 1001 });
});

test('accepted connections inherit the listener options: a 1 MiB receive buffer advertises 8192 << 7', async () => {
  const h = new Harness();
  const { conn } = await h.passiveOpen({ mss: 1460, wscale: 7 }, { recvBufferSize: 1 << 20 });
  h.send({ flags: 'P.', seq: 1, ack: 1, data: 10 });
  h.advance(40);
  expectSeg(h.one(), { flags: '.', seq: 1, ack: 11, window: ((1 << 20) - 10) >> 7 });
  void conn;
});

test('RFC 9293 §3.7.1: data we send to a peer whose SYN said MSS 536 goes in 536-byte segments', async () => {
  const h = new Harness();
  const { conn } = await h.passiveOpen({ mss: 536 });
  conn.write(new Uint8Array(1200));
  const out = h.take();
  assert.deepEqual(
    out.map((o) => [o.flags, o.seq, o.len]),
    [
      ['.', 1, 536],
      ['.', 537, 536],
      ['P.', 1073, 128],
    ],
  );
});

test('RFC 9293 §3.7.1: a SYN without MSS means 536 (RFC 9293 default send MSS)', async () => {
  const h = new Harness();
  const { conn } = await h.passiveOpen({});
  conn.write(new Uint8Array(600));
  assert.deepEqual(
    h.take().map((o) => o.len),
    [536, 64],
  );
});

test('two clients from different ports each get their own connection and their own ISS', () => {
  const h = new Harness();
  const listener = h.listen();
  h.send({ flags: 'S', seq: 0, options: { mss: 1460 }, srcPort: 40001 });
  h.send({ flags: 'S', seq: 0, options: { mss: 1460 }, srcPort: 40002 });
  const [a, b] = h.take();
  assert.equal(a!.dstPort, 40001);
  assert.equal(b!.dstPort, 40002);
  assert.notEqual(a!.seq, b!.seq);
  h.send({ flags: '.', seq: 1, ack: b!.seq + 1, srcPort: 40002 });
  h.none();
  assert.equal(listener.accept()?.remote.port, 40002);
  assert.equal(listener.accept(), null);
});

test('RFC 9293 §3.10.7.2: a SYN with a bad checksum is dropped and counted', () => {
  const h = new Harness();
  h.listen();
  h.send({ flags: 'S', seq: 0, data: 'x', corrupt: true });
  h.none();
  assert.equal(h.counter('tcp.bad-checksum'), 1);
});

test('passiveOpen: the SYN-ACK acknowledges the peer ISN + 1 whatever it is', async () => {
  for (const peerIsn of [0, 0x7fffffff, 0xffffffff]) {
    const h = new Harness({ peerIsn });
    const { synAck } = await h.passiveOpen();
    expectSeg(synAck, { flags: 'S.', seq: 0, ack: 1 });
    await flush();
  }
});

test('RFC 5961 §3.2: in SYN-RECEIVED a RST inside the window but not at RCV.NXT gets a challenge ACK, and the handshake goes on', () => {
  const h = new Harness();
  const listener = h.listen();
  h.send({ flags: 'S', seq: 0, options: { mss: 1460 } });
  h.one();
  h.send({ flags: 'R', seq: 100 });
  expectSeg(h.one(), { flags: '.', seq: 1, ack: 1 });
  assert.equal(h.state(), 'SYN-RECEIVED');
  h.send({ flags: '.', seq: 1, ack: 1 });
  assert.ok(listener.accept());
});

test('the socket library over the stack (clock.run): accept() and read() sleep until the peer segments arrive on the virtual clock', async () => {
  const h = new Harness();
  const lib = new SocketLibrary(h.stack);
  const ls = await lib.socket('tcp');
  await lib.bind(ls, '0.0.0.0', 80);
  await lib.listen(ls, 4);
  h.clock.setTimer(10, () => h.send({ flags: 'S', seq: 0, options: { mss: 1460 } }));
  h.clock.setTimer(20, () => {
    expectSeg(h.one(), { flags: 'S.', seq: 0, ack: 1 });
    h.send({ flags: '.', seq: 1, ack: 1 });
  });
  h.clock.setTimer(30, () => h.send({ flags: 'P.', seq: 1, ack: 1, data: 'hello' }));
  const got = await h.clock.run(async () => {
    const fd = await lib.accept(ls);
    const buf = new Uint8Array(16);
    const n = await lib.read(fd, buf);
    return { text: new TextDecoder().decode(buf.subarray(0, n)), at: h.now() };
  });
  assert.deepEqual(got, { text: 'hello', at: 30 });
  h.advance(40);
  expectSeg(h.one(), { flags: '.', seq: 1, ack: 6 });
});
