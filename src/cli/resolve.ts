/**
 * `protostack resolve NAME [TYPE] [@SERVER[:PORT]]`: one DNS question through
 * the project's resolver and socket library, printed the way dig prints it.
 * As dig: any answer is printed with its status line (NXDOMAIN, SERVFAIL,
 * REFUSED too) and exits 0; only a server that never answers is an error
 * (exit 9). @SERVER may be a name, looked up first. localhost and .invalid
 * names are answered locally (RFC 6761), as the resolver answers them.
 */
import { parseServer } from '../dns/config.js';
import { formatMessage, formatRdata } from '../dns/present.js';
import { Resolver } from '../dns/resolver.js';
import { specialAnswer } from '../dns/special.js';
import { show, type Exchange } from '../dns/transport.js';
import type { Endpoint } from '../stack/types.js';
import { encodeMessage } from '../wire/dns/message.js';
import { parseType, type DnsMessage } from '../wire/dns/types.js';
import { ipFamily } from '../wire/ip-address.js';
import { parseArgs, parseCommand, usageError } from './args.js';
import { plain } from './get-exit.js';
import { FlagError } from './limits.js';
import { SocketLibrary } from '../socket/library.js';
import { openTunStack, TUN_OPTIONS, TUN_USAGE, tunFailure, tunFlags, type TunStack } from './tun.js';

export const RESOLVE_USAGE = `Usage: protostack resolve NAME [TYPE] [@SERVER[:PORT]] [--tcp] [--timeout MS] [--short]
  TYPE           A (default), AAAA, MX, TXT, NS, SOA, CNAME, PTR, SRV, ANY or TYPEnnn
  @SERVER        ask this server (127.0.0.1, 127.0.0.1:5353, [::1]:53, or a name such as
                 localhost:5353, looked up first) instead of resolv.conf's
  --tcp          ask over TCP
  --timeout MS   wait this long for each server's answer (default 5000)
  --short        print only the answers' data
Any answer is printed as dig prints it, with its status (NOERROR, NXDOMAIN, SERVFAIL,
REFUSED, ...), and exits 0; no answer from any server exits 9, as dig does.
localhost and *.invalid are answered locally (RFC 6761), never sent to a server.
${TUN_USAGE}With --tun, give the server as @A.B.C.D (resolv.conf's are usually on the host's loopback).
`;

/** dig's exit code when no server answered. */
const NO_REPLY = 9;

export async function resolveCommand(args: string[]): Promise<number> {
  const opened: TunStack[] = [];
  try {
    return await runResolve(args, opened);
  } finally {
    for (const tun of opened) await tun.close();
  }
}

async function runResolve(args: string[], opened: TunStack[]): Promise<number> {
  const parsed = parseCommand('resolve', RESOLVE_USAGE, () =>
    parseArgs({
      args,
      allowPositionals: true,
      strict: true,
      options: { help: { type: 'boolean', short: 'h' }, tcp: { type: 'boolean' }, timeout: { type: 'string' }, short: { type: 'boolean' }, ...TUN_OPTIONS },
    }),
  );
  if (typeof parsed === 'number') return parsed;
  const { values, positionals } = parsed;
  const servers = positionals.filter((p) => p.startsWith('@'));
  const rest = positionals.filter((p) => !p.startsWith('@'));
  const [name, typeText = 'A'] = rest;
  if (!name) return usageError('resolve', 'no name given');
  if (rest.length > 2) return usageError('resolve', `unexpected argument '${rest[2]}' (NAME, TYPE and @SERVER only)`);
  if (servers.length > 1) return usageError('resolve', 'one @SERVER at a time');
  const type = parseType(typeText);
  if (type === null) return usageError('resolve', `unknown type ${typeText}`);
  const timeout = values.timeout === undefined ? undefined : Number(values.timeout);
  if (timeout !== undefined && !(Number.isInteger(timeout) && timeout > 0)) return usageError('resolve', `--timeout wants milliseconds, a whole number above 0, not '${values.timeout}'`);
  const serverText = servers[0]?.slice(1);
  const qname = name.replace(/\.$/, '') || '.';
  const when = new Date();
  const print = (m: DnsMessage, footer: string[]) => {
    if (values.short) {
      for (const rec of m.answers) process.stdout.write(`${formatRdata(rec)}\n`);
      return 0;
    }
    const head = `; <<>> protostack resolve <<>> ${name} ${typeText.toUpperCase()}${serverText !== undefined ? ` @${serverText}` : ''}`;
    process.stdout.write([head, formatMessage(m), '', ...footer, `;; WHEN: ${when.toUTCString()}`, ''].join('\n'));
    return 0;
  };

  const local = specialAnswer(qname, type);
  if (local) return print(local, [';; Query time: 0 msec', `;; SERVER: none, answered locally (${qname} is a special-use name, RFC 6761)`, `;; MSG SIZE  rcvd: ${encodeMessage(local).length}`]);

  let tun;
  try {
    tun = tunFlags(values);
  } catch (e) {
    if (e instanceof FlagError) return usageError('resolve', e.message);
    throw e;
  }
  if (!tun && values.pcap !== undefined) return usageError('resolve', '--pcap needs --tun');
  let lib: SocketLibrary | undefined;
  if (tun) {
    try {
      const attached = await openTunStack(tun, 'resolve');
      opened.push(attached);
      lib = new SocketLibrary(attached.stack, { label: 'resolve' });
    } catch (e) {
      const message = tunFailure(e);
      if (message === null) throw e;
      return fail(message, 1);
    }
  }
  const resolver = new Resolver({ ...(lib ? { lib } : {}), hosts: false, ...(values.tcp ? { tcp: true } : {}), ...(timeout ? { timeout } : {}), attempts: 1 });
  try {
    let targets: { endpoint: Endpoint; label: string }[];
    if (serverText !== undefined) {
      const found = await serverEndpoints(serverText);
      if (typeof found === 'string') return fail(found, 1);
      targets = found;
    } else {
      let config;
      try {
        config = await resolver.config();
      } catch (e) {
        return fail(plain((e as Error).message), 1);
      }
      targets = config.servers.map((endpoint) => ({ endpoint, label: '' }));
    }
    // As dig: the servers in turn until one answers; whatever it answers is the answer.
    const errors: string[] = [];
    for (const target of targets) {
      let r: Exchange & { elapsed: number };
      try {
        r = await resolver.query(qname, type, { server: target.endpoint });
      } catch (e) {
        errors.push(`;; communications error to ${show(target.endpoint)}: ${plain((e as Error).message)}`);
        continue;
      }
      for (const line of errors) process.stdout.write(`${line}\n`);
      return print(r.response, [`;; Query time: ${Math.round(r.elapsed)} msec`, `;; SERVER: ${show(r.server)}${target.label} (${r.via.toUpperCase()})`, `;; MSG SIZE  rcvd: ${r.size}`]);
    }
    for (const line of errors) process.stdout.write(`${line}\n`);
    return fail('no servers could be reached', NO_REPLY);
  } finally {
    await resolver.close();
  }
}

/** @SERVER as addresses: an IP literal as it is, a name looked up first (hosts file, then resolv.conf), as dig does. */
async function serverEndpoints(text: string): Promise<{ endpoint: Endpoint; label: string }[] | string> {
  const bracket = /^\[([^\]]+)\](?::(\d+))?$/.exec(text);
  const hostPort = /^([^:]+):(\d+)$/.exec(text);
  const host = bracket ? bracket[1]! : hostPort ? hostPort[1]! : text;
  const portText = bracket ? bracket[2] : hostPort ? hostPort[2] : undefined;
  const port = portText === undefined ? 53 : Number(portText);
  if (!(port >= 1 && port <= 65_535)) return `bad port in @${text} (1 to 65535)`;
  if (ipFamily(host) !== 0) {
    try {
      return [{ endpoint: parseServer({ address: host, port }), label: '' }];
    } catch (e) {
      return plain((e as Error).message);
    }
  }
  const system = new Resolver();
  try {
    const addresses = await system.getaddrinfo(host);
    return addresses.map((a) => ({ endpoint: { address: a.address, port }, label: `(${host})` }));
  } catch (e) {
    return `cannot look up the server ${host}: ${plain((e as Error).message)}`;
  } finally {
    await system.close();
  }
}

function fail(message: string, code: number): number {
  process.stderr.write(`protostack resolve: ${message}\n`);
  return code;
}
