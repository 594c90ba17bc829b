/** Builds small simulated networks of user-space stacks for tests. */
import { Network } from '../../../src/link/network.js';
import type { SimulatedLink, SimulatedPort } from '../../../src/link/simulated-link.js';
import type { LinkParams } from '../../../src/link/types.js';
import { SocketLibrary } from '../../../src/socket/library.js';
import type { TcpConfig } from '../../../src/stack/user/tcp/config.js';
import { UserStack } from '../../../src/stack/user/stack.js';

export interface Host {
  stack: UserStack;
  lib: SocketLibrary;
  address: string;
  /** The host's interface on the link: `device.up = false` makes the host vanish. */
  device: SimulatedPort;
}

export interface Sim {
  net: Network;
  link: SimulatedLink;
  hosts: Host[];
  /** Drives the virtual clock until `work` settles. */
  run<T>(work: () => Promise<T>, limitMs?: number): Promise<T>;
}

/** `count` hosts 10.0.0.1, 10.0.0.2, … on one link. */
export function sim(count: number, params: Partial<LinkParams> = {}, options: { seed?: number; tcp?: Partial<TcpConfig> } = {}): Sim {
  const net = new Network({ seed: options.seed ?? 1 });
  const link = net.link(params);
  const hosts: Host[] = [];
  for (let i = 1; i <= count; i++) {
    const address = `10.0.0.${i}`;
    const device = link.attach(address);
    const stack = new UserStack({
      clock: net.clock,
      interfaces: [{ device, address, prefixLength: 24 }],
      random: net.random,
      tcp: options.tcp ?? {},
    });
    hosts.push({ stack, lib: new SocketLibrary(stack, { label: `host${i}` }), address, device });
  }
  return { net, link, hosts, run: (work, limitMs) => net.clock.run(work, limitMs ? { limitMs } : {}) };
}
