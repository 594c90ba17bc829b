/**
 * Socket-library calls whose effect is on the wire, checked segment by
 * segment against the user stack with a hand-played peer (the packet
 * harness): close() during connect, options set on a listener, TCP_MAXSEG,
 * and the readable count (FIONREAD).
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { SocketError } from '../../src/socket/errors.js';
import { SocketLibrary } from '../../src/socket/library.js';
import { expectSeg, flush, Harness, PEER, SERVER_PORT, track } from '../stack/user/harness.js';

test('close() while connect() waits abandons the handshake: connect fails with EBADF and a later SYN-ACK meets a closed port (RST, no ACK)', async () => {
  const h = new Harness();
  const lib = new SocketLibrary(h.stack);
  const fd = await lib.socket('tcp');
  const connecting = track(lib.connect(fd, PEER, SERVER_PORT));
  await flush();
  const syn = h.one('the SYN');
  expectSeg(syn, { flags: 'S', seq: 0 });
  h.usPort = syn.srcPort;
  h.peerPort = SERVER_PORT;
  await lib.close(fd);
  await flush();
  assert.equal(connecting.error(), 'EBADF');
  h.none('close in SYN-SENT sends nothing');
  assert.equal(h.stack.tcp.connections.size, 0, 'the connection is gone');
  h.send({ flags: 'S.', seq: 0, ack: 1, options: { mss: 1460 } });
  expectSeg(h.one('the reset'), { flags: 'R', seq: 1 });
});

test('setsockopt on a listening socket reaches the connections it accepts afterwards (TCP_MAXSEG 1100 in the SYN-ACK)', async () => {
  const h = new Harness();
  const lib = new SocketLibrary(h.stack);
  const fd = await lib.socket('tcp');
  await lib.bind(fd, '0.0.0.0', SERVER_PORT);
  await lib.listen(fd, 4);
  await lib.setsockopt(fd, { maxSegment: 1100, noDelay: true });
  h.send({ flags: 'S', seq: 0, options: { mss: 1300 } });
  const synAck = h.one('the SYN-ACK');
  assert.equal(synAck.options.mss, 1100);
  h.send({ flags: '.', seq: 1, ack: 1 });
  const child = await lib.accept(fd);
  assert.equal((await lib.getsockopt(child)).maxSegment, 1100);
  assert.equal(h.tcb().mss, 1100);
  assert.equal(h.tcb().options.noDelay, true);
});

test('maxSegment is checked as Linux checks TCP_MAXSEG: 0, or 88 to 32767', async () => {
  const h = new Harness();
  const lib = new SocketLibrary(h.stack);
  const fd = await lib.socket('tcp');
  for (const bad of [87, 32_768, 1.5, -1]) {
    await assert.rejects(lib.setsockopt(fd, { maxSegment: bad }), (e: unknown) => e instanceof SocketError && e.code === 'EINVAL', String(bad));
  }
  await lib.setsockopt(fd, { maxSegment: 88 });
  await lib.setsockopt(fd, { maxSegment: 0 });
});

test('readable(fd) counts the bytes waiting (FIONREAD), 0 after shutdown(SHUT_RD), EBADF for a closed descriptor', async () => {
  const h = new Harness();
  const lib = new SocketLibrary(h.stack);
  const ls = await lib.socket('tcp');
  await lib.bind(ls, '0.0.0.0', SERVER_PORT);
  await lib.listen(ls, 4);
  h.send({ flags: 'S', seq: 0, options: { mss: 1460 } });
  h.one('the SYN-ACK');
  h.send({ flags: '.', seq: 1, ack: 1 });
  const fd = await lib.accept(ls);
  assert.equal(await lib.readable(fd), 0);
  h.send({ flags: 'P.', seq: 1, ack: 1, data: 700 });
  assert.equal(await lib.readable(fd), 700);
  await lib.read(fd, new Uint8Array(200));
  assert.equal(await lib.readable(fd), 500);
  await lib.shutdown(fd, 'read');
  assert.equal(await lib.readable(fd), 0);
  await lib.close(fd);
  await assert.rejects(lib.readable(fd), (e: unknown) => e instanceof SocketError && e.code === 'EBADF');
});
