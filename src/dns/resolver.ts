/**
 * The stub resolver: gethostbyname, getaddrinfo and resolve, answered from
 * the hosts file, then the cache, then DNS servers asked through the socket
 * library, so it works over any protocol stack (never node:dns).
 */
import { defaultLibrary } from '#default-library';
import type { SocketLibrary } from '../socket/library.js';
import type { Endpoint } from '../stack/types.js';
import type { TraceSink } from '../trace-events.js';
import { DnsError, type DnsErrorCode } from '../wire/dns/errors.js';
import { normalizeName } from '../wire/dns/name.js';
import { CLASS, RCODE, TYPE, parseType, typeName, type DnsMessage, type DnsRecord, type SoaRecord } from '../wire/dns/types.js';
import { ipFamily } from '../wire/ip-address.js';
import { DnsCache, type CacheOptions, type CacheResult } from './cache.js';
import { loadResolvConf, parseServer, type ResolverConfig } from './config.js';
import { HostsTable, loadHosts } from './hosts.js';
import { candidates, checkName } from './names.js';
import { sortDestinations } from './sort.js';
import { localhostAddresses, specialName } from './special.js';
import { exchange, show, type Exchange } from './transport.js';

export interface ResolverOptions {
  /** The socket library to query through; a kernel-stack one by default. */
  lib?: SocketLibrary;
  /** Servers ("10.0.0.1", "127.0.0.1:5353", endpoints); replaces resolv.conf's nameservers. */
  servers?: (string | Endpoint)[];
  /** Path of resolv.conf, or false to use only what is given here. Default /etc/resolv.conf. */
  resolvConf?: string | false;
  /** Path of the hosts file, or false for none. Default /etc/hosts. */
  hosts?: string | false;
  search?: string[];
  ndots?: number;
  /** Milliseconds per try. */
  timeout?: number;
  attempts?: number;
  rotate?: boolean;
  /** Ask over TCP only. */
  tcp?: boolean;
  /** EDNS0 UDP payload size to advertise; 0 for no EDNS. Default 1232 (the DNS flag day 2020 value). */
  udpSize?: number;
  /** Cache settings, or false for no cache. */
  cache?: CacheOptions | false;
  /** CNAME links to follow before giving up. */
  maxCnameHops?: number;
  /** Random integers in [min, max) for query IDs and source ports; node:crypto's by default. A seeded one makes a simulated run replayable. */
  randomInt?: (min: number, max: number) => number;
  /** Where each question sent and its answer are recorded (DnsEvent, src/trace-events.ts); none by default, and then nothing is built. */
  trace?: TraceSink | null;
}

export interface Answer {
  /** The name that was asked for (after the search list). */
  name: string;
  /** Where the CNAME chain ended. */
  canonicalName: string;
  type: number;
  records: DnsRecord[];
  /** The CNAME links followed, in order. */
  chain: string[];
  /** Seconds the answer may still be used. */
  ttl: number;
  source: 'hosts' | 'local' | 'cache' | 'dns';
  server?: Endpoint;
  via?: 'udp' | 'tcp';
}

export interface Address {
  address: string;
  family: 4 | 6;
}

export type AddressOrder = 'rfc6724' | 'ipv4first' | 'ipv6first' | 'verbatim';

export interface LookupOptions {
  /** 4 or 6 for one family; 0 (default) for both. */
  family?: 0 | 4 | 6;
  order?: AddressOrder;
  signal?: AbortSignal;
}

const DEFAULT_UDP_SIZE = 1232;
/** How long a destination's source address is trusted for RFC 6724 ordering. */
const SOURCE_MEMORY_MS = 5000;
const RECENT_LIMIT = 10_000;

export class Resolver {
  readonly lib: SocketLibrary;
  private readonly options: ResolverOptions;
  private readonly ownsLib: boolean;
  private readonly cache: DnsCache | null;
  private readonly inflight = new Map<string, Promise<Answer>>();
  private setup: Promise<{ config: ResolverConfig; hosts: HostsTable }> | null = null;
  private settled: { config: ResolverConfig; hosts: HostsTable } | null = null;
  /** Finished getaddrinfo answers by exact question, until their TTL (bounded). */
  private readonly recent = new Map<string, { addresses: Address[]; expires: number }>();
  /** Source address the stack picks for a destination, kept a few seconds (RFC 6724 sorting asks for every address). */
  private readonly sources = new Map<string, { source: string | null; expires: number }>();
  private next = 0;
  /** Queries sent to servers (each UDP or TCP exchange counts once). */
  queriesSent = 0;

  constructor(options: ResolverOptions = {}) {
    this.options = options;
    this.ownsLib = !options.lib;
    this.lib = options.lib ?? defaultLibrary('resolver');
    this.cache = options.cache === false ? null : new DnsCache(options.cache ?? {});
    if (options.servers) options.servers.forEach(parseServer); // fail early on a bad address
  }

  /** The seed's gethostbyname: one IPv4 address for a name. */
  gethostbyname(name: string, options: { signal?: AbortSignal } = {}): Promise<string> {
    const hot = this.recall(name, 4, 'verbatim');
    if (hot) return Promise.resolve(hot[0]!.address);
    return this.getaddrinfo(name, { family: 4, order: 'verbatim', ...options }).then((found) => found[0]!.address);
  }

  /** Every address of a name, hosts file first, both families by default, best first (RFC 6724). */
  getaddrinfo(name: string, options: LookupOptions = {}): Promise<Address[]> {
    const hot = this.recall(name, options.family ?? 0, options.order ?? 'rfc6724');
    if (hot) return Promise.resolve(hot.slice());
    return this.lookupAddresses(name, options);
  }

  private async lookupAddresses(name: string, options: LookupOptions): Promise<Address[]> {
    const family = options.family ?? 0;
    const order = options.order ?? 'rfc6724';
    const literal = ipFamily(name);
    if (literal !== 0) {
      if (family !== 0 && family !== literal) throw new DnsError('ERR_DNS_NODATA', `${name} is an IPv${literal} address, not IPv${family}`);
      return [{ address: name, family: literal }];
    }
    checkName(name);
    const { hosts, config } = this.settled ?? (await this.ready());
    // The hosts file is read once, so what it says holds for as long as the resolver lives.
    const fromHosts = this.fromTable(hosts, name, family);
    if (fromHosts.length > 0) return this.remember(name, family, order, await this.order(fromHosts, order), Infinity);
    const special = specialName(name);
    if (special === 'invalid') throw invalidName(name);
    if (special === 'localhost') return this.remember(name, family, order, await this.order(localhostAddresses(family), order), Infinity);

    const families: (4 | 6)[] = family === 0 ? [4, 6] : [family];
    let found: Address[] = [];
    let ttl = Infinity;
    // A cache hit for every family on the first name of the search list settles it without a promise per family.
    if (this.cache) {
      const key = normalizeName(candidates(name, config.search, config.ndots)[0]!);
      for (const f of families) {
        const c = this.cache.get(`${key}|${f === 4 ? TYPE.A : TYPE.AAAA}`);
        if (!c || c.kind !== 'answer') {
          found = [];
          break;
        }
        ttl = Math.min(ttl, c.ttl);
        for (const r of c.records) if (r.type === (f === 4 ? TYPE.A : TYPE.AAAA)) found.push({ address: r.data as string, family: f });
      }
    }
    if (found.length === 0) {
      const settled = await Promise.allSettled(families.map((f) => this.resolve(name, f === 4 ? TYPE.A : TYPE.AAAA, options)));
      settled.forEach((s, i) => {
        if (s.status !== 'fulfilled') return;
        ttl = Math.min(ttl, s.value.ttl);
        for (const r of s.value.records) found.push({ address: r.data as string, family: families[i]! });
      });
      if (found.length === 0) throw worstOf(settled.map((s) => (s as PromiseRejectedResult).reason));
    }
    // RFC 6724 order rests on source addresses that are only remembered for a few seconds.
    if (order === 'rfc6724') ttl = Math.min(ttl, SOURCE_MEMORY_MS / 1000);
    return this.remember(name, family, order, await this.order(found, order), ttl);
  }

  /** A finished getaddrinfo answer for exactly this question, if one is still good: the cheapest possible hit. */
  private recall(name: string, family: number, order: AddressOrder): Address[] | undefined {
    if (!this.cache) return undefined;
    const entry = this.recent.get(`${name}|${family}|${order}`);
    if (!entry) return undefined;
    if (entry.expires > this.cache.now()) return entry.addresses;
    this.recent.delete(`${name}|${family}|${order}`);
    return undefined;
  }

  private remember(name: string, family: number, order: AddressOrder, addresses: Address[], ttlSeconds: number): Address[] {
    if (!this.cache || !(ttlSeconds > 0)) return addresses;
    if (this.recent.size >= RECENT_LIMIT) this.recent.delete(this.recent.keys().next().value as string);
    this.recent.set(`${name}|${family}|${order}`, { addresses: addresses.slice(), expires: this.cache.now() + ttlSeconds * 1000 });
    return addresses;
  }

  /** Records of one type for a name, following CNAMEs; NXDOMAIN and NODATA are errors with their own codes. */
  async resolve(name: string, type: number | string = TYPE.A, options: { signal?: AbortSignal } = {}): Promise<Answer> {
    const qtype = typeof type === 'number' ? type : parseType(type);
    if (qtype === null || qtype < 0 || qtype > 65_535) throw new DnsError('ERR_DNS_BAD_VALUE', `unknown record type ${String(type)}`);
    checkName(name);
    if (specialName(name) === 'invalid') throw invalidName(name);
    const { config } = await this.ready();
    const errors: unknown[] = [];
    for (const candidate of candidates(name, config.search, config.ndots)) {
      try {
        return await this.resolveExact(candidate, qtype, options.signal);
      } catch (e) {
        if (!(e instanceof DnsError) || e.code === 'ERR_DNS_CANCELED' || e.code === 'ERR_DNS_BAD_VALUE') throw e;
        errors.push(e);
      }
    }
    throw worstOf(errors);
  }

  /** One question to the configured servers, no cache and no search list: the raw response, for tools like `protostack resolve`. */
  async query(name: string, type: number, options: { server?: Endpoint; signal?: AbortSignal } = {}): Promise<Exchange & { elapsed: number }> {
    const { config } = await this.ready();
    const t0 = this.lib.stack.now();
    const result = options.server
      ? await this.ask(options.server, name, type, config, options.signal)
      : await this.askAny(name, type, config, options.signal);
    return { ...result, elapsed: this.lib.stack.now() - t0 };
  }

  /** The effective configuration, after resolv.conf and the options. */
  async config(): Promise<ResolverConfig> {
    return (await this.ready()).config;
  }

  get cacheStats(): { size: number; hits: number; misses: number } {
    return { size: this.cache?.size ?? 0, hits: this.cache?.hits ?? 0, misses: this.cache?.misses ?? 0 };
  }

  async close(): Promise<void> {
    if (this.ownsLib) await this.lib.closeAll();
  }

  // ---- the lookup itself ----

  private resolveExact(name: string, type: number, signal?: AbortSignal): Promise<Answer> {
    const key = `${normalizeName(name)}|${type}`;
    const cached = this.cache?.get(key);
    if (cached) return Promise.resolve(fromCache(name, type, cached));
    // Identical questions in flight share one exchange.
    let pending = this.inflight.get(key);
    if (!pending) {
      pending = this.fetch(name, type, key, signal).finally(() => this.inflight.delete(key));
      this.inflight.set(key, pending);
    }
    return pending;
  }

  private async fetch(name: string, type: number, key: string, signal?: AbortSignal): Promise<Answer> {
    const { config } = await this.ready();
    const maxHops = this.options.maxCnameHops ?? 8;
    const chain: string[] = [];
    const seen = new Set<string>([normalizeName(name)]);
    let qname = name;
    let ttl = Infinity;
    for (let query = 0; query <= maxHops; query++) {
      const ex = await this.askAny(qname, type, config, signal);
      const m = ex.response;
      if (m.rcode === RCODE.NXDOMAIN) {
        this.cacheNegative(key, 'nxdomain', m);
        throw new DnsError('ERR_DNS_NXDOMAIN', `${qname} does not exist (NXDOMAIN from ${show(ex.server)})`);
      }
      // Follow the CNAME chain inside this answer (RFC 1034 §3.6.2).
      let current = qname;
      for (;;) {
        const records = m.answers.filter((r) => normalizeName(r.name) === normalizeName(current) && (r.type === type || type === TYPE.ANY) && r.class === CLASS.IN);
        if (records.length > 0) {
          for (const r of records) ttl = Math.min(ttl, r.ttl);
          const answer: Answer = { name, canonicalName: current, type, records, chain, ttl, source: 'dns', server: ex.server, via: ex.via };
          this.cache?.set(key, { kind: 'answer', name: current, records, chain, ttl });
          return answer;
        }
        const cname = type === TYPE.CNAME ? undefined : m.answers.find((r) => r.type === TYPE.CNAME && normalizeName(r.name) === normalizeName(current));
        if (!cname) break;
        const target = cname.data as string;
        chain.push(current);
        ttl = Math.min(ttl, cname.ttl);
        if (seen.has(normalizeName(target)) || chain.length > maxHops) throw new DnsError('ERR_DNS_CNAME_LOOP', `CNAME chain from ${name} loops or is longer than ${maxHops} links`);
        seen.add(normalizeName(target));
        current = target;
      }
      if (current === qname || hasSoa(m)) {
        // No records of the type at the end of the chain: NODATA (RFC 2308 §2.2).
        this.cacheNegative(key, 'nodata', m);
        throw new DnsError('ERR_DNS_NODATA', `${current} has no ${typeName(type)} records (from ${show(ex.server)})`);
      }
      qname = current; // the server gave the CNAME but not the rest: ask for the target
    }
    throw new DnsError('ERR_DNS_CNAME_LOOP', `gave up on ${name} after ${maxHops} CNAME queries`);
  }

  private cacheNegative(key: string, kind: 'nxdomain' | 'nodata', m: DnsMessage): void {
    // RFC 2308 §5: the negative TTL is the SOA's minimum, capped by the SOA record's own TTL; no SOA, no caching.
    const soa = m.authorities.find((r): r is SoaRecord => r.type === TYPE.SOA);
    if (soa) this.cache?.set(key, { kind, ttl: Math.min(soa.ttl, soa.data.minimum) });
  }

  /** Asks the servers in turn, `attempts` rounds, until one gives an answer that settles the question. */
  private async askAny(name: string, type: number, config: ResolverConfig, signal?: AbortSignal): Promise<Exchange> {
    const servers = config.servers;
    const start = config.rotate ? this.next++ % servers.length : 0;
    let last: DnsError | null = null;
    for (let attempt = 0; attempt < config.attempts; attempt++) {
      for (let i = 0; i < servers.length; i++) {
        const server = servers[(start + i) % servers.length]!;
        try {
          const ex = await this.ask(server, name, type, config, signal);
          const rcode = ex.response.rcode;
          if (rcode === RCODE.NOERROR || rcode === RCODE.NXDOMAIN) return ex;
          // SERVFAIL, REFUSED, NOTIMP, FORMERR: this server cannot help; try the next (RFC 1035 §7.2, as glibc does).
          last = rcodeError(rcode, name, server);
        } catch (e) {
          if (!(e instanceof DnsError) && !isSocketError(e)) throw e;
          if (e instanceof DnsError && e.code === 'ERR_DNS_CANCELED') throw e;
          last = e instanceof DnsError ? e : new DnsError('ERR_DNS_UNREACHABLE', `${show(server)}: ${(e as Error).message}`, { cause: e });
        }
      }
    }
    throw last ?? new DnsError('ERR_DNS_NO_SERVERS', 'no DNS servers are configured');
  }

  /** One server: EDNS first, then without it if the server does not understand EDNS (RFC 6891 §7). */
  private async ask(server: Endpoint, name: string, type: number, config: ResolverConfig, signal?: AbortSignal): Promise<Exchange> {
    const udpSize = this.options.udpSize ?? DEFAULT_UDP_SIZE;
    const question = { name, type, class: CLASS.IN };
    const base = { timeout: config.timeout, tcp: config.tcp, ...(signal ? { signal } : {}), ...(this.options.randomInt ? { randomInt: this.options.randomInt } : {}), trace: this.options.trace ?? null };
    this.queriesSent++;
    const ex = await exchange(this.lib, server, question, { ...base, udpSize });
    const r = ex.response;
    if (udpSize > 0 && !r.edns && (r.rcode === RCODE.FORMERR || r.rcode === RCODE.NOTIMP || r.rcode === RCODE.SERVFAIL)) {
      this.queriesSent++;
      return exchange(this.lib, server, question, { ...base, udpSize: 0 });
    }
    return ex;
  }

  private ready(): Promise<{ config: ResolverConfig; hosts: HostsTable }> {
    this.setup ??= (async () => {
      const o = this.options;
      const base = o.resolvConf === false ? null : await loadResolvConf(o.resolvConf ?? '/etc/resolv.conf');
      const hosts = o.hosts === false ? new HostsTable() : await loadHosts(o.hosts ?? '/etc/hosts');
      const config: ResolverConfig = {
        servers: o.servers ? o.servers.map(parseServer) : (base?.servers ?? []),
        search: o.search ?? base?.search ?? [],
        ndots: o.ndots ?? base?.ndots ?? 1,
        timeout: o.timeout ?? base?.timeout ?? 5000,
        attempts: o.attempts ?? base?.attempts ?? 2,
        rotate: o.rotate ?? base?.rotate ?? false,
        tcp: o.tcp ?? base?.tcp ?? false,
      };
      if (config.servers.length === 0) throw new DnsError('ERR_DNS_NO_SERVERS', 'no DNS servers: pass servers or a resolv.conf');
      if (!(config.timeout > 0) || !(config.attempts >= 1)) throw new DnsError('ERR_DNS_BAD_CONFIG', 'timeout and attempts must be positive');
      this.settled = { config, hosts };
      return { config, hosts };
    })();
    return this.setup;
  }

  private fromTable(hosts: HostsTable, name: string, family: 0 | 4 | 6): Address[] {
    const out: Address[] = [];
    if (family !== 6) for (const address of hosts.lookup(name, 4)) out.push({ address, family: 4 });
    if (family !== 4) for (const address of hosts.lookup(name, 6)) out.push({ address, family: 6 });
    return out;
  }

  private order(addresses: Address[], order: AddressOrder = 'rfc6724'): Address[] | Promise<Address[]> {
    if (addresses.length < 2 || order === 'verbatim') return addresses;
    if (order === 'ipv4first' || order === 'ipv6first') {
      const first = order === 'ipv4first' ? 4 : 6;
      return [...addresses.filter((a) => a.family === first), ...addresses.filter((a) => a.family !== first)];
    }
    const now = this.lib.stack.now();
    const known = addresses.map((a) => {
      const m = this.sources.get(a.address);
      return m && m.expires > now ? { ...a, source: m.source } : null;
    });
    if (known.every((k) => k !== null)) return sortDestinations(known as (Address & { source: string | null })[]).map(({ address, family }) => ({ address, family }));
    return Promise.all(addresses.map(async (a) => ({ ...a, source: await this.sourceFor(a.address) }))).then((withSources) =>
      sortDestinations(withSources).map(({ address, family }) => ({ address, family })),
    );
  }

  private async sourceFor(address: string): Promise<string | null> {
    const source = await this.probeSource(address);
    if (this.sources.size > 1000) this.sources.clear();
    this.sources.set(address, { source, expires: this.lib.stack.now() + SOURCE_MEMORY_MS });
    return source;
  }

  /** The source address the stack would use for a destination: connect a UDP socket (nothing is sent) and ask getsockname. */
  private async probeSource(address: string): Promise<string | null> {
    let fd = -1;
    try {
      fd = await this.lib.socket('udp');
      await this.lib.connect(fd, address, 53);
      return (await this.lib.getsockname(fd)).address;
    } catch {
      return null;
    } finally {
      if (fd >= 0) await this.lib.close(fd).catch(() => {});
    }
  }
}

function fromCache(name: string, type: number, c: CacheResult): Answer {
  if (c.kind !== 'answer') {
    if (c.kind === 'nxdomain') throw new DnsError('ERR_DNS_NXDOMAIN', `${name} does not exist (cached NXDOMAIN)`);
    throw new DnsError('ERR_DNS_NODATA', `${name} has no ${typeName(type)} records (cached)`);
  }
  return { name, canonicalName: c.name, type, records: c.records, chain: c.chain, ttl: c.ttl, source: 'cache' };
}

/** RFC 6761 §6.4: an invalid name does not exist, and no server is asked. */
function invalidName(name: string): DnsError {
  return new DnsError('ERR_DNS_NXDOMAIN', `${name} does not exist (a special-use .invalid name, RFC 6761)`);
}

function hasSoa(m: DnsMessage): boolean {
  return m.authorities.some((r) => r.type === TYPE.SOA);
}

function rcodeError(rcode: number, name: string, server: Endpoint): DnsError {
  const code: DnsErrorCode = rcode === RCODE.SERVFAIL ? 'ERR_DNS_SERVFAIL' : rcode === RCODE.REFUSED ? 'ERR_DNS_REFUSED' : rcode === RCODE.NOTIMP ? 'ERR_DNS_NOTIMP' : 'ERR_DNS_BAD_RESPONSE';
  return new DnsError(code, `${show(server)} answered rcode ${rcode} for ${name}`);
}

function isSocketError(e: unknown): boolean {
  return (e as { name?: string } | null)?.name === 'SocketError';
}

/** Of several failures, the one that says most: NODATA, then a server failure, then NXDOMAIN (as glibc's search does). */
function worstOf(errors: unknown[]): Error {
  const rank = (e: unknown) => {
    const code = (e as DnsError).code;
    if (code === 'ERR_DNS_NODATA') return 0;
    if (code === 'ERR_DNS_NXDOMAIN') return 2;
    return 1;
  };
  const sorted = [...errors].sort((a, b) => rank(a) - rank(b));
  return (sorted[0] as Error) ?? new DnsError('ERR_DNS_NXDOMAIN', 'not found');
}
