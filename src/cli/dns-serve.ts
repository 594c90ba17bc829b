/**
 * `protostack dns-serve ZONEFILE [--port N] [--address A] [--origin NAME]`:
 * an authoritative server for one zone over the kernel stack, answering on
 * UDP and TCP until SIGINT or SIGTERM.
 */
import { serveDns, type DnsServerOptions } from '../dns/server.js';
import { loadZone } from '../dns/zone-file.js';
import { SocketLibrary } from '../socket/library.js';
import { KernelStack } from '../stack/kernel/stack.js';
import type { ProtocolStack } from '../stack/types.js';
import { openTunStack, TUN_OPTIONS, TUN_USAGE, tunFailure, tunFlags, type TunFlags, type TunStack } from './tun.js';
import { hostPort } from '../wire/address.js';
import { ipFamily } from '../wire/ip-address.js';
import { parseArgs, parseCommand, usageError } from './args.js';
import { countFlag, FlagError, secondsFlag } from './limits.js';

const USAGE = `Usage: protostack dns-serve ZONEFILE [--port N] [--address A] [--origin NAME] [limits]

Serves the zone in ZONEFILE (an RFC 1035 master file) over UDP and TCP.
  --port N        default 5353 (53 needs privileges); 0 picks a free port
  --address A     default 127.0.0.1
  --origin NAME   the zone's name, when the file has no $ORIGIN
Limits:
  --udp-size BYTES     the largest UDP answer, 512-65535, default 1232 (larger ones
                       are truncated, and the client asks again over TCP)
  --rate-limit N       at most N UDP answers a second to each source network (/24,
                       /56); past it answers are dropped, every 2nd sent as TC. Default off
  --max-tcp N          TCP connections open at once, default 64; at the cap the
                       longest idle one (else the slowest) makes room
  --idle-timeout SECS  a TCP client's time for each query, default 10
Stops on Ctrl-C (SIGINT) or SIGTERM.
${TUN_USAGE}With --tun, --address A.B.C.D/LEN is protostack's address on the interface, and
the server answers there.
`;

export async function dnsServeCommand(args: string[]): Promise<number> {
  const fail = (message: string, code: number) => {
    if (code === 2) return usageError('dns-serve', message);
    process.stderr.write(`protostack dns-serve: ${message}\n`);
    return code;
  };
  const parsed = parseCommand('dns-serve', USAGE, () =>
    parseArgs({
      args,
      allowPositionals: true,
      strict: true,
      options: {
        help: { type: 'boolean', short: 'h' },
        port: { type: 'string', short: 'p' },
        origin: { type: 'string' },
        ...TUN_OPTIONS,
        address: { type: 'string', short: 'a' },
        'udp-size': { type: 'string' },
        'rate-limit': { type: 'string' },
        'max-tcp': { type: 'string' },
        'idle-timeout': { type: 'string' },
      },
    }),
  );
  if (typeof parsed === 'number') return parsed;
  const { values, positionals } = parsed;
  if (positionals.length !== 1) return fail(positionals.length === 0 ? 'no zone file given' : 'one zone file only', 2);
  const portText = values.port ?? '5353';
  if (!/^\d{1,5}$/.test(portText) || Number(portText) > 65_535) return fail(`--port must be 0-65535, not '${portText}'`, 2);
  let tun: TunFlags | null;
  try {
    tun = tunFlags(values);
  } catch (e) {
    if (e instanceof FlagError) return fail(e.message, 2);
    throw e;
  }
  if (!tun && values.pcap !== undefined) return fail('--pcap needs --tun', 2);
  const address = tun?.address ?? values.address ?? '127.0.0.1';
  if (ipFamily(address) === 0) return fail(`--address must be an IP address, not '${address}'`, 2);
  let limits: DnsServerOptions;
  try {
    const rate = countFlag(values['rate-limit'], '--rate-limit', 1, 1_000_000);
    limits = {
      udpSize: countFlag(values['udp-size'], '--udp-size', 512, 65_535),
      maxTcpConnections: countFlag(values['max-tcp'], '--max-tcp', 1, 1_000_000),
      idleTimeout: secondsFlag(values['idle-timeout'], '--idle-timeout'),
      ...(rate !== undefined ? { rateLimit: { responsesPerSecond: rate } } : {}),
    };
  } catch (e) {
    if (e instanceof FlagError) return fail(e.message, 2);
    throw e;
  }

  let zone;
  try {
    zone = await loadZone(positionals[0]!, values.origin !== undefined ? { origin: values.origin } : {});
  } catch (e) {
    return fail((e as Error).message, 1);
  }
  let attached: TunStack | null = null;
  let stack: ProtocolStack = new KernelStack();
  if (tun) {
    try {
      attached = await openTunStack(tun, 'dns-server');
    } catch (e) {
      return fail(tunFailure(e) ?? (e as Error).message, 1);
    }
    stack = attached.stack;
  }
  const lib = new SocketLibrary(stack, { label: 'dns-server' });
  let server;
  try {
    server = await serveDns(lib, [zone], { ...limits, address, port: Number(portText) });
  } catch (e) {
    await attached?.close();
    return fail((e as Error).message, 1);
  }
  process.stdout.write(`dns-serve: ${zone.origin || '.'} (${zone.size} records) on ${hostPort(address, server.port)} udp+tcp\n`);

  const signal = await new Promise<string>((resolve) => {
    const stop = (name: string) => () => {
      process.off('SIGINT', onInt);
      process.off('SIGTERM', onTerm);
      resolve(name);
    };
    const onInt = stop('SIGINT');
    const onTerm = stop('SIGTERM');
    process.on('SIGINT', onInt);
    process.on('SIGTERM', onTerm);
  });
  await server.close();
  await attached?.close();
  const { queries, responses, errors } = server.stats;
  process.stdout.write(`dns-serve: ${signal}: stopped after ${queries} queries, ${responses} responses, ${errors} socket errors\n`);
  return 0;
}
