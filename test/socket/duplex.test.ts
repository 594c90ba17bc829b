/** toDuplex: Node stream users, node:tls first of all, running over the socket library. */
import assert from 'node:assert/strict';
import { once } from 'node:events';
import { readFileSync } from 'node:fs';
import net from 'node:net';
import { pipeline } from 'node:stream/promises';
import tls from 'node:tls';
import { after, test } from 'node:test';
import { dial, echoLoop, kernelLibrary, listenLoopback, LOOPBACK, readToEnd } from '../helpers.js';

const fixture = (name: string) => readFileSync(new URL(`../../../test/fixtures/${name}`, import.meta.url));
const cert = fixture('localhost.crt');
const key = fixture('localhost.key');
const lib = kernelLibrary();
after(() => lib.closeAll());

test('TLS client over toDuplex talks to a local node:tls server', async () => {
  const server = tls.createServer({ cert, key }, (socket) => {
    socket.once('data', (d) => socket.end(`secure echo: ${d}`));
  });
  server.listen(0, LOOPBACK);
  await once(server, 'listening');
  const { port } = server.address() as net.AddressInfo;
  const fd = await dial(lib, port);
  const secure = tls.connect({ socket: lib.toDuplex(fd), ca: cert, servername: 'localhost' });
  await once(secure, 'secureConnect');
  assert.equal(secure.authorized, true, 'the certificate chain verified');
  secure.write('over the socket library');
  const chunks: Buffer[] = [];
  for await (const c of secure) chunks.push(c as Buffer);
  assert.equal(Buffer.concat(chunks).toString(), 'secure echo: over the socket library');
  server.close();
  assert.equal(lib.openCount, 0, 'the descriptor was closed with the stream');
});

test('TLS server over toDuplex on an accepted descriptor answers a node:tls client', async () => {
  const { fd: listener, port } = await listenLoopback(lib);
  const serving = (async () => {
    const fd = await lib.accept(listener);
    const secure = new tls.TLSSocket(lib.toDuplex(fd), { isServer: true, cert, key });
    const [line] = (await once(secure, 'data')) as [Buffer];
    secure.end(`hello ${line}`);
    await once(secure, 'close');
  })();
  const client = tls.connect({ host: LOOPBACK, port, ca: cert, servername: 'localhost' });
  await once(client, 'secureConnect');
  client.write('tls client');
  const chunks: Buffer[] = [];
  for await (const c of client) chunks.push(c as Buffer);
  assert.equal(Buffer.concat(chunks).toString(), 'hello tls client');
  await serving;
  await lib.close(listener);
});

test('pipeline() through a Duplex moves a large body and ends both ways', async () => {
  const server = kernelLibrary('server');
  const { fd: listener, port } = await listenLoopback(server);
  const serving = echoLoop(server, listener);
  const fd = await dial(lib, port);
  const duplex = lib.toDuplex(fd);
  const body = Buffer.alloc(3 * 1024 * 1024, 'abc');
  const received: Buffer[] = [];
  await Promise.all([
    pipeline(async function* () {
      yield body;
    }, duplex),
    (async () => {
      for await (const c of duplex) received.push(c as Buffer);
    })(),
  ]);
  assert.ok(Buffer.concat(received).equals(body));
  await server.close(listener);
  await serving;
});

test('toDuplex on a socket that is not connected is ENOTCONN', async () => {
  const fd = await lib.socket('tcp');
  assert.throws(() => lib.toDuplex(fd), { code: 'ENOTCONN', call: 'toDuplex' });
  await lib.close(fd);
  await assert.rejects(readToEnd(lib, fd), { code: 'EBADF' });
});
