/** IPv6 through the kernel stack (the user stack speaks IPv4 only: test/stack/user/udp.test.ts checks its EAFNOSUPPORT). */
import assert from 'node:assert/strict';
import { after, test } from 'node:test';
import { bytes, dial, kernelLibrary, readExactly, text } from '../../helpers.js';

const lib = kernelLibrary();
after(() => lib.closeAll());

test('IPv6 loopback works when the machine has it', async (t) => {
  const fd = await lib.socket('tcp');
  try {
    await lib.bind(fd, '::1', 0);
  } catch (e: any) {
    await lib.close(fd);
    t.skip(`no IPv6 loopback here (${e.code})`);
    return;
  }
  await lib.listen(fd);
  const { port, address } = await lib.getsockname(fd);
  assert.equal(address, '::1');
  const client = await dial(lib, port, '::1');
  const conn = await lib.accept(fd);
  await lib.write(client, bytes('v6'));
  assert.equal(text(await readExactly(lib, conn, 2)), 'v6');
  for (const d of [client, conn, fd]) await lib.close(d);
});

test('UDP over IPv6 loopback: the sender is named in IPv6, and a datagram over 65,527 bytes is EMSGSIZE', async (t) => {
  const server = await lib.socket('udp');
  try {
    await lib.bind(server, '::1', 0);
  } catch (e: any) {
    await lib.close(server);
    t.skip(`no IPv6 loopback here (${e.code})`);
    return;
  }
  const { port } = await lib.getsockname(server);
  const client = await lib.socket('udp');
  await assert.rejects(lib.sendto(client, new Uint8Array(65_528), '::1', port), { code: 'EMSGSIZE', call: 'sendto' });
  await lib.sendto(client, bytes('six'), '::1', port);
  const buf = new Uint8Array(16);
  const got = await lib.recvfrom(server, buf, { timeout: 2000 });
  assert.equal(text(buf.subarray(0, got.bytes)), 'six');
  assert.equal(got.address, '::1');
  assert.equal(got.port, (await lib.getsockname(client)).port);
  for (const d of [client, server]) await lib.close(d);
});
