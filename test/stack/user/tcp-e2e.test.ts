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

test('connect to a port with no listener fails with ECONNREFUSED (the peer answers RST)', async () => {
  const { hosts, run } = sim(2, { latencyMs: 5 });
  const [a, b] = hosts as [(typeof hosts)[0], (typeof hosts)[0]];
  await run(async () => {
    const c = await a.lib.socket('tcp');
    await assert.rejects(a.lib.connect(c, b.address, 81), { code: 'ECONNREFUSED' });
    assert.equal(b.stack.counters.get('tcp.reset-sent'), 1);
  });
});

test('a peer that vanishes: ETIMEDOUT after the retransmission limit (tcp_retries2 = 15, RTO doubling to 60 s)', async () => {
  const { hosts, run, net } = sim(2, { latencyMs: 5 });
  const [a, b] = hosts as [(typeof hosts)[0], (typeof hosts)[0]];
  await run(async () => {
    const ls = await b.lib.socket('tcp');
    await b.lib.bind(ls, '0.0.0.0', 80);
    await b.lib.listen(ls, 1);
    const c = await a.lib.socket('tcp');
    await a.lib.connect(c, b.address, 80);
    await b.lib.accept(ls);
    // The server's host drops off the network without a word.
    b.device.up = false;
    const start = net.clock.now();
    await a.lib.write(c, new Uint8Array(1000));
    await assert.rejects(a.lib.read(c, new Uint8Array(10), undefined, { timeout: 10_000_000 }), { code: 'ETIMEDOUT' });
    const waited = net.clock.now() - start;
    assert.equal(a.stack.counters.get('tcp.rto'), 15);
    // RTO from 200 ms doubling, capped at RFC 6298's 60 s: 0.2·(1+2+…+256) + 7·60 s ≈ 522 s
    // (Linux caps at 120 s and so waits about 924 s).
    assert.ok(waited > 500_000 && waited < 550_000, `gave up after ${waited} ms`);
  }, 3_600_000);
});

test('SYNs to a vanished host: ETIMEDOUT after 6 retries (1+2+…+32 s, then the 60 s cap: 123 s)', async () => {
  const { hosts, run, net } = sim(2, { latencyMs: 5 });
  const [a, b] = hosts as [(typeof hosts)[0], (typeof hosts)[0]];
  b.device.up = false;
  await run(async () => {
    const c = await a.lib.socket('tcp');
    await a.lib.setsockopt(c, { connectTimeout: 1_000_000 });
    await assert.rejects(a.lib.connect(c, b.address, 80), { code: 'ETIMEDOUT' });
    assert.equal(net.clock.now(), 123_000);
    assert.equal(a.stack.counters.get('tcp.syn-retransmit'), 6);
  });
});
