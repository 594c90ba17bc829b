/**
 * Blind injection during a bulk transfer (issue 12): an off-path attacker
 * who knows the addresses and ports but not the sequence numbers sprays
 * segments at the receiver. Each lands outside the window and draws an ACK;
 * unthrottled, those duplicate ACKs reach the sender and trigger spurious
 * fast retransmits (before the fix: five times the transfer time, 2,892
 * retransmissions). Two defences, both Linux's: the receiver answers
 * segments without data at most once per 500 ms (tcp_invalid_ratelimit, RFC
 * 5961 §7), and a SACK sender counts as duplicates only ACKs that SACK
 * something new (RFC 6675 §2), which covers blind data segments (those are
 * still answered each, as Linux answers them). A sender without SACK facing
 * blind *data* still pays, as Linux's Reno does. Measured in virtual time and
 * retransmissions, not wall time.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { parseIPv4 } from '../../../src/wire/ip-address.js';
import { emitIpv4, PROTOCOL } from '../../../src/wire/ipv4.js';
import { ACK, emitTcp, PSH } from '../../../src/wire/tcp.js';
import { xorshift } from '../../prng.js';
import { bulk } from './bulk.js';
import type { Sim } from './sim.js';
import type { TcpConfig } from '../../../src/stack/user/tcp/config.js';

const MiB = 1024 * 1024;
const LINK = { latencyMs: 1, bandwidthBps: 100e6 };
const SIZE = 8 * MiB;

/** Every `everyMs`, one segment from the client's address and port to the server's, with random sequence and acknowledgment numbers. */
function blind(kind: 'ack' | 'data', everyMs: number, counted: { sent: number }) {
  return (s: Sim) => {
    const [a, b] = s.hosts as [Sim['hosts'][0], Sim['hosts'][0]];
    const [client] = [...a.stack.tcp.connections.values()];
    assert.ok(client);
    const src = parseIPv4(a.address)!;
    const dst = parseIPv4(b.address)!;
    const attacker = s.link.attach('10.0.0.66');
    const random = xorshift(99);
    const payload = new Uint8Array(kind === 'data' ? 100 : 0);
    let timer: unknown = null;
    const fire = () => {
      const seg = { srcPort: client.local.port, dstPort: 5001, seq: random(), ack: random(), flags: kind === 'data' ? ACK | PSH : ACK, window: 65535, urgent: 0, options: {}, payload };
      const header = { dscp: 0, ecn: 0, identification: 0, dontFragment: true, moreFragments: false, fragmentOffset: 0, ttl: 64, protocol: PROTOCOL.TCP, src, dst, options: new Uint8Array(0) };
      attacker.send(emitIpv4(header, emitTcp(seg, src, dst)));
      counted.sent++;
      timer = s.net.clock.setTimer(everyMs, fire);
    };
    fire();
    return () => s.net.clock.clearTimer(timer);
  };
}

/** The transfer's throughput under attack relative to the same transfer left alone (1 = unchanged). */
async function ratio(kind: 'ack' | 'data', tcp: Partial<TcpConfig>) {
  const calm = await bulk(SIZE, LINK, { seed: 21, tcp });
  const counted = { sent: 0 };
  const attacked = await bulk(SIZE, LINK, { seed: 21, tcp, during: blind(kind, 0.05, counted) });
  assert.equal(attacked.received, attacked.sent);
  assert.equal(calm.retransmits, 0);
  // About 10 blind segments per segment of data: the attack was real.
  assert.ok(counted.sent > 10_000, `blind segments: ${counted.sent}`);
  return { ratio: calm.virtualMs / attacked.virtualMs, retransmits: attacked.retransmits };
}

for (const kind of ['ack', 'data'] as const) {
  test(`blind out-of-window ${kind === 'ack' ? 'ACKs' : 'data segments'} (one every 50 µs) cost a SACK transfer under 10% of its throughput and no retransmission`, async () => {
    const r = await ratio(kind, {});
    assert.ok(r.ratio >= 0.9, `throughput kept: ${r.ratio.toFixed(3)}`);
    assert.equal(r.retransmits, 0);
  });
}

test('without SACK, blind ACKs cost under 10% because of tcp_invalid_ratelimit; without the limit they cost far more (the failure it prevents)', async () => {
  const limited = await ratio('ack', { sack: false });
  assert.ok(limited.ratio >= 0.9, `throughput kept: ${limited.ratio.toFixed(3)}`);
  assert.equal(limited.retransmits, 0);
  const open = await ratio('ack', { sack: false, invalidRateLimitMs: 0 });
  assert.ok(open.ratio < 0.9 && open.retransmits > 100, `without the limit: ${open.ratio.toFixed(3)}, ${open.retransmits} retransmissions`);
});
