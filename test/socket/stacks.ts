/**
 * The two stacks the socket-library suite runs on, so every call's contract
 * is checked on both: the kernel's (node:net, node:dgram) over real loopback
 * sockets, and protostack's user-space stack on a simulated link of three
 * hosts, on the network's virtual clock. `eachStack` registers a test once
 * per stack ("title [kernel]", "title [user]"); each run gets a fresh `Net`
 * and its body runs inside the stack's notion of time: plainly for the
 * kernel, under `clock.run` for the simulation, so a 300 ms timeout there
 * costs no wall-clock time at all.
 *
 * A test names hosts, never addresses: `net.client` calls, `net.server`
 * listens, `net.other` is a third party (a stranger's datagrams). On the
 * kernel all three are libraries of their own on 127.0.0.1.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { test, type TestContext } from 'node:test';
import { SocketLibrary, type LibraryOptions } from '../../src/socket/library.js';
import { KernelStack } from '../../src/stack/kernel/stack.js';
import type { ProtocolStack } from '../../src/stack/types.js';
import { LOOPBACK } from '../helpers.js';
import { sim } from '../stack/user/sim.js';

export type StackName = 'kernel' | 'user';
export const STACKS: readonly StackName[] = ['kernel', 'user'];

export interface Host {
  /** The host's library (its own descriptor table). */
  readonly lib: SocketLibrary;
  /** The address the host's sockets bind to and are reached at. */
  readonly address: string;
}

export interface Net {
  readonly name: StackName;
  readonly client: Host;
  readonly server: Host;
  readonly other: Host;
  /** Another library on `host`'s stack, closed with the net. */
  library(host: Host, label: string, options?: LibraryOptions): SocketLibrary;
  /** Milliseconds on the stack's clock. */
  now(): number;
  /** Waits `ms` on the stack's clock. */
  sleep(ms: number): Promise<void>;
  /** Calls `fire` after `ms` on the stack's clock. */
  after(ms: number, fire: () => void): void;
  /**
   * A TCP port on the server's address whose listener completes `backlog + 1`
   * handshakes (Linux's bound) and never accepts, so later SYNs are dropped
   * and connects time out. The kernel's needs a real OS socket (python3 with
   * listen(backlog)), since node:net accepts everything it can at once.
   */
  neverAccepts(backlog: number): Promise<number>;
}

/** Options for one parametrized test. */
export interface StackTestOptions {
  /** Virtual-time bound for the user stack's run (default one hour). */
  limitMs?: number;
}

/** Registers `title` once per stack; `body` gets a fresh Net and its test context. */
export function eachStack(title: string, body: (net: Net, t: TestContext) => Promise<void>, options: StackTestOptions = {}): void {
  for (const name of STACKS) {
    test(`${title} [${name}]`, async (t) => {
      const fixture = name === 'kernel' ? kernelNet() : userNet();
      try {
        await fixture.run(() => body(fixture.net, t), options.limitMs);
      } finally {
        await fixture.run(() => fixture.close());
      }
    });
  }
}

/** `size` on the kernel, `user` on the simulation: big loads are scaled down where every packet is simulated. */
export function sized<T>(net: Net, kernel: T, user: T): T {
  return net.name === 'kernel' ? kernel : user;
}

interface Fixture {
  net: Net;
  run<T>(work: () => Promise<T>, limitMs?: number): Promise<T>;
  close(): Promise<void>;
}

function kernelNet(): Fixture {
  const libraries: SocketLibrary[] = [];
  const children: ChildProcess[] = [];
  const stack = new KernelStack();
  const make = (label: string, options: LibraryOptions = {}) => {
    const lib = new SocketLibrary(stack, { label, ...options });
    libraries.push(lib);
    return lib;
  };
  const host = (label: string): Host => ({ lib: make(label), address: LOOPBACK });
  const net: Net = {
    name: 'kernel',
    client: host('client'),
    server: host('server'),
    other: host('other'),
    library: (_host, label, options) => make(label, options),
    now: () => performance.now(),
    // A referenced timer: a test that only sleeps must still keep the process alive.
    sleep: (ms) => new Promise((resolve) => setTimeout(resolve, ms)),
    after: (ms, fire) => void setTimeout(fire, ms),
    async neverAccepts(backlog) {
      const child = spawn('python3', ['-c', NEVER_ACCEPTS, String(backlog)], { stdio: ['ignore', 'pipe', 'inherit'] });
      children.push(child);
      const [line] = (await once(child.stdout!, 'data')) as [Buffer];
      return Number(line.toString().trim());
    },
  };
  return {
    net,
    run: (work) => work(),
    async close() {
      for (const c of children) c.kill();
      for (const lib of libraries) await lib.closeAll();
    },
  };
}

/** A listener that never calls accept: Linux keeps backlog + 1 finished handshakes, then drops SYNs. */
const NEVER_ACCEPTS = `
import socket, sys, time
s = socket.socket()
s.bind(('127.0.0.1', 0))
s.listen(int(sys.argv[1]))
print(s.getsockname()[1], flush=True)
time.sleep(60)
`;

function userNet(): Fixture {
  const s = sim(3, { latencyMs: 1 });
  const [a, b, c] = s.hosts as [(typeof s.hosts)[0], (typeof s.hosts)[0], (typeof s.hosts)[0]];
  const libraries: SocketLibrary[] = [a.lib, b.lib, c.lib];
  const stackOf = new Map<Host, ProtocolStack>();
  const host = (h: typeof a): Host => {
    const out = { lib: h.lib, address: h.address };
    stackOf.set(out, h.stack);
    return out;
  };
  const clock = s.net.clock;
  const net: Net = {
    name: 'user',
    client: host(a),
    server: host(b),
    other: host(c),
    library(on, label, options = {}) {
      const lib = new SocketLibrary(stackOf.get(on)!, { label, ...options });
      libraries.push(lib);
      return lib;
    },
    now: () => clock.now(),
    sleep: (ms) => new Promise((resolve) => clock.setTimer(ms, () => resolve())),
    after: (ms, fire) => void clock.setTimer(ms, fire),
    async neverAccepts(backlog) {
      const lib = net.library(net.server, 'never-accepts');
      const fd = await lib.socket('tcp');
      await lib.bind(fd, net.server.address, 0);
      await lib.listen(fd, backlog);
      return (await lib.getsockname(fd)).port;
    },
  };
  return {
    net,
    run: (work, limitMs) => s.run(work, limitMs),
    async close() {
      for (const lib of libraries) await lib.closeAll();
    },
  };
}

/** A listening TCP descriptor on a free port of `host`. */
export async function listenOn(host: Host, backlog = 128, lib = host.lib): Promise<{ fd: number; port: number }> {
  const fd = await lib.socket('tcp');
  await lib.bind(fd, host.address, 0);
  await lib.listen(fd, backlog);
  return { fd, port: (await lib.getsockname(fd)).port };
}

/** A UDP descriptor bound to a free port of `host`. */
export async function boundUdp(host: Host, lib = host.lib): Promise<{ fd: number; port: number }> {
  const fd = await lib.socket('udp');
  await lib.bind(fd, host.address, 0);
  return { fd, port: (await lib.getsockname(fd)).port };
}

/** A connection from the client to a fresh listener on the server: both descriptors, the listener and its port, and a close for all three. */
export async function connectPair({ client, server }: { client: Host; server: Host }): Promise<{ fd: number; conn: number; listener: number; port: number; close(): Promise<void> }> {
  const { fd: listener, port } = await listenOn(server);
  const fd = await client.lib.socket('tcp');
  await client.lib.connect(fd, server.address, port);
  const conn = await server.lib.accept(listener);
  return {
    fd,
    conn,
    listener,
    port,
    async close() {
      await client.lib.close(fd);
      for (const d of [conn, listener]) await server.lib.close(d);
    },
  };
}
