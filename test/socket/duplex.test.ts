/** toDuplex: Node stream users, node:tls first of all, running over the socket library on both stacks. */
import assert from 'node:assert/strict';
import { once } from 'node:events';
import { readFileSync } from 'node:fs';
import { pipeline } from 'node:stream/promises';
import tls from 'node:tls';
import { dial, echoLoop, readToEnd } from '../helpers.js';
import { eachStack, listenOn, sized } from './stacks.js';

const fixture = (name: string) => readFileSync(new URL(`../../../test/fixtures/${name}`, import.meta.url));
const cert = fixture('localhost.crt');
const key = fixture('localhost.key');

eachStack('TLS at both ends over toDuplex: the client verifies the server, and each reads what the other wrote', async ({ client, server }) => {
  const { fd: listener, port } = await listenOn(server);
  const serving = (async () => {
    const fd = await server.lib.accept(listener);
    const secure = new tls.TLSSocket(server.lib.toDuplex(fd), { isServer: true, cert, key });
    const [line] = (await once(secure, 'data')) as [Buffer];
    secure.end(`secure echo: ${line}`);
    await once(secure, 'close');
  })();
  const fd = await dial(client.lib, port, server.address);
  const secure = tls.connect({ socket: client.lib.toDuplex(fd), ca: cert, servername: 'localhost' });
  await once(secure, 'secureConnect');
  assert.equal(secure.authorized, true, 'the certificate chain verified');
  secure.write('over the socket library');
  const chunks: Buffer[] = [];
  for await (const c of secure) chunks.push(c as Buffer);
  assert.equal(Buffer.concat(chunks).toString(), 'secure echo: over the socket library');
  await serving;
  assert.equal(client.lib.openCount, 0, 'the client descriptor was closed with the stream');
  assert.equal(server.lib.openCount, 1, 'only the listener is left on the server');
  await server.lib.close(listener);
});

eachStack('pipeline() through a Duplex moves a large body and ends both ways', async (net) => {
  const { client, server } = net;
  const { fd: listener, port } = await listenOn(server);
  const serving = echoLoop(server.lib, listener);
  const fd = await dial(client.lib, port, server.address);
  const duplex = client.lib.toDuplex(fd);
  // Every packet of the simulated link is simulated: a smaller body there, still many windows' worth.
  const body = Buffer.alloc(sized(net, 3 * 1024 * 1024, 1024 * 1024), 'abc');
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
  await server.lib.close(listener);
  await serving;
});

eachStack('toDuplex on a socket that is not connected is ENOTCONN', async ({ client: { lib } }) => {
  const fd = await lib.socket('tcp');
  assert.throws(() => lib.toDuplex(fd), { code: 'ENOTCONN', call: 'toDuplex' });
  await lib.close(fd);
  await assert.rejects(readToEnd(lib, fd), { code: 'EBADF' });
});
