/**
 * Packets under calls: every packet a user stack sends or receives is a
 * PacketEvent (its tap at the device), and the renderers tie it to the
 * socket call of its host that was waiting when it came. Checked on the
 * simulated network, on virtual time: the handshake under connect and
 * accept, data under write and read, both close orders, and under loss a
 * retransmission under the call it delayed.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { Network } from '../../src/link/network.js';
import { PacketBudget } from '../../src/link/packet-tap.js';
import type { LinkParams } from '../../src/link/types.js';
import { SocketLibrary } from '../../src/socket/library.js';
import { UserStack } from '../../src/stack/user/stack.js';
import { TraceLog, type CallEvent } from '../../src/trace-events.js';
import { readPackets, type PacketView } from '../../src/trace/packets.js';
import { renderTimeline } from '../../src/trace/text.js';
import { runUserDemo } from '../../src/cli/demo-user.js';

function pair(params: Partial<LinkParams> = {}, seed = 1, budget = new PacketBudget()) {
  const net = new Network({ seed });
  const link = net.link({ latencyMs: 1, ...params });
  const trace = new TraceLog();
  const host = (who: string, address: string, n: number) => {
    const stack = new UserStack({ clock: net.clock, interfaces: [{ device: link.attach(address), address, prefixLength: 24 }], seed: seed + n, packets: { sink: trace, who, budget } });
    return new SocketLibrary(stack, { label: who, trace });
  };
  return { net, trace, client: host('client', '10.0.0.1', 1), server: host('server', '10.0.0.2', 2) };
}

/** The packet lines under each call of `who`, as "call: flags flags …". */
function under(views: PacketView[], who: string): string[] {
  const by = new Map<CallEvent, string[]>();
  const order: CallEvent[] = [];
  for (const v of views) {
    if (v.event.who !== who || !v.call) continue;
    if (!by.has(v.call)) (by.set(v.call, []), order.push(v.call));
    by.get(v.call)!.push(v.line.split(' ').slice(0, 2).join(' '));
  }
  return order.sort((a, b) => a.seq - b.seq).map((c) => `${c.call}: ${by.get(c)!.join(' ')}`);
}

async function exchange(clientClosesFirst: boolean, params: Partial<LinkParams> = {}, seed = 1) {
  const s = pair(params, seed);
  await s.net.clock.run(async () => {
    const lfd = await s.server.socket('tcp');
    await s.server.bind(lfd, '10.0.0.2', 80);
    await s.server.listen(lfd, 4);
    const served = (async () => {
      const fd = await s.server.accept(lfd);
      const buf = new Uint8Array(100);
      await s.server.read(fd, buf);
      await s.server.write(fd, new Uint8Array(20));
      if (clientClosesFirst) while ((await s.server.read(fd, buf)) > 0);
      await s.server.close(fd);
      await s.server.close(lfd);
    })();
    const fd = await s.client.socket('tcp');
    await s.client.connect(fd, '10.0.0.2', 80);
    await s.client.write(fd, new Uint8Array(10));
    await s.client.read(fd, new Uint8Array(100));
    if (!clientClosesFirst) while ((await s.client.read(fd, new Uint8Array(100))) > 0);
    await s.client.close(fd);
    await served;
    await new Promise<void>((r) => s.net.clock.setTimer(50, r));
  });
  return s;
}

test('the handshake is under connect and accept, the data under write and read, with relative numbers', async () => {
  const { trace } = await exchange(true);
  const { packets } = readPackets(trace.events);
  const client = under(packets, 'client');
  assert.equal(client[0], 'connect: > S < S. > .');
  assert.equal(client[1], 'write: > P.');
  // Quick-ACK mode (as Linux) acknowledges the response at once, under the read that took it.
  assert.match(client[2]!, /^read: (< \. )?< P\.( > \.)?$/);
  const server = under(packets, 'server');
  // The request may land before accept has returned (both at one virtual instant): it came while accept waited.
  assert.match(server[0]!, /^accept: < S > S\. < \.( < P\.( > \.)?)?$/);
  const lines = packets.map((p) => `${p.event.who} ${p.line}`);
  assert.ok(lines.some((l) => /^client > S 0:0\(0\) win \d+ <mss 1460,sackOK,TS val \d+ ecr 0,wscale \d+> to 10\.0\.0\.2:80$/.test(l)), lines.join('\n'));
  assert.ok(lines.some((l) => /^client > P\. 1:11\(10\) ack 1 win \d+/.test(l)), lines.join('\n'));
  assert.ok(lines.some((l) => /^client < P\. 1:21\(20\) ack 11 win \d+/.test(l)), lines.join('\n'));
  assert.equal(packets.filter((p) => p.lost || p.retransmission).length, 0);
});

test('client closes first: its FIN under its close, the server sees it under the read that returns 0', async () => {
  const { trace } = await exchange(true);
  const { packets } = readPackets(trace.events);
  assert.ok(under(packets, 'client').includes('close: > F.'), under(packets, 'client').join('\n'));
  assert.ok(under(packets, 'server').some((l) => /^read: (< \. )?< F\. > \.$/.test(l)), under(packets, 'server').join('\n'));
  const timeline = renderTimeline(trace.events);
  assert.match(timeline, /client\s+close\(fd 3\)\s+= ok.*\n.*client\s+> F\. 11:11\(0\) ack 21/);
});

test('server closes first: its FIN under its close, the client sees it under the read that returns 0', async () => {
  const { trace } = await exchange(false);
  const { packets } = readPackets(trace.events);
  assert.ok(under(packets, 'server').some((l) => /^close: > F\./.test(l)), under(packets, 'server').join('\n'));
  assert.ok(under(packets, 'client').some((l) => /^read: (.* )?< F\. > \.$/.test(l)), under(packets, 'client').join('\n'));
  assert.ok(under(packets, 'client').some((l) => /^close: > F\.$/.test(l)), under(packets, 'client').join('\n'));
});

test('under loss a retransmission appears under the call it delayed, and the lost packet says so', async () => {
  let found: { line: string; call: string } | undefined;
  for (let seed = 1; seed < 40 && !found; seed++) {
    const { trace } = await exchange(true, { loss: 0.2 }, seed);
    const { packets } = readPackets(trace.events);
    const r = packets.find((p) => p.retransmission && p.event.direction === 'out' && p.call);
    if (r) {
      assert.ok(packets.some((p) => p.lost), 'a packet was lost before the retransmission');
      found = { line: r.line, call: r.call!.call };
      assert.ok(r.call!.start <= r.event.start && r.event.start <= r.call!.start + r.call!.waited, 'the retransmission lies inside the call');
    }
  }
  assert.ok(found, 'some seed in 40 lost a segment');
  assert.match(found.line, /\(retransmission\)/);
  assert.ok(['connect', 'accept', 'write', 'read', 'close'].includes(found.call));
});

test('the demo over the user stack: packets counted as the stacks count them; a budget bounds them and says how many are not shown', async () => {
  const r = await runUserDemo({ loss: 0.1, seed: 3 });
  const model = readPackets(r.trace.events);
  const out = model.packets.filter((p) => p.event.direction === 'out').length;
  assert.equal(out, r.hosts.reduce((n, h) => n + h.stack.counters.get('ipv4.out'), 0));
  const retransmitted = r.hosts.reduce((n, h) => n + h.stack.counters.get('tcp.retransmit') + h.stack.counters.get('tcp.syn-retransmit'), 0);
  assert.equal(model.retransmissions, retransmitted);
  assert.equal(model.packets.filter((p) => p.lost).length, r.linkStats.lost);

  const budget = new PacketBudget(5);
  const s = pair({}, 1, budget);
  await s.net.clock.run(async () => {
    const lfd = await s.server.socket('tcp');
    await s.server.bind(lfd, '10.0.0.2', 80);
    await s.server.listen(lfd, 4);
    const fd = await s.client.socket('tcp');
    await s.client.connect(fd, '10.0.0.2', 80);
    await s.client.write(fd, new Uint8Array(10));
    await new Promise<void>((done) => s.net.clock.setTimer(20, done));
  });
  assert.equal(s.trace.events.filter((e) => e.kind === 'packet').length, 5);
  assert.ok(budget.notShown > 0);
  assert.match(renderTimeline(s.trace.events, { packetsNotShown: budget.notShown }), new RegExp(`… ${budget.notShown} packets not shown`));
});

test('with no tap a stack records no packet, and a library with no sink marks nothing', async () => {
  const net = new Network({ seed: 1 });
  const link = net.link({});
  const trace = new TraceLog();
  const stack = new UserStack({ clock: net.clock, interfaces: [{ device: link.attach('10.0.0.1'), address: '10.0.0.1', prefixLength: 24 }], seed: 1 });
  const lib = new SocketLibrary(stack, { label: 'x', trace });
  await net.clock.run(async () => {
    const fd = await lib.socket('udp');
    await lib.sendto(fd, new Uint8Array(4), '10.0.0.9', 9);
  });
  assert.equal(trace.events.filter((e) => e.kind === 'packet').length, 0);
  const call = trace.events.find((e): e is CallEvent => e.kind === 'call' && e.call === 'sendto')!;
  assert.ok(call.begin !== undefined && call.begin < call.seq, 'a traced call knows where it began in the order');
});
