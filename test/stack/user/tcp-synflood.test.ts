/**
 * A SYN flood on the simulated network (issue 12, point 5): an attacker
 * sprays SYNs from spoofed addresses far faster than the listener's backlog
 * drains (each half-open slot is held 63 s of SYN-ACK retries). Without SYN
 * cookies the SYN queue stays full and a real client's SYNs are dropped until
 * connect times out; with them (tcp_syncookies=1) it connects on its first SYN.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { parseIPv4 } from '../../../src/wire/ip-address.js';
import { emitIpv4, PROTOCOL } from '../../../src/wire/ipv4.js';
import { emitTcp, SYN } from '../../../src/wire/tcp.js';
import { xorshift } from '../../prng.js';
import { State } from '../../../src/stack/user/tcp/state.js';
import { sim, type Sim } from './sim.js';

/** One SYN every `everyMs` from a random unused address on the link (10.0.0.100–249) and a random port. */
function flood(s: Sim, target: string, port: number, everyMs: number): { stop: () => void; sent: () => number } {
  const attacker = s.link.attach('10.0.0.66');
  const dst = parseIPv4(target)!;
  const random = xorshift(5);
  let sent = 0;
  let timer: unknown = null;
  const fire = () => {
    const src = new Uint8Array([10, 0, 0, 100 + (random() % 150)]);
    const seg = { srcPort: 1024 + (random() % 60000), dstPort: port, seq: random(), ack: 0, flags: SYN, window: 64240, urgent: 0, options: { mss: 1460, sackPermitted: true, timestamp: { value: random(), echo: 0 }, windowScale: 7 }, payload: new Uint8Array(0) };
    const header = { dscp: 0, ecn: 0, identification: 0, dontFragment: true, moreFragments: false, fragmentOffset: 0, ttl: 64, protocol: PROTOCOL.TCP, src, dst, options: new Uint8Array(0) };
    attacker.send(emitIpv4(header, emitTcp(seg, src, dst)));
    sent++;
    timer = s.net.clock.setTimer(everyMs, fire);
  };
  fire();
  return { stop: () => s.net.clock.clearTimer(timer), sent: () => sent };
}

async function underFlood(tcp = {}) {
  const s = sim(2, { latencyMs: 1 }, { tcp });
  const [client, server] = s.hosts as [Sim['hosts'][0], Sim['hosts'][0]];
  return s.run(async () => {
    const ls = await server.lib.socket('tcp');
    await server.lib.bind(ls, '0.0.0.0', 80);
    await server.lib.listen(ls, 16);
    // 10,000 SYNs a second: the SYN queue (128) is full within 13 ms and stays full.
    const attack = flood(s, server.address, 80, 0.1);
    await new Promise<void>((resolve) => s.net.clock.setTimer(1000, resolve));
    const c = await client.lib.socket('tcp');
    const start = s.net.clock.now();
    let error = '';
    try {
      await client.lib.connect(c, server.address, 80, { timeout: 5000 });
    } catch (e) {
      error = (e as { code?: string }).code ?? String(e);
    }
    const took = s.net.clock.now() - start;
    let echoed = '';
    if (!error) {
      const fd = await server.lib.accept(ls);
      await client.lib.write(c, new TextEncoder().encode('ping'));
      const buf = new Uint8Array(16);
      const n = await server.lib.read(fd, buf);
      await server.lib.write(fd, buf.subarray(0, n));
      const m = await client.lib.read(c, buf);
      echoed = new TextDecoder().decode(buf.subarray(0, m));
    }
    attack.stop();
    const built = [...server.stack.tcp.connections.values()].find((t) => t.state === State.Established);
    const mine = [...client.stack.tcp.connections.values()][0];
    return {
      negotiated: built && mine ? { mss: built.mss, sack: built.sackOk, ts: built.tsOk, sndShift: built.sndShift, peerRcvShift: mine.rcvShift } : null,
      error,
      took,
      echoed,
      synsSent: attack.sent(),
      clientSynRetransmits: client.stack.counters.get('tcp.syn-retransmit'),
      serverBlocks: server.stack.tcp.connections.size,
      counters: server.stack.counters.snapshot(),
    };
  }, 60_000);
}

test('a real client connects on its first SYN during a flood of 10,000 spoofed SYNs a second (SYN cookies)', async () => {
  const r = await underFlood();
  assert.equal(r.error, '', 'connect succeeded');
  assert.equal(r.clientSynRetransmits, 0, 'on the first SYN');
  assert.ok(r.took < 10, `connect took ${r.took} ms of virtual time (RTT 2 ms)`);
  assert.equal(r.echoed, 'ping');
  // The connection the cookie rebuilt has what the client's SYN offered: MSS 1460 (less 12 for timestamps), SACK, its window scale.
  assert.deepEqual(r.negotiated, { mss: 1448, sack: true, ts: true, sndShift: r.negotiated?.peerRcvShift, peerRcvShift: r.negotiated?.peerRcvShift });
  assert.ok((r.negotiated?.sndShift ?? 0) > 0);
  assert.ok(r.synsSent > 10_000, `the flood: ${r.synsSent} SYNs`);
  assert.ok((r.counters['tcp.syncookie-sent'] ?? 0) > 9_000, 'the flood was answered with cookies');
  assert.equal(r.counters['tcp.syncookie-recv'], 1, 'one cookie came back: the client');
  // State stays bounded: the SYN queue, the client's connection, nothing per flooding SYN.
  assert.ok(r.serverBlocks <= 128 + 1, `connection blocks on the server: ${r.serverBlocks}`);
});

test('without SYN cookies (synCookies 0) the same flood locks the client out: its connect times out (the failure cookies fix)', async () => {
  const r = await underFlood({ synCookies: 0 });
  assert.equal(r.error, 'ETIMEDOUT');
  assert.ok(r.clientSynRetransmits >= 2);
});
