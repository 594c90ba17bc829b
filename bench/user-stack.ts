/**
 * The user-space stack (issue 7), three benchmarks:
 *
 * 1. Bulk throughput, wall clock: two UserStacks in this process over a
 *    simulated link with no latency, no loss, unlimited bandwidth and MTU
 *    65535 (Linux loopback's is 65536), through SocketLibrary read/write with
 *    4 MiB send and receive buffers and 256 KiB writes and reads. Beside it, in
 *    the same run, the kernel's loopback TCP moving the same bytes, through the
 *    same SocketLibrary over KernelStack and through raw node:net. The same at
 *    MTU 1500 (MSS 1460, 1448 of data beside timestamps) for information.
 * 2. smoltcp's netsim scenario (their tests/netsim.rs, 32 KiB buffers): RTT
 *    100 ms, MTU 1500, loss applied per packet and direction, the client sends
 *    10 MiB as fast as it can; throughput = 10 MiB / virtual time from t = 0
 *    until the receiver has read it all. 5 seeds per loss rate.
 * 3. Memory per idle ESTABLISHED connection: 100,000 connections from four
 *    client stacks to one server stack, made through the stack API (connect /
 *    accept), keep-alive off, no timer pending; heapUsed + arrayBuffers after
 *    a forced GC, minus the same before, per connection. Each figure comes from
 *    a fresh node process (this file run as a script): once after some traffic
 *    (the layout a working process has), once with handshakes only, and once
 *    through SocketLibrary descriptors.
 *
 * Knobs: BENCH_USER_PARTS (default "bulk,netsim,memory"), BENCH_USER_ROUNDS
 * (measured bulk rounds, default 5, after 1 warm-up), BENCH_USER_BULK_MIB (512),
 * BENCH_USER_BULK1500_MIB (128), BENCH_USER_SEEDS (5), BENCH_USER_CONNECTIONS (100000),
 * BENCH_USER_LIB_CONNECTIONS (the same again through SocketLibrary descriptors; default as many, 0 skips).
 *
 * The small host setup is copied from test/stack/user/sim.ts: bench must not depend on test/.
 */
import { execFile } from 'node:child_process';
import { once } from 'node:events';
import net from 'node:net';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import {
  DEFAULT_TCP,
  KernelStack,
  Network,
  SocketLibrary,
  UserStack,
  type SimulatedLink as Link,
  type LinkParams,
  type StreamConnection,
  type StreamOptions,
  type TcpConfig,
} from '../src/index.js';
import { State, STATE_NAMES } from '../src/stack/user/tcp/state.js';
import { collect, median, row, type Row } from './common.js';

const PARTS = (process.env.BENCH_USER_PARTS ?? 'bulk,netsim,memory').split(',');
const ROUNDS = Number(process.env.BENCH_USER_ROUNDS ?? 5);
const BULK_BYTES = Number(process.env.BENCH_USER_BULK_MIB ?? 512) * 2 ** 20;
const BULK1500_BYTES = Number(process.env.BENCH_USER_BULK1500_MIB ?? 128) * 2 ** 20;
const SEEDS = Number(process.env.BENCH_USER_SEEDS ?? 5);
const CONNECTIONS = Number(process.env.BENCH_USER_CONNECTIONS ?? 100_000);
const LIB_CONNECTIONS = Number(process.env.BENCH_USER_LIB_CONNECTIONS ?? CONNECTIONS);

/** Long enough for anything the simulation does; the stacks' own timers keep the figures honest. */
const DAY_MS = 24 * 3600 * 1000;
const execFileAsync = promisify(execFile);
/** The socket library's longest wait: nothing here should end on a library timeout. */
const NO_TIMEOUT = { connectTimeout: 2 ** 31 - 1, readTimeout: 2 ** 31 - 1, writeTimeout: 2 ** 31 - 1, acceptTimeout: 2 ** 31 - 1 };

// ---------------------------------------------------------------- hosts

interface Host {
  stack: UserStack;
  lib: SocketLibrary;
  address: string;
}

/** One user stack per address on `link`, as test/stack/user/sim.ts builds them. */
function hosts(network: Network, link: Link, addresses: string[], tcp: Partial<TcpConfig>, prefixLength = 24, maxDescriptors = 65_536): Host[] {
  return addresses.map((address, i) => {
    const stack = new UserStack({
      clock: network.clock,
      interfaces: [{ device: link.attach(address), address, prefixLength }],
      random: network.random,
      tcp,
    });
    return { stack, lib: new SocketLibrary(stack, { label: `host${i + 1}`, maxDescriptors }), address };
  });
}

function simulation(seed: number, params: Partial<LinkParams>, tcp: Partial<TcpConfig>, addresses = ['10.0.0.1', '10.0.0.2']) {
  const network = new Network({ seed });
  const link = network.link(params);
  return { network, link, hosts: hosts(network, link, addresses, tcp) };
}

function format(x: number, digits = 2): string {
  if (Math.abs(x) >= 1000) return Math.round(x).toLocaleString('en-US');
  return x.toFixed(digits);
}

function printTable(head: string[], body: string[][]): void {
  const widths = head.map((h, i) => Math.max(h.length, ...body.map((b) => b[i]!.length)));
  const line = (cells: string[]) => cells.map((c, i) => (i === 0 ? c.padEnd(widths[i]!) : c.padStart(widths[i]!))).join('  ');
  console.log(['  ' + line(head), '  ' + widths.map((w) => '-'.repeat(w)).join('  '), ...body.map((b) => '  ' + line(b))].join('\n'));
}

/**
 * Runs each side once per round, `warmups` unmeasured rounds first, the first
 * side moving one further each round (bench/common.ts's `alternate` for more than two).
 */
async function rotate(rounds: number, warmups: number, sides: [string, () => Promise<number>][]): Promise<Map<string, number[]>> {
  const out = new Map(sides.map(([name]) => [name, [] as number[]]));
  for (let i = -warmups; i < rounds; i++) {
    const shift = ((i % sides.length) + sides.length) % sides.length;
    for (let k = 0; k < sides.length; k++) {
      const [name, fn] = sides[(k + shift) % sides.length]!;
      collect();
      const result = await fn();
      if (i >= 0) out.get(name)!.push(result);
    }
  }
  return out;
}

// ---------------------------------------------------------------- 1. bulk throughput

const BULK_BUFFER = 4 * 2 ** 20;
const BULK_CHUNK = 256 * 1024;

/** User ↔ user through the socket library over a perfect link of MTU `mtu`. Gbit/s of wall-clock time. */
async function userBulk(mtu: number, bytes: number): Promise<number> {
  // The MSS ceiling follows the link, as Linux's does on loopback (MTU − 40; timestamps take 12 more).
  const { network, hosts: [a, b] } = simulation(1, { latencyMs: 0, bandwidthBps: 0, mtu, loss: 0, queueBytes: 2 ** 30 }, { mss: mtu - 40 });
  const client = a!;
  const server = b!;
  const options = { ...NO_TIMEOUT, sendBufferSize: BULK_BUFFER, recvBufferSize: BULK_BUFFER };
  return network.clock.run(async () => {
    const ls = await server.lib.socket('tcp');
    await server.lib.setsockopt(ls, options);
    await server.lib.bind(ls, '0.0.0.0', 5001);
    await server.lib.listen(ls, 1);
    const cfd = await client.lib.socket('tcp');
    await client.lib.setsockopt(cfd, options);
    const accepting = server.lib.accept(ls);
    await client.lib.connect(cfd, server.address, 5001);
    const sfd = await accepting;
    const chunk = new Uint8Array(BULK_CHUNK).fill(0x5a);
    const into = new Uint8Array(BULK_CHUNK);
    const t0 = performance.now();
    const sending = (async () => {
      for (let sent = 0; sent < bytes; sent += BULK_CHUNK) await client.lib.write(cfd, chunk);
    })();
    let got = 0;
    while (got < bytes) {
      const n = await server.lib.read(sfd, into);
      if (n === 0) throw new Error('early end of stream');
      got += n;
    }
    const seconds = (performance.now() - t0) / 1000;
    await sending;
    await client.lib.closeAll();
    await server.lib.closeAll();
    return (got * 8) / seconds / 1e9;
  }, { limitMs: DAY_MS });
}

/** The kernel's loopback through the same socket library calls (SocketLibrary over KernelStack). Gbit/s. */
async function kernelLibraryBulk(bytes: number): Promise<number> {
  const stack = new KernelStack();
  const server = new SocketLibrary(stack, { label: 'server' });
  const client = new SocketLibrary(stack, { label: 'client' });
  const options = { sendBufferSize: BULK_BUFFER, recvBufferSize: BULK_BUFFER };
  const ls = await server.socket('tcp');
  await server.setsockopt(ls, options);
  await server.bind(ls, '127.0.0.1', 0);
  await server.listen(ls);
  const { port } = await server.getsockname(ls);
  const cfd = await client.socket('tcp');
  await client.setsockopt(cfd, options);
  const accepting = server.accept(ls);
  await client.connect(cfd, '127.0.0.1', port);
  const sfd = await accepting;
  const chunk = new Uint8Array(BULK_CHUNK).fill(0x5a);
  const into = new Uint8Array(BULK_CHUNK);
  const t0 = performance.now();
  const sending = (async () => {
    for (let sent = 0; sent < bytes; sent += BULK_CHUNK) await client.write(cfd, chunk);
  })();
  let got = 0;
  while (got < bytes) {
    const n = await server.read(sfd, into);
    if (n === 0) throw new Error('early end of stream');
    got += n;
  }
  const seconds = (performance.now() - t0) / 1000;
  await sending;
  await client.closeAll();
  await server.closeAll();
  return (got * 8) / seconds / 1e9;
}

/** Raw node:net as a plain user writes it: 256 KiB writes until write() says false, then 'drain'; bytes counted in 'data'. Gbit/s. */
async function netBulk(bytes: number): Promise<number> {
  const server = net.createServer();
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  const { port } = server.address() as net.AddressInfo;
  const arriving = once(server, 'connection') as Promise<[net.Socket]>;
  const client = net.connect(port, '127.0.0.1');
  await once(client, 'connect');
  const [peer] = await arriving;
  const chunk = Buffer.alloc(BULK_CHUNK, 0x5a);
  let got = 0;
  const t0 = performance.now();
  const done = new Promise<number>((resolve) => {
    peer.on('data', (c: Buffer) => {
      got += c.length;
      if (got >= bytes) resolve(performance.now());
    });
  });
  let sent = 0;
  const pump = () => {
    while (sent < bytes) {
      sent += BULK_CHUNK;
      if (!client.write(chunk)) return void client.once('drain', pump);
    }
  };
  pump();
  const seconds = ((await done) - t0) / 1000;
  client.destroy();
  peer.destroy();
  server.close();
  await once(server, 'close');
  return (got * 8) / seconds / 1e9;
}

async function bulkBench(): Promise<Row[]> {
  const mib = BULK_BYTES / 2 ** 20;
  console.log(`\n[user] 1. bulk throughput, wall clock: ${mib} MiB, 4 MiB send/recv buffers, 256 KiB writes/reads; 1 warm-up + ${ROUNDS} rounds`);
  const runs = await rotate(ROUNDS, 1, [
    ['user MTU 65535', () => userBulk(65535, BULK_BYTES)],
    ['kernel, SocketLibrary', () => kernelLibraryBulk(BULK_BYTES)],
    ['kernel, node:net', () => netBulk(BULK_BYTES)],
  ]);
  const mib1500 = BULK1500_BYTES / 2 ** 20;
  console.log(`  (MTU 1500: ${mib1500} MiB, 1 warm-up + ${ROUNDS} rounds, for information)`);
  const runs1500 = await rotate(ROUNDS, 1, [['user MTU 1500', () => userBulk(1500, BULK1500_BYTES)]]);
  const user = median(runs.get('user MTU 65535')!);
  const kernelLib = median(runs.get('kernel, SocketLibrary')!);
  const kernelNet = median(runs.get('kernel, node:net')!);
  const user1500 = median(runs1500.get('user MTU 1500')!);
  const list = (xs: number[]) => xs.map((x) => x.toFixed(2)).join(' ');
  const line = (side: string, bytes: number, xs: number[]) => {
    const m = median(xs);
    return [side, String(bytes / 2 ** 20), list(xs), m.toFixed(2), (m / kernelLib).toFixed(3), (m / kernelNet).toFixed(3)];
  };
  printTable(
    ['side', 'MiB', 'rounds (Gbit/s)', 'median Gbit/s', '÷ kernel SocketLibrary', '÷ kernel node:net'],
    [
      line('user ↔ user, MTU 65535', BULK_BYTES, runs.get('user MTU 65535')!),
      line('user ↔ user, MTU 1500', BULK1500_BYTES, runs1500.get('user MTU 1500')!),
      line('kernel loopback, SocketLibrary', BULK_BYTES, runs.get('kernel, SocketLibrary')!),
      line('kernel loopback, node:net', BULK_BYTES, runs.get('kernel, node:net')!),
    ],
  );
  console.log(`  goal: user ≥ 1 Gbit/s at MTU 65535: ${user >= 1 ? 'met' : 'MISSED'} (${user.toFixed(2)} Gbit/s)`);
  return [
    row(`bulk ${mib} MiB MTU 65535: user vs kernel (SocketLibrary both)`, user, kernelLib, 'Gbit/s'),
    row(`bulk ${mib} MiB MTU 65535: user vs raw node:net`, user, kernelNet, 'Gbit/s'),
    row(`bulk ${mib1500} MiB MTU 1500: user vs kernel (SocketLibrary)`, user1500, kernelLib, 'Gbit/s'),
  ];
}

// ---------------------------------------------------------------- 2. smoltcp's netsim

const NETSIM_BYTES = 10 * 2 ** 20;
const NETSIM_BUFFER = 32768;
/** smoltcp's published figures for buffer 32768 as issue 7 quotes them, bytes/s: the rows' anchor. */
const SMOLTCP: Record<string, number> = { '0': 322_945, '0.01': 219_671, '0.1': 37_775 };
/** The same row of smoltcp's tests/snapshots/netsim__netsim.snap at commit c03c357 (another smoltcp version), for reference. */
const SMOLTCP_C03C357: Record<string, number> = { '0': 322_944.88, '0.01': 266_384.37, '0.1': 83_162.99 };

interface NetsimResult {
  bytesPerSecond: number;
  virtualMs: number;
  retransmits: number;
}

/**
 * smoltcp's run_test: the receiver listens, the sender connects at t = 0 and
 * writes as fast as its 32 KiB send buffer allows; the result is 10 MiB over
 * the virtual time at which the receiver has read 10 MiB.
 */
async function netsim(loss: number, seed: number, tcp: Partial<TcpConfig>): Promise<NetsimResult> {
  const { network, hosts: [a, b] } = simulation(seed, { latencyMs: 50, bandwidthBps: 0, mtu: 1500, loss }, tcp);
  const receiver = a!;
  const sender = b!;
  const options = { ...NO_TIMEOUT, sendBufferSize: NETSIM_BUFFER, recvBufferSize: NETSIM_BUFFER };
  const clock = network.clock;
  return clock.run(async () => {
    const ls = await receiver.lib.socket('tcp');
    await receiver.lib.setsockopt(ls, options); // before listen: the accepted socket inherits them
    await receiver.lib.bind(ls, '0.0.0.0', 1234);
    await receiver.lib.listen(ls, 1);
    const receiving = (async () => {
      const fd = await receiver.lib.accept(ls);
      const into = new Uint8Array(65536);
      let got = 0;
      while (got < NETSIM_BYTES) {
        const n = await receiver.lib.read(fd, into);
        if (n === 0) throw new Error('early end of stream');
        got += n;
      }
      return clock.now();
    })();
    const fd = await sender.lib.socket('tcp');
    await sender.lib.setsockopt(fd, options);
    await sender.lib.connect(fd, receiver.address, 1234);
    const chunk = new Uint8Array(NETSIM_BUFFER).fill(0x5a);
    for (let sent = 0; sent < NETSIM_BYTES; sent += chunk.length) await sender.lib.write(fd, chunk);
    const at = await receiving;
    const retransmits = sender.stack.counters.get('tcp.retransmit');
    await sender.lib.closeAll();
    await receiver.lib.closeAll();
    return { bytesPerSecond: NETSIM_BYTES / (at / 1000), virtualMs: at, retransmits };
  }, { limitMs: DAY_MS });
}

async function netsimBench(): Promise<Row[]> {
  const configs: [string, Partial<TcpConfig>][] = [
    [`default (${DEFAULT_TCP.congestionControl === 'newreno' ? 'NewReno/SACK' : DEFAULT_TCP.congestionControl})`, {}],
    // smoltcp's default socket has no congestion control: these rows are the like-for-like ones.
    ["congestionControl 'none'", { congestionControl: 'none' }],
  ];
  console.log(`\n[user] 2. smoltcp netsim: RTT 100 ms, MTU 1500, 32 KiB buffers, 10 MiB, seeds 1..${SEEDS}, bytes/s of virtual time`);
  const rows: Row[] = [];
  const body: string[][] = [];
  for (const [label, tcp] of configs) {
    for (const loss of [0, 0.01, 0.1]) {
      const results: NetsimResult[] = [];
      const t0 = performance.now();
      for (let seed = 1; seed <= SEEDS; seed++) results.push(await netsim(loss, seed, tcp));
      const wall = (performance.now() - t0) / 1000;
      const rates = results.map((r) => r.bytesPerSecond);
      const med = median(rates);
      const min = Math.min(...rates);
      const smol = SMOLTCP[String(loss)]!;
      body.push([
        label,
        String(loss),
        rates.map((r) => format(r)).join(' '),
        format(med),
        format(min),
        format(smol),
        (med / smol).toFixed(2),
        format(SMOLTCP_C03C357[String(loss)]!),
        String(median(results.map((r) => r.retransmits))),
        wall.toFixed(1),
      ]);
      rows.push(row(`netsim loss ${loss}, ${label} vs smoltcp`, med, smol, 'bytes/s'));
    }
  }
  printTable(['congestion control', 'loss', 'per seed (bytes/s)', 'median', 'min', 'smoltcp', 'median/smoltcp', 'smoltcp snapshot c03c357', 'retransmits (median)', 'wall s'], body);
  return rows;
}

// ---------------------------------------------------------------- 3. memory per idle connection

const SERVER_PORT = 80;
const CLIENT_HOSTS = 4;
/** The socket library's defaults, keep-alive off. */
const IDLE_OPTIONS: StreamOptions = { noDelay: false, keepAliveMs: 0, sendBufferSize: 256 * 1024, recvBufferSize: 128 * 1024 };

function memoryNow(): { heap: number; buffers: number } {
  collect();
  collect();
  const m = process.memoryUsage();
  return { heap: m.heapUsed, buffers: m.arrayBuffers };
}

/** Lets every timer the handshakes armed fire (the lazily re-armed RTO timer of a finished handshake). */
function settle(network: Network): void {
  for (let i = 0; i < 600 && network.clock.pending > 0; i++) network.clock.advance(1000);
}

/** Every connection of these stacks is ESTABLISHED; returns how many there are. */
function checkEstablished(stacks: UserStack[]): number {
  let n = 0;
  const other = new Map<string, number>();
  for (const s of stacks)
    for (const t of s.tcp.connections.values()) {
      if (t.state === State.Established) n++;
      else other.set(STATE_NAMES[t.state]!, (other.get(STATE_NAMES[t.state]!) ?? 0) + 1);
    }
  if (other.size > 0) throw new Error(`connections not ESTABLISHED: ${JSON.stringify(Object.fromEntries(other))}`);
  return n;
}

interface MemoryResult {
  connections: number;
  heap: number;
  buffers: number;
  wall: number;
  virtualMs: number;
}

/** `count` connections through the stack API: server.bindStream + listen/accept, clients' connect. */
async function stackMemory(count: number): Promise<MemoryResult> {
  const network = new Network({ seed: 7 });
  const link = network.link({ latencyMs: 0, bandwidthBps: 0, mtu: 1500 });
  const addresses = ['10.0.1.1', ...Array.from({ length: CLIENT_HOSTS }, (_, i) => `10.0.2.${i + 1}`)];
  const all = hosts(network, link, addresses, {}, 16).map((h) => h.stack);
  const [server, ...clients] = all as [UserStack, ...UserStack[]];
  // Where the application keeps its connections, allocated before the baseline so it is not counted.
  const held: (StreamConnection | null)[] = Array.from({ length: 2 * count }, () => null);
  let accepted = 0;
  let connected = 0;
  const before = memoryNow();
  const t0 = performance.now();
  await network.clock.run(async () => {
    const binding = await server.bindStream({ address: '0.0.0.0', port: SERVER_PORT });
    const listener = binding.listen(65535, IDLE_OPTIONS);
    const drain = () => {
      for (let c = listener.accept(); c; c = listener.accept()) held[count + accepted++] = c;
    };
    listener.notify = drain;
    const BATCH = 1000;
    for (let start = 0; start < count; start += BATCH) {
      const batch: Promise<void>[] = [];
      for (let i = start; i < Math.min(count, start + BATCH); i++) {
        const stack = clients[i % clients.length]!;
        batch.push(stack.connect({ address: server.address, port: SERVER_PORT }, IDLE_OPTIONS).then((c) => void (held[connected++] = c)));
      }
      await Promise.all(batch);
    }
    drain();
  }, { limitMs: DAY_MS });
  settle(network);
  const wall = (performance.now() - t0) / 1000;
  if (network.clock.pending !== 0) throw new Error(`${network.clock.pending} timers still pending on idle connections`);
  const after = memoryNow();
  const established = checkEstablished(all);
  if (connected !== count || accepted !== count || established !== 2 * count)
    throw new Error(`expected ${count} connections each side, got ${connected} connected, ${accepted} accepted, ${established} ESTABLISHED blocks`);
  const result = { connections: count, heap: after.heap - before.heap, buffers: after.buffers - before.buffers, wall, virtualMs: network.clock.now() };
  held.fill(null); // keep `held` alive until here
  return result;
}

/** The same through SocketLibrary descriptors: socket/bind/listen/accept and socket/connect per connection. */
async function libraryMemory(count: number): Promise<MemoryResult> {
  const network = new Network({ seed: 8 });
  const link = network.link({ latencyMs: 0, bandwidthBps: 0, mtu: 1500 });
  const addresses = ['10.0.1.1', ...Array.from({ length: CLIENT_HOSTS }, (_, i) => `10.0.2.${i + 1}`)];
  const all = hosts(network, link, addresses, {}, 16, 2 * count + 16);
  const [server, ...clients] = all as [Host, ...Host[]];
  const fds: number[] = Array.from({ length: 2 * count }, () => -1);
  const ls = await server.lib.socket('tcp');
  await server.lib.bind(ls, '0.0.0.0', SERVER_PORT);
  await server.lib.listen(ls, 65535);
  const before = memoryNow();
  const t0 = performance.now();
  await network.clock.run(async () => {
    let accepted = 0;
    const accepting = (async () => {
      while (accepted < count) fds[count + accepted++] = await server.lib.accept(ls);
    })();
    const BATCH = 1000;
    for (let start = 0; start < count; start += BATCH) {
      const batch: Promise<void>[] = [];
      for (let i = start; i < Math.min(count, start + BATCH); i++) {
        const lib = clients[i % clients.length]!.lib;
        batch.push(
          (async () => {
            const fd = await lib.socket('tcp');
            await lib.connect(fd, server.address, SERVER_PORT);
            fds[i] = fd;
          })(),
        );
      }
      await Promise.all(batch);
    }
    await accepting;
    // The listener is done; closing it also drops its accept() deadline timer (acceptTimeout is an hour).
    await server.lib.close(ls);
  }, { limitMs: DAY_MS });
  settle(network);
  const wall = (performance.now() - t0) / 1000;
  if (network.clock.pending !== 0) throw new Error(`${network.clock.pending} timers still pending on idle descriptors`);
  const after = memoryNow();
  const established = checkEstablished(all.map((h) => h.stack));
  if (established !== 2 * count || fds.some((fd) => fd < 0)) throw new Error(`expected ${2 * count} ESTABLISHED blocks and descriptors, got ${established}`);
  return { connections: count, heap: after.heap - before.heap, buffers: after.buffers - before.buffers, wall, virtualMs: network.clock.now() };
}

/**
 * Traffic before the measurement, so the measured blocks have the object
 * layout a working process gives them: V8 widens a field's representation
 * for every instance once any instance stored a double there (sequence
 * numbers above 2^31, fractional times), and a widened field holds a boxed
 * 16-byte number even for small integers. A fresh process, in which only
 * handshakes ever ran, gives smaller blocks than any process that moved data.
 */
async function warmUp(): Promise<void> {
  await netsim(0.1, 1, {});
  await netsim(0.01, 2, {});
  await userBulk(65535, 64 * 2 ** 20);
  await userBulk(1500, 8 * 2 ** 20);
}

type MemoryMode = 'stack' | 'library';

/** One measurement in a fresh node process (this file run as a script), so the figure does not depend on what ran before it here. */
async function memoryChild(mode: MemoryMode, warm: boolean, count: number): Promise<MemoryResult> {
  const { stdout } = await execFileAsync(process.execPath, ['--expose-gc', fileURLToPath(import.meta.url), 'memory-child', mode, warm ? 'warm' : 'cold', String(count)], {
    maxBuffer: 1 << 20,
  });
  return JSON.parse(stdout.trim().split('\n').pop()!) as MemoryResult;
}

async function memoryBench(): Promise<Row[]> {
  console.log(`\n[user] 3. memory per idle ESTABLISHED connection: ${CONNECTIONS.toLocaleString('en-US')} connections, ${CLIENT_HOSTS} client stacks → 1 server stack, keep-alive off; each figure from a fresh process`);
  const cases: [string, MemoryMode, boolean, number][] = [
    ['stack API, after traffic', 'stack', true, CONNECTIONS],
    ['stack API, fresh process (handshakes only)', 'stack', false, CONNECTIONS],
  ];
  if (LIB_CONNECTIONS > 0) cases.push(['SocketLibrary descriptors, after traffic', 'library', true, LIB_CONNECTIONS]);
  const results: [string, MemoryResult][] = [];
  for (const [label, mode, warm, count] of cases) results.push([label, await memoryChild(mode, warm, count)]);
  const body = results.map(([label, r]) => {
    const per = (r.heap + r.buffers) / r.connections;
    return [
      label,
      r.connections.toLocaleString('en-US'),
      format(r.heap / 2 ** 20, 1),
      format(r.buffers / 2 ** 20, 2),
      format(per, 0),
      format(per / 2, 0),
      per <= 4096 ? 'met' : 'MISSED',
      r.wall.toFixed(1),
    ];
  });
  printTable(['through', 'connections', 'Δ heapUsed MiB', 'Δ arrayBuffers MiB', 'B / connection (2 TCBs)', 'B / endpoint', 'goal ≤ 4 KiB', 'wall s'], body);
  return results.map(([label, r]) => row(`idle conn memory, ${label} (anchor = 4 KiB goal)`, (r.heap + r.buffers) / r.connections, 4096, 'B/conn', true));
}

// ---------------------------------------------------------------- entry

export async function run(): Promise<Row[]> {
  const rows: Row[] = [];
  if (PARTS.includes('bulk')) rows.push(...(await bulkBench()));
  if (PARTS.includes('netsim')) rows.push(...(await netsimBench()));
  if (PARTS.includes('memory')) rows.push(...(await memoryBench()));
  return rows;
}

// Run as a script: `node --expose-gc dist/bench/user-stack.js memory-child stack|library warm|cold COUNT` prints one JSON line.
if (process.argv[1] === fileURLToPath(import.meta.url) && process.argv[2] === 'memory-child') {
  const [, , , mode, warm, count] = process.argv;
  (async () => {
    if (warm === 'warm') await warmUp();
    const result = mode === 'library' ? await libraryMemory(Number(count)) : await stackMemory(Number(count));
    console.log(JSON.stringify(result));
  })().catch((err) => {
    console.error(err);
    process.exit(1);
  });
}
