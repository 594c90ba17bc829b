/**
 * The HTTP servers that bench/http.ts measures against, each in a process of
 * its own so the load (our client, undici, node:http, or wrk) and the server
 * do not share a thread.
 *
 *   node dist/bench/http-serve-child.js node   # a bare node:http server
 *   node dist/bench/http-serve-child.js ours   # the project's serve() over the kernel stack
 *
 * and two floors, servers that do no HTTP at all (they count "\r\n\r\n" in what
 * arrives and write one fixed 12-byte response per request), to see what the
 * layers under serve() cost (bench/http.ts runs them with BENCH_HTTP_FLOORS=1):
 *
 *   node dist/bench/http-serve-child.js net-floor   # node:net, 'data' events and write()
 *   node dist/bench/http-serve-child.js lib-floor   # the socket library over the kernel stack, read() and write()
 *
 * Both answer on 127.0.0.1, on a port the system picks, and print `port N` on
 * stdout once they listen. Both answer every path but one with the same
 * 12-byte `hello world\n` (Content-Type: text/plain, Content-Length, Date),
 * and `/64k` with 65,536 bytes (Content-Type: application/octet-stream).
 * node:http adds `Connection: keep-alive` and `Keep-Alive: timeout=N`, which
 * a plain node:http server always sends and serve() never does for HTTP/1.1.
 * Optional second argument: the keep-alive timeout in ms (node:http's
 * `server.keepAliveTimeout`, serve()'s `keepAliveTimeout`), so that the
 * client benchmark's connections survive while the other sides take their
 * turn. On SIGUSR2 they print `served N`, the requests answered so far.
 * They run until killed (SIGTERM exits cleanly, so `node --cpu-prof` works).
 */
import http from 'node:http';
import net from 'node:net';
import { serve } from '../src/http/server/index.js';
import { SocketLibrary } from '../src/socket/library.js';
import { KernelStack } from '../src/stack/kernel/stack.js';

const HELLO = 'hello world\n';
const BIG = Buffer.alloc(64 * 1024, 0x61);
let served = 0;

async function viaNode(keepAlive: number | undefined): Promise<number> {
  const server = http.createServer((req, res) => {
    served++;
    if (req.url === '/64k') {
      res.writeHead(200, { 'Content-Type': 'application/octet-stream', 'Content-Length': BIG.length });
      res.end(BIG);
    } else {
      res.writeHead(200, { 'Content-Type': 'text/plain', 'Content-Length': HELLO.length });
      res.end(HELLO);
    }
  });
  if (keepAlive !== undefined) server.keepAliveTimeout = keepAlive;
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return (server.address() as { port: number }).port;
}

async function ours(keepAlive: number | undefined): Promise<number> {
  const server = await serve(
    (req, res) => {
      served++;
      if (req.url === '/64k') {
        res.setHeader('Content-Type', 'application/octet-stream');
        void res.end(BIG);
      } else {
        res.setHeader('Content-Type', 'text/plain');
        void res.end(HELLO);
      }
    },
    { host: '127.0.0.1', port: 0, ...(keepAlive !== undefined ? { keepAliveTimeout: keepAlive } : {}) },
  );
  return server.port;
}

/** The floors' one response: what serve() sends for `/`, with the Date of the start. */
const FIXED = Buffer.from(`HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nDate: ${new Date().toUTCString()}\r\nContent-Length: 12\r\n\r\n${HELLO}`, 'latin1');

/** Requests whose head ends in `bytes[0, n)` ("\r\n\r\n"), for the floors; a head split across reads is not counted (wrk's 40-byte heads never are). */
function heads(bytes: Uint8Array, n: number): number {
  let k = 0;
  for (let i = 3; i < n; i++) if (bytes[i] === 10 && bytes[i - 1] === 13 && bytes[i - 2] === 10 && bytes[i - 3] === 13) k++;
  return k;
}

async function netFloor(): Promise<number> {
  const server = net.createServer((c) => {
    c.setNoDelay(true);
    c.on('error', () => {});
    c.on('data', (d: Buffer) => {
      for (let k = heads(d, d.length); k > 0; k--) {
        served++;
        c.write(FIXED);
      }
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return (server.address() as { port: number }).port;
}

async function libFloor(): Promise<number> {
  const lib = new SocketLibrary(new KernelStack(), { label: 'lib-floor' });
  const lfd = await lib.socket('tcp');
  await lib.setsockopt(lfd, { noDelay: true });
  await lib.bind(lfd, '127.0.0.1', 0);
  await lib.listen(lfd, 511);
  const connection = async (fd: number) => {
    const buf = new Uint8Array(16 * 1024);
    try {
      for (;;) {
        const n = await lib.read(fd, buf, undefined, { timeout: 5000 });
        if (n === 0) break;
        for (let k = heads(buf, n); k > 0; k--) {
          served++;
          await lib.write(fd, FIXED);
        }
      }
    } catch {
      // the peer went away
    }
    await lib.close(fd).catch(() => {});
  };
  void (async () => {
    for (;;) {
      try {
        void connection(await lib.accept(lfd));
      } catch {
        // accept's timeout: keep accepting
      }
    }
  })();
  return (await lib.getsockname(lfd)).port;
}

const MODES: Record<string, (keepAlive: number | undefined) => Promise<number>> = { node: viaNode, ours, 'net-floor': netFloor, 'lib-floor': libFloor };
const which = process.argv[2] ?? '';
const keepAlive = process.argv[3] !== undefined ? Number(process.argv[3]) : undefined;
if (!MODES[which]) {
  process.stderr.write(`usage: node dist/bench/http-serve-child.js ${Object.keys(MODES).join('|')} [keepAliveTimeoutMs]\n`);
  process.exit(2);
}
const port = await MODES[which]!(keepAlive);
// Exit through process.exit so that `node --cpu-prof` writes its profile when the benchmark kills the child.
process.on('SIGTERM', () => process.exit(0));
process.on('SIGUSR2', () => process.stdout.write(`served ${served}\n`));
process.stdout.write(`port ${port}\n`);
