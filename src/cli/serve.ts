/**
 * `protostack serve [DIR] [--port N] [--host H] [--workers N|auto] [--quiet]`:
 * the files under DIR over HTTP/1.1, on the socket library over the kernel
 * stack, one access-log line per request (written in batches; none with
 * --quiet), until SIGINT or SIGTERM (then a graceful close). With --workers
 * above 1 this process is the cluster primary (serve-workers.ts) and each
 * worker runs this same command.
 */
import { stat } from 'node:fs/promises';
import path from 'node:path';
import { AccessLog } from './access-log.js';
import { parseArgs, parseCommand, usageError } from './args.js';
import { countFlag, FlagError, secondsFlag } from './limits.js';
import { isServeWorker, runPrimary, workerCount } from './serve-workers.js';
import { serve, type ServeOptions, type ServerRequest, type ServerResponse } from '../http/server/index.js';
import { staticFiles } from '../http/static.js';
import { SocketLibrary } from '../socket/library.js';
import { KernelStack } from '../stack/kernel/stack.js';
import type { ProtocolStack } from '../stack/types.js';
import { openTunStack, TUN_OPTIONS, TUN_USAGE, tunFailure, tunFlags, type TunFlags, type TunStack } from './tun.js';
import { ipFamily } from '../wire/ip-address.js';

const USAGE = `Usage: protostack serve [DIR] [--port N] [--host H] [--no-listing] [--workers N|auto] [--quiet] [limits] [--tun NAME --address A/LEN]

Serves the files under DIR (default: the current directory) over HTTP/1.1.
  --port N, -p N   default 8080; 0 picks a free port
  --host H         the address to listen on, default 127.0.0.1
  --no-listing     a directory without index.html is 404, not a listing of its files
  --workers N      N processes (node:cluster) answering on the same port, default 1;
                   auto = one per core. A worker that dies is started again.
  --quiet, -q      no access log
GET and HEAD, index.html for directories (or a listing of the directory when it has
none), ETag/Last-Modified with 304s, single byte ranges. Small files are kept in
memory and checked against the disk (realpath + stat) at every request. Logs one
line per request (in batches of up to 0.1 s); stops on Ctrl-C or SIGTERM.
Limits (times in seconds, decimals allowed):
  --max-connections N        connections open at once, default 4096; at the cap the
                             longest idle one (else the slowest head) makes room
  --first-byte-timeout SECS  a new connection's wait for its first byte, default 10
  --headers-timeout SECS     a request head, from its first byte, default 60
  --request-timeout SECS     a whole request, body included, default 300
  --keep-alive-timeout SECS  an idle kept-alive connection, default 5
${TUN_USAGE}With --tun, --host defaults to the --address.
`;

export async function serveCommand(args: string[]): Promise<number> {
  const fail = (message: string, code: number) => {
    if (code === 2) return usageError('serve', message);
    process.stderr.write(`protostack serve: ${message}\n`);
    return code;
  };
  const parsed = parseCommand('serve', USAGE, () =>
    parseArgs({
      args,
      allowPositionals: true,
      strict: true,
      options: {
        help: { type: 'boolean', short: 'h' },
        port: { type: 'string', short: 'p' },
        host: { type: 'string' },
        'max-connections': { type: 'string' },
        'first-byte-timeout': { type: 'string' },
        'headers-timeout': { type: 'string' },
        'request-timeout': { type: 'string' },
        'keep-alive-timeout': { type: 'string' },
        'no-listing': { type: 'boolean' },
        workers: { type: 'string', short: 'w' },
        quiet: { type: 'boolean', short: 'q' },
        ...TUN_OPTIONS,
      },
    }),
  );
  if (typeof parsed === 'number') return parsed;
  const { values, positionals } = parsed;
  if (positionals.length > 1) return fail('one directory only', 2);
  const dir = positionals[0] ?? '.';
  const portText = values.port ?? '8080';
  if (!/^\d{1,5}$/.test(portText) || Number(portText) > 65_535) return fail(`--port must be 0-65535, not '${portText}'`, 2);
  let tun: TunFlags | null;
  try {
    tun = tunFlags(values);
  } catch (e) {
    if (e instanceof FlagError) return fail(e.message, 2);
    throw e;
  }
  if (!tun && values.pcap !== undefined) return fail('--pcap needs --tun', 2);
  const host = values.host ?? tun?.address ?? '127.0.0.1';
  if (ipFamily(host) === 0) return fail(`--host must be an IP address, not '${host}'`, 2);
  const workers = workerCount(values.workers);
  if (workers === null) return fail(`--workers must be a whole number from 1 to 256 or 'auto', not '${values.workers}'`, 2);
  if (tun && workers > 1) return fail('--workers runs on the kernel stack: leave it out with --tun (one user stack owns the interface)', 2);
  const worker = isServeWorker();
  let limits: ServeOptions;
  try {
    limits = {
      maxConnections: countFlag(values['max-connections'], '--max-connections', 1, 1_000_000),
      firstByteTimeout: secondsFlag(values['first-byte-timeout'], '--first-byte-timeout'),
      headersTimeout: secondsFlag(values['headers-timeout'], '--headers-timeout'),
      requestTimeout: secondsFlag(values['request-timeout'], '--request-timeout'),
      keepAliveTimeout: secondsFlag(values['keep-alive-timeout'], '--keep-alive-timeout'),
    };
  } catch (e) {
    if (e instanceof FlagError) return fail(e.message, 2);
    throw e;
  }
  try {
    if (!(await stat(dir)).isDirectory()) return fail(`${dir} is not a directory`, 1);
  } catch (e) {
    return fail(`${dir}: ${(e as NodeJS.ErrnoException).code ?? (e as Error).message}`, 1);
  }

  if (workers > 1 && !worker) return runPrimary(workers, dir);

  const files = staticFiles(path.resolve(dir), { listing: !values['no-listing'] });
  const log = values.quiet ? null : new AccessLog(process.stdout);
  // In a worker each line names the process that answered.
  const who = worker ? `[${process.pid}] ` : '';
  const handler = !log
    ? files
    : async (req: ServerRequest, res: ServerResponse) => {
        const t0 = performance.now();
        let failed = false;
        try {
          await files(req, res);
        } catch (e) {
          failed = true;
          throw e;
        } finally {
          const ms = performance.now() - t0;
          const status = failed && !res.headersSent ? 500 : res.status;
          log.line(`${who}${req.remoteAddress} ${req.method} ${req.url} ${status} ${res.bytesWritten} B ${ms.toFixed(1)} ms`);
        }
      };
  let attached: TunStack | null = null;
  let stack: ProtocolStack = new KernelStack({ clusterShared: worker });
  if (tun) {
    try {
      attached = await openTunStack(tun, 'http-server');
    } catch (e) {
      return fail(tunFailure(e) ?? (e as Error).message, 1);
    }
    stack = attached.stack;
  }
  const lib = new SocketLibrary(stack, { label: 'http-server' });
  let server;
  try {
    server = await serve(handler, { ...limits, host, port: Number(portText), lib });
  } catch (e) {
    await attached?.close();
    return fail((e as Error).message, 1);
  }
  if (!worker) process.stdout.write(`serving ${dir} on ${server.url}${tun ? ` (protostack's TCP/IP on ${tun.name})` : ''}\n`);

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
  await server.close({ graceful: true, timeout: 5_000 });
  log?.flush();
  await attached?.close();
  const { requests, responses, parseErrors } = server.stats;
  process.stdout.write(`${who}serve: ${signal}: stopped after ${requests} requests, ${responses} responses, ${parseErrors} malformed\n`);
  // A worker's channel to the primary would keep it alive.
  if (worker) process.disconnect?.();
  return 0;
}
