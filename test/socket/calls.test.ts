/** The socket calls in the seed's order, on both stacks: real loopback sockets, and the simulated link. */
import assert from 'node:assert/strict';
import { bytes, dial, echoLoop, readExactly, readToEnd, text } from '../helpers.js';
import { connectPair, eachStack, listenOn } from './stacks.js';

eachStack('echo: what the client writes comes back through the library', async ({ client, server }) => {
  const { fd: listener, port } = await listenOn(server);
  const serving = echoLoop(server.lib, listener);
  const fd = await dial(client.lib, port, server.address);
  const message = bytes('hello, protocol stack');
  assert.equal(await client.lib.write(fd, message), message.length);
  assert.equal(text(await readExactly(client.lib, fd, message.length)), 'hello, protocol stack');
  await client.lib.close(fd);
  await server.lib.close(listener);
  await serving;
});

eachStack('descriptors are the lowest free integers from 3, reused after close (POSIX)', async (net) => {
  const own = net.library(net.client, 'own');
  const a = await own.socket('tcp');
  const b = await own.socket('udp');
  const c = await own.socket('tcp');
  assert.deepEqual([a, b, c], [3, 4, 5]);
  await own.close(b);
  assert.equal(await own.socket('tcp'), 4, 'the freed 4 is the lowest free');
  await own.close(a);
  await own.close(c);
  assert.equal(await own.socket('udp'), 3);
  assert.equal(await own.socket('udp'), 5);
  assert.equal(await own.socket('udp'), 6);
  await own.closeAll();
  assert.equal(own.openCount, 0);
});

eachStack('every call on a closed descriptor fails with EBADF, naming the call and the descriptor', async ({ client: { lib }, server }) => {
  const fd = await lib.socket('tcp');
  await lib.close(fd);
  const buf = new Uint8Array(8);
  const calls: [string, () => Promise<unknown>][] = [
    ['read', () => lib.read(fd, buf)],
    ['write', () => lib.write(fd, buf)],
    ['connect', () => lib.connect(fd, server.address, 80)],
    ['close', () => lib.close(fd)],
    ['accept', () => lib.accept(fd)],
    ['shutdown', () => lib.shutdown(fd, 'both')],
  ];
  for (const [call, run] of calls) {
    await assert.rejects(run(), (e: any) => e.name === 'SocketError' && e.code === 'EBADF' && e.call === call && e.fd === fd && e.message.startsWith(`${call}(fd ${fd}`));
  }
  await assert.rejects(lib.read(999, buf), { code: 'EBADF' });
  await assert.rejects(lib.read(-1, buf), { code: 'EBADF' });
  await assert.rejects(lib.read(3.5, buf), { code: 'EBADF' });
});

eachStack('connect to a port with no listener fails with ECONNREFUSED', async ({ client: { lib }, server }) => {
  const probe = await listenOn(server);
  await server.lib.close(probe.fd); // the port was free a moment ago and now nobody listens
  const fd = await lib.socket('tcp');
  await assert.rejects(
    lib.connect(fd, server.address, probe.port),
    (e: any) => e.code === 'ECONNREFUSED' && e.message === `connect(fd ${fd}, ${server.address}:${probe.port}): ECONNREFUSED (connection refused)`,
  );
  // The socket may try again after a failed connect.
  const listening = await listenOn(server);
  await lib.connect(fd, server.address, listening.port);
  assert.equal((await lib.getpeername(fd)).port, listening.port);
  await lib.close(fd);
  await server.lib.close(listening.fd);
});

eachStack('read returns 0 once the peer has closed, after all its data', async ({ client, server }) => {
  const { fd, conn, listener } = await connectPair({ client, server });
  await server.lib.write(conn, bytes('last words'));
  await server.lib.close(conn); // the server closes first, as web servers usually do
  assert.equal(text(await readToEnd(client.lib, fd)), 'last words');
  assert.equal(await client.lib.read(fd, new Uint8Array(4)), 0, 'and stays at 0');
  await client.lib.close(fd);
  await server.lib.close(listener);
});

eachStack("half-close: shutdown('write') sends FIN; the other direction keeps working", async ({ client, server }) => {
  const { fd, conn, listener } = await connectPair({ client, server });
  await client.lib.write(fd, bytes('request, then FIN'));
  await client.lib.shutdown(fd, 'write');
  await assert.rejects(client.lib.write(fd, bytes('x')), { code: 'EPIPE', call: 'write' });
  // The server sees the end of the request...
  assert.equal(text(await readToEnd(server.lib, conn)), 'request, then FIN');
  // ...and can still answer on its half.
  await server.lib.write(conn, bytes('response after your FIN'));
  await server.lib.close(conn);
  assert.equal(text(await readToEnd(client.lib, fd)), 'response after your FIN');
  await client.lib.close(fd);
  await server.lib.close(listener);
});

eachStack("shutdown('read'): later reads return 0 at once", async ({ client, server }) => {
  const { fd, conn, listener } = await connectPair({ client, server });
  await client.lib.shutdown(fd, 'read');
  await server.lib.write(conn, bytes('ignored'));
  assert.equal(await client.lib.read(fd, new Uint8Array(16)), 0);
  await client.lib.close(fd);
  await server.lib.close(conn);
  await server.lib.close(listener);
});

eachStack('getsockname and getpeername agree across the two ends', async ({ client, server }) => {
  const { fd, conn, port, close } = await connectPair({ client, server });
  const clientName = await client.lib.getsockname(fd);
  assert.equal(clientName.address, client.address);
  assert.ok(clientName.port > 0 && clientName.port !== port);
  assert.deepEqual(await server.lib.getpeername(conn), clientName);
  assert.deepEqual(await client.lib.getpeername(fd), { address: server.address, port });
  assert.deepEqual(await server.lib.getsockname(conn), { address: server.address, port });
  const fresh = await client.lib.socket('tcp');
  assert.deepEqual(await client.lib.getsockname(fresh), { address: '0.0.0.0', port: 0 });
  await assert.rejects(client.lib.getpeername(fresh), { code: 'ENOTCONN' });
  await client.lib.close(fresh);
  await close();
});

eachStack("closing with unread data resets the connection (RFC 2525 §2.17): the peer's next read fails with ECONNRESET at once", async ({ client, server }) => {
  const { fd, conn, listener } = await connectPair({ client, server });
  await client.lib.write(fd, bytes('xnever read'));
  // Reading one byte proves the write reached the server; the other ten stay unread.
  assert.equal(await server.lib.read(conn, new Uint8Array(1)), 1);
  await server.lib.close(conn);
  // A FIN would make this read return 0 (end of stream); only a RST makes it fail, and it is already on its way.
  await assert.rejects(client.lib.read(fd, new Uint8Array(16), undefined, { timeout: 1000 }), { code: 'ECONNRESET' });
  await client.lib.close(fd);
  await server.lib.close(listener);
});

eachStack('a bound client socket connects from its own port', async ({ client, server }) => {
  const listening = await listenOn(server);
  const fd = await client.lib.socket('tcp');
  await client.lib.bind(fd, client.address, 0);
  const { port: local } = await client.lib.getsockname(fd);
  assert.ok(local > 0);
  await client.lib.connect(fd, server.address, listening.port);
  assert.deepEqual(await client.lib.getsockname(fd), { address: client.address, port: local }, 'the same address and port after connect');
  const conn = await server.lib.accept(listening.fd);
  assert.deepEqual(await server.lib.getpeername(conn), { address: client.address, port: local });
  await client.lib.close(fd);
  for (const d of [conn, listening.fd]) await server.lib.close(d);
});

eachStack('a zero-length read or write returns 0 at once', async (net) => {
  const { client, server } = net;
  const { fd, conn, close } = await connectPair({ client, server });
  const t0 = net.now();
  assert.equal(await client.lib.read(fd, new Uint8Array(0), undefined, { timeout: 1000 }), 0);
  assert.equal(await client.lib.write(fd, new Uint8Array(0)), 0);
  assert.ok(net.now() - t0 < 500, 'neither waited');
  // The stream is untouched: the next bytes arrive as sent.
  await client.lib.write(fd, bytes('after'));
  assert.equal(text(await readExactly(server.lib, conn, 5)), 'after');
  await close();
});

eachStack('listen without bind takes a free port on every address (0.0.0.0)', async ({ client, server }) => {
  const fd = await server.lib.socket('tcp');
  await server.lib.listen(fd);
  const name = await server.lib.getsockname(fd);
  assert.equal(name.address, '0.0.0.0');
  assert.ok(name.port > 0);
  const c = await dial(client.lib, name.port, server.address);
  const conn = await server.lib.accept(fd);
  assert.deepEqual(await server.lib.getsockname(conn), { address: server.address, port: name.port }, 'the accepted socket names the address it was reached at');
  await client.lib.close(c);
  for (const d of [conn, fd]) await server.lib.close(d);
});

eachStack('binding an address the host does not have is EADDRNOTAVAIL', async ({ client: { lib } }) => {
  for (const type of ['tcp', 'udp'] as const) {
    const fd = await lib.socket(type);
    await assert.rejects(lib.bind(fd, '192.0.2.1', 0), { code: 'EADDRNOTAVAIL', call: 'bind' }, type);
    await lib.close(fd);
  }
});

eachStack("after shutdown('both') reads return 0 and writes fail with EPIPE; the peer sees the end", async ({ client, server }) => {
  const { fd, conn, close } = await connectPair({ client, server });
  await client.lib.shutdown(fd, 'both');
  assert.equal(await client.lib.read(fd, new Uint8Array(8)), 0);
  await assert.rejects(client.lib.write(fd, bytes('x')), { code: 'EPIPE', call: 'write' });
  assert.equal(await server.lib.read(conn, new Uint8Array(8), undefined, { timeout: 1000 }), 0);
  await close();
});

eachStack('closing a listener resets the connections nobody accepted', async ({ client, server }) => {
  const { fd: listener, port } = await listenOn(server);
  const fd = await dial(client.lib, port, server.address);
  await server.lib.close(listener);
  await assert.rejects(client.lib.read(fd, new Uint8Array(8), undefined, { timeout: 1000 }), { code: 'ECONNRESET' });
  await client.lib.close(fd);
});

eachStack('writes to a peer that has closed fail with ECONNRESET or EPIPE once its RST is back (Linux)', async (net) => {
  const { client, server } = net;
  const { fd, conn, listener } = await connectPair({ client, server });
  await server.lib.close(conn);
  // Its FIN: the client's read says the stream ended; writing is still allowed (a half-close looks the same)...
  assert.equal(await client.lib.read(fd, new Uint8Array(8), undefined, { timeout: 1000 }), 0);
  await client.lib.write(fd, bytes('into the void'));
  // ...but the closed peer answers it with RST, after which writes fail.
  let failure = '';
  for (let i = 0; i < 20 && !failure; i++) {
    await net.sleep(10);
    await client.lib.write(fd, bytes('more')).catch((e: any) => (failure = e.code));
  }
  if (net.name === 'kernel') {
    // A difference of the kernel stack, not of Linux: its close() half-closes the node:net socket and
    // drains what still arrives until the peer's FIN (KernelConnection.close, a lingering close), so
    // the OS never answers with RST and these writes succeed. Linux's close() answers with RST.
    assert.equal(failure, '', 'the kernel stack drains after close; if this fails, it now resets as Linux does');
  } else {
    assert.ok(failure === 'ECONNRESET' || failure === 'EPIPE', `writes failed with ${failure || 'nothing'}`);
  }
  await client.lib.close(fd);
  await server.lib.close(listener);
});

eachStack("a host connects to its own listener: over its own address and 127.0.0.1", async ({ server }) => {
  const { lib } = server;
  const fd = await lib.socket('tcp');
  await lib.listen(fd);
  const { port } = await lib.getsockname(fd);
  for (const address of [server.address, '127.0.0.1']) {
    const c = await dial(lib, port, address);
    const conn = await lib.accept(fd);
    assert.deepEqual(await lib.getpeername(c), { address, port });
    assert.equal((await lib.getsockname(c)).address, address, 'the source is the address it talks to, as Linux picks it');
    await lib.write(c, bytes(`to ${address}`));
    assert.equal(text(await readExactly(lib, conn, 3 + address.length)), `to ${address}`);
    for (const d of [c, conn]) await lib.close(d);
  }
  await lib.close(fd);
});

eachStack('connect to a port that is bound but not listening is refused (Linux: ECONNREFUSED)', async (net) => {
  const { client, server } = net;
  const bound = await server.lib.socket('tcp');
  await server.lib.bind(bound, server.address, 0);
  const { port } = await server.lib.getsockname(bound);
  const fd = await client.lib.socket('tcp');
  if (net.name === 'kernel') {
    // Inherent to node:net, which binds and listens in one step: the OS completes the handshake and
    // the kernel stack resets the connection at once, so the refusal shows on the first read instead.
    const refused = await client.lib.connect(fd, server.address, port).then(
      () => client.lib.read(fd, new Uint8Array(8), undefined, { timeout: 1000 }),
      (e: any) => e,
    );
    assert.ok(refused instanceof Error && ['ECONNREFUSED', 'ECONNRESET'].includes((refused as any).code), `got ${String(refused)}`);
  } else {
    await assert.rejects(client.lib.connect(fd, server.address, port), { code: 'ECONNREFUSED', call: 'connect' });
  }
  await client.lib.close(fd);
  await server.lib.close(bound);
});

eachStack('accept hands out connections in the order their handshakes completed', async ({ client, server }) => {
  const { fd: listener, port } = await listenOn(server);
  const fds: number[] = [];
  for (let i = 0; i < 5; i++) fds.push(await dial(client.lib, port, server.address));
  for (const fd of fds) {
    const conn = await server.lib.accept(listener);
    assert.deepEqual(await server.lib.getpeername(conn), await client.lib.getsockname(fd));
    await server.lib.close(conn);
  }
  for (const fd of fds) await client.lib.close(fd);
  await server.lib.close(listener);
});
