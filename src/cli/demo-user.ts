/**
 * `protostack demo --stack user`: the same flow as the kernel demo, but the
 * client, the DNS server and the web server are three hosts on a simulated
 * link, each with its own copy of protostack's user-space TCP/IPv4/UDP stack.
 * Time is the network's virtual clock and every random draw comes from the
 * seed, so a seed replays the run to the byte: the trace, the counters and
 * the packet capture.
 *
 * Portable: no node: import, so the playground page bundles it for a browser.
 */
import { Network } from '../link/network.js';
import type { LinkStats } from '../link/simulated-link.js';
import { PacketBudget } from '../link/packet-tap.js';
import { PcapWriter } from '../link/pcap.js';
import { TraceLog } from '../trace-events.js';
import { Random } from '../link/random.js';
import type { LinkParams } from '../link/types.js';
import type { VirtualClock } from '../link/clock.js';
import { UserStack } from '../stack/user/stack.js';
import { runDemo, type DemoHosts, type DemoResult } from './demo.js';

/** Where each side lives on the simulated /24. */
export const USER_DEMO_ADDRESSES = { client: '10.0.0.10', dns: '10.0.0.53', web: '10.0.0.80' } as const;

/** What the wall clock is said to read at virtual time 0 (for the Date header and HAR): the run replays, so it cannot be now. */
export const USER_DEMO_EPOCH = Date.UTC(2025, 0, 1);

/** The link's shape: a LAN with a little delay, so the round trips show in the timeline. */
export const USER_DEMO_LINK: Readonly<Partial<LinkParams>> = Object.freeze({ latencyMs: 2, bandwidthBps: 100_000_000, mtu: 1500 });

/** The loss the command accepts: beyond it a lookup or a handshake would fail often enough to hide the point. */
export const MAX_LOSS = 0.5;

export interface UserDemoOptions {
  objects?: number;
  http?: '1.0' | '1.1';
  /** Seeds the link's faults, each stack (ports, ISNs) and the resolver (query IDs, ports). Default 1. */
  seed?: number;
  /** Probability that the link loses a packet, 0 to MAX_LOSS. Default 0. */
  loss?: number;
  /** Probability that the link flips a bit of a packet (the receiver's checksum drops it), 0 to MAX_LOSS. Default 0. */
  corrupt?: number;
  /** Other link parameters over USER_DEMO_LINK. */
  link?: Partial<LinkParams>;
  /** Record the link's packets into this writer (the CLI's, so it can write the file even if the run failed); a new one by default. */
  capture?: PcapWriter;
  /** Record every packet each host sends and receives into the trace (PacketEvents); default true. */
  packets?: boolean;
}

export interface UserDemoHost {
  who: 'client' | 'dns-server' | 'web-server';
  address: string;
  stack: UserStack;
}

export interface UserDemoResult extends DemoResult {
  seed: number;
  link: LinkParams;
  linkStats: LinkStats;
  hosts: UserDemoHost[];
  /** Every packet put on the link, as tcpdump on it would have seen them. */
  capture: PcapWriter;
  /** Virtual ms the client's flow took, and until the last connection was closed. */
  flowMs: number;
  endMs: number;
  wallClockAt0: number;
  /** What the packet taps kept and could not keep. */
  packetBudget: PacketBudget;
}

/** A virtual-time bound on the whole run: retransmission backoff at 50% loss stays far below it. */
const RUN_LIMIT_MS = 3_600_000;
/** After the flow, how long teardown (FIN retransmissions) may take before we stop waiting. */
const SETTLE_LIMIT_MS = 300_000;

export async function runUserDemo(options: UserDemoOptions = {}): Promise<UserDemoResult> {
  const seed = options.seed ?? 1;
  const loss = options.loss ?? 0;
  if (!Number.isInteger(seed) || seed < 0 || seed > 0xffff_ffff) throw new RangeError('seed must be an integer from 0 to 4294967295');
  if (!(loss >= 0 && loss <= MAX_LOSS)) throw new RangeError(`loss must be from 0 to ${MAX_LOSS}`);
  const corrupt = options.corrupt ?? options.link?.corrupt ?? 0;
  if (!(corrupt >= 0 && corrupt <= MAX_LOSS)) throw new RangeError(`corrupt must be from 0 to ${MAX_LOSS}`);
  const net = new Network({ seed });
  const link = net.link({ ...USER_DEMO_LINK, ...options.link, loss, corrupt });
  const capture = options.capture ?? new PcapWriter();
  const trace = new TraceLog();
  const packetBudget = new PacketBudget();
  const tap = (who: string) => (options.packets === false ? {} : { packets: { sink: trace, who, budget: packetBudget } });
  link.capture(capture);
  // Each host draws from its own generator, so one side's draws never shift another's.
  const host = (who: UserDemoHost['who'], address: string, n: number): UserDemoHost => ({
    who,
    address,
    stack: new UserStack({ clock: net.clock, interfaces: [{ device: link.attach(address), address, prefixLength: 24 }], seed: mix(seed, n), ...tap(who) }),
  });
  const hosts = [host('client', USER_DEMO_ADDRESSES.client, 1), host('dns-server', USER_DEMO_ADDRESSES.dns, 2), host('web-server', USER_DEMO_ADDRESSES.web, 3)] as const;
  const [client, dns, web] = hosts;
  const roles: DemoHosts = {
    client: { stack: client.stack, address: client.address },
    dns: { stack: dns.stack, address: dns.address, port: 53 },
    web: { stack: web.stack, address: web.address, port: 80 },
  };
  const resolverRandom = new Random(mix(seed, 4));
  const { result, flowMs } = await net.clock.run(
    async () => {
      const result = await runDemo({
        ...(options.objects !== undefined ? { objects: options.objects } : {}),
        ...(options.http !== undefined ? { http: options.http } : {}),
        hosts: roles,
        trace,
        randomInt: (min, max) => min + resolverRandom.int(max - min),
        wallClockAt0: USER_DEMO_EPOCH,
        // Virtual seconds cost nothing: wait 1 s per try (some 250 round trips here) and try often, so a lossy link still resolves.
        resolverTimeout: 1000,
        resolverAttempts: 8,
      });
      const flowMs = net.clock.now();
      await settle(net.clock, hosts.map((h) => h.stack));
      return { result, flowMs };
    },
    { limitMs: RUN_LIMIT_MS },
  );
  return { ...result, seed, link: { ...link.params }, linkStats: { ...link.stats }, hosts: [...hosts], capture, flowMs, endMs: net.clock.now(), wallClockAt0: USER_DEMO_EPOCH, packetBudget };
}

/** Lets the closes finish on the wire (FIN, ACK, their retransmissions) until only TIME-WAIT is left. */
async function settle(clock: VirtualClock, stacks: UserStack[]): Promise<void> {
  const deadline = clock.now() + SETTLE_LIMIT_MS;
  const busy = () => stacks.some((s) => s.tcp.states().some((state) => !state.endsWith(' TIME-WAIT')));
  while (busy() && clock.now() < deadline) await new Promise<void>((resolve) => clock.setTimer(10, resolve));
}

/** A well-spread 32-bit seed for part `n` of a run seeded with `seed`. */
function mix(seed: number, n: number): number {
  let z = (seed + Math.imul(n, 0x9e3779b9)) | 0;
  z = Math.imul(z ^ (z >>> 16), 0x85ebca6b);
  z = Math.imul(z ^ (z >>> 13), 0xc2b2ae35);
  return (z ^ (z >>> 16)) >>> 0;
}

export interface UserDemoCounts {
  /** Packets put on the link, and how many of them it lost. */
  packets: number;
  lost: number;
  /** TCP segments sent again (data and SYN), over all three hosts. */
  retransmissions: number;
}

/** The counts the summary line and the playground show, from the link's and the stacks' counters. */
export function userDemoCounts(r: UserDemoResult): UserDemoCounts {
  const retransmissions = r.hosts.reduce((n, h) => n + h.stack.counters.get('tcp.retransmit') + h.stack.counters.get('tcp.syn-retransmit'), 0);
  return { packets: r.linkStats.sent, lost: r.linkStats.lost, retransmissions };
}

/** "client 10.0.0.10: 9 packets out, 8 in; 7 TCP segments out, 1 retransmitted" per host, from the stacks' counters. */
export function formatUserSummary(r: UserDemoResult): string {
  const lines: string[] = [];
  const pct = (x: number) => `${+(x * 100).toFixed(2)}%`;
  const s = r.linkStats;
  lines.push(
    `  the link (${r.link.latencyMs} ms one way, ${r.link.bandwidthBps / 1e6} Mbit/s, loss ${pct(r.link.loss)}${r.link.corrupt > 0 ? `, corruption ${pct(r.link.corrupt)}` : ''}, seed ${r.seed}): ${s.sent} packets sent, ${s.lost} lost${r.link.corrupt > 0 ? `, ${s.corrupted} corrupted` : ''}; the flow took ${fmt(r.flowMs)} ms of virtual time, the closes ${fmt(r.endMs - r.flowMs)} ms more`,
  );
  const width = Math.max(...r.hosts.map((h) => `${h.who} ${h.address}`.length));
  for (const h of r.hosts) {
    const c = h.stack.counters;
    const retransmitted = c.get('tcp.retransmit') + c.get('tcp.syn-retransmit');
    const parts = [`${c.get('ipv4.out')} packet${c.get('ipv4.out') === 1 ? '' : 's'} out, ${c.get('ipv4.in')} in`, `UDP ${c.get('udp.out')} out, ${c.get('udp.in')} in`, `TCP ${c.get('tcp.out')} out, ${c.get('tcp.in')} in, ${retransmitted} retransmitted`];
    lines.push(`  ${`${h.who} ${h.address}`.padEnd(width)}  ${parts.join('; ')}`);
  }
  return lines.join('\n');
}

function fmt(ms: number): string {
  return ms.toFixed(3).replace(/\.?0+$/, '') || '0';
}
