/** The socket library over the user-space stack, end to end across a simulated link. */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { sim } from './sim.js';

test('connect, write, read, close across a simulated link', async () => {
  const { hosts, run } = sim(2, { latencyMs: 5 });
  const [a, b] = hosts as [typeof hosts[0], typeof hosts[0]];
  await run(async () => {
    const ls = await b.lib.socket('tcp');
    await b.lib.bind(ls, '0.0.0.0', 80);
    await b.lib.listen(ls, 8);
    const server = (async () => {
      const fd = await b.lib.accept(ls);
      const buf = new Uint8Array(100);
      const n = await b.lib.read(fd, buf);
      await b.lib.write(fd, buf.subarray(0, n));
      await b.lib.close(fd);
    })();
    const c = await a.lib.socket('tcp');
    await a.lib.connect(c, b.address, 80);
    await a.lib.write(c, new TextEncoder().encode('hello'));
    const buf = new Uint8Array(100);
    const n = await a.lib.read(c, buf);
    assert.equal(new TextDecoder().decode(buf.subarray(0, n)), 'hello');
    assert.equal(await a.lib.read(c, buf), 0);
    await a.lib.close(c);
    await server;
  });
});
