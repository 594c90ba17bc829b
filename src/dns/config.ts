/**
 * Resolver configuration: resolv.conf(5) parsed the way glibc reads it, then
 * overridden by whatever the program passes.
 */
import { readTextFile } from '#read-file';
import type { Endpoint } from '../stack/types.js';
import { DnsError } from '../wire/dns/errors.js';
import { ipFamily } from '../wire/ip-address.js';

export interface ResolverConfig {
  /** At most three servers (glibc's MAXNS), tried in order (or rotated). */
  servers: Endpoint[];
  /** Domains appended to names with fewer than `ndots` dots. */
  search: string[];
  ndots: number;
  /** Milliseconds to wait for one server's answer before the next try. */
  timeout: number;
  /** Rounds through the server list. */
  attempts: number;
  /** Spread queries across servers instead of always starting with the first. */
  rotate: boolean;
  /** Use TCP for every query (options use-vc). */
  tcp: boolean;
}

export const MAX_SERVERS = 3;
const MAX_SEARCH = 6;

/** glibc's defaults: 5 s, 2 attempts, ndots 1; with no nameserver line, the local host. */
export const DEFAULT_CONFIG: Readonly<ResolverConfig> = Object.freeze({
  servers: [{ address: '127.0.0.1', port: 53 }],
  search: [],
  ndots: 1,
  timeout: 5000,
  attempts: 2,
  rotate: false,
  tcp: false,
});

export function parseResolvConf(text: string): ResolverConfig {
  const config: ResolverConfig = { ...DEFAULT_CONFIG, servers: [], search: [] };
  for (const raw of text.split('\n')) {
    const line = raw.replace(/[#;].*/, '').trim();
    if (!line) continue;
    const [keyword, ...args] = line.split(/\s+/);
    switch (keyword) {
      case 'nameserver': {
        const address = (args[0] ?? '').replace(/%.*/, '');
        if (ipFamily(address) !== 0 && config.servers.length < MAX_SERVERS) config.servers.push({ address, port: 53 });
        break;
      }
      case 'domain':
        if (args[0]) config.search = [args[0].replace(/\.$/, '')];
        break;
      case 'search':
        // The last search or domain line wins, as in glibc.
        config.search = args.slice(0, MAX_SEARCH).map((d) => d.replace(/\.$/, '')).filter((d) => d.length > 0);
        break;
      case 'options':
        for (const option of args) applyOption(config, option);
        break;
    }
  }
  if (config.servers.length === 0) config.servers = [...DEFAULT_CONFIG.servers];
  return config;
}

function applyOption(config: ResolverConfig, option: string): void {
  const [name, value] = option.split(':');
  const n = Number(value);
  switch (name) {
    case 'ndots':
      if (Number.isInteger(n) && n >= 0) config.ndots = Math.min(n, 15);
      break;
    case 'timeout':
      if (Number.isInteger(n) && n >= 1) config.timeout = Math.min(n, 30) * 1000;
      break;
    case 'attempts':
      if (Number.isInteger(n) && n >= 1) config.attempts = Math.min(n, 5);
      break;
    case 'rotate':
      config.rotate = true;
      break;
    case 'use-vc':
      config.tcp = true;
      break;
  }
}

/** Reads a resolv.conf; a missing file means the defaults, as for glibc. */
export async function loadResolvConf(path: string): Promise<ResolverConfig> {
  let text: string;
  try {
    text = await readTextFile(path);
  } catch {
    return { ...DEFAULT_CONFIG, servers: [...DEFAULT_CONFIG.servers], search: [] };
  }
  return parseResolvConf(text);
}

/** "10.0.0.1", "10.0.0.1:5353", "[::1]:5353" or an endpoint, checked. */
export function parseServer(server: string | Endpoint): Endpoint {
  if (typeof server !== 'string') {
    if (ipFamily(server.address) === 0 || !Number.isInteger(server.port) || server.port < 1 || server.port > 65_535)
      throw new DnsError('ERR_DNS_BAD_CONFIG', `not a server address: ${server.address}:${server.port}`);
    return { address: server.address, port: server.port };
  }
  let address = server;
  let port = 53;
  const bracket = /^\[([^\]]+)\](?::(\d+))?$/.exec(server);
  if (bracket) {
    address = bracket[1]!;
    if (bracket[2]) port = Number(bracket[2]);
  } else if (ipFamily(server) === 0 && /^[^:]+:\d+$/.test(server)) {
    const i = server.lastIndexOf(':');
    address = server.slice(0, i);
    port = Number(server.slice(i + 1));
  }
  return parseServer({ address, port });
}
