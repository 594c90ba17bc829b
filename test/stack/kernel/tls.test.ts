/**
 * node:tls over the kernel stack's descriptors against node:tls on node:net's
 * own sockets, both ways: the library's Duplex interoperates with peers that
 * never went through it. (TLS with the library at both ends runs on both
 * stacks in test/socket/duplex.test.ts.)
 */
import assert from 'node:assert/strict';
import { once } from 'node:events';
import { readFileSync } from 'node:fs';
import type net from 'node:net';
import tls from 'node:tls';
import { after, test } from 'node:test';
import { dial, kernelLibrary, listenLoopback, LOOPBACK } from '../../helpers.js';

const fixture = (name: string) => readFileSync(new URL(`../../../../test/fixtures/${name}`, import.meta.url));
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
