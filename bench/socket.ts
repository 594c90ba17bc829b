/**
 * The socket library over the kernel stack beside raw node:net, on loopback,
 * in the same process: bulk throughput (64 KiB writes, 64 KiB reads) and
 * small-message round trips (64-byte ping-pong with TCP_NODELAY).
 *
 * Environment knobs: BENCH_ROUNDS (default 7), BENCH_BULK_MIB (default 512),
 * BENCH_ROUND_TRIPS (default 20000).
 */
import { once } from 'node:events';
import net from 'node:net';
import { KernelStack, SocketLibrary } from '../src/index.js';
import { alternate, median, row, type Row } from './common.js';

const HOST = '127.0.0.1';
const CHUNK = 64 * 1024;
const MESSAGE = 64;
const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 7);
const BULK_BYTES = Number(process.env.BENCH_BULK_MIB ?? 512) * 1024 * 1024;
const ROUND_TRIPS = Number(process.env.BENCH_ROUND_TRIPS ?? 20_000);

type LibraryPair = Awaited<ReturnType<typeof libraryPair>>;
type NetPair = Awaited<ReturnType<typeof netPair>>;

/** A connected pair of descriptors (client, accepted server side) and the listener, over one kernel stack. */
async function libraryPair(noDelay: boolean) {
  const stack = new KernelStack();
  const server = new SocketLibrary(stack, { label: 'server', defaults: { noDelay } });
  const client = new SocketLibrary(stack, { label: 'client', defaults: { noDelay } });
  const lfd = await server.socket('tcp');
  await server.bind(lfd, HOST, 0);
  await server.listen(lfd);
  const { port } = await server.getsockname(lfd);
  const cfd = await client.socket('tcp');
  const accepted = server.accept(lfd);
  await client.connect(cfd, HOST, port);
  const sfd = await accepted;
  const close = async () => {
    await client.closeAll();
    await server.closeAll();
  };
  return { server, client, sfd, cfd, close };
}

/** A connected pair of node:net sockets (client, server side) and the server. */
async function netPair(noDelay: boolean) {
  const server = net.createServer();
  server.listen(0, HOST);
  await once(server, 'listening');
  const { port } = server.address() as net.AddressInfo;
  const arriving = once(server, 'connection') as Promise<[net.Socket]>;
  const client = net.connect(port, HOST);
  await once(client, 'connect');
  const [peer] = await arriving;
  client.setNoDelay(noDelay);
  peer.setNoDelay(noDelay);
  const close = async () => {
    client.destroy();
    peer.destroy();
    server.close();
    await once(server, 'close');
  };
  return { client, peer, close };
}

/** Bulk, library: the client writes 64 KiB chunks, the server reads into a 64 KiB buffer. Gbit/s. */
async function libraryBulk(): Promise<number> {
  const p = await libraryPair(false);
  const chunk = Buffer.alloc(CHUNK, 0x5a);
  const into = Buffer.allocUnsafe(CHUNK);
  const t0 = performance.now();
  const sending = (async () => {
    for (let sent = 0; sent < BULK_BYTES; sent += CHUNK) await p.client.write(p.cfd, chunk);
  })();
  let got = 0;
  while (got < BULK_BYTES) {
    const n = await p.server.read(p.sfd, into);
    if (n === 0) throw new Error('early end of stream');
    got += n;
  }
  const seconds = (performance.now() - t0) / 1000;
  await sending;
  await p.close();
  return (got * 8) / seconds / 1e9;
}

/** Bulk, raw node:net as a plain user writes it: write() until it says false, then wait for 'drain'; count bytes in 'data'. Gbit/s. */
async function netBulk(): Promise<number> {
  const p = await netPair(false);
  const chunk = Buffer.alloc(CHUNK, 0x5a);
  let got = 0;
  const t0 = performance.now();
  const done = new Promise<number>((resolve) => {
    p.peer.on('data', (c: Buffer) => {
      got += c.length;
      if (got >= BULK_BYTES) resolve(performance.now());
    });
  });
  let sent = 0;
  const pump = () => {
    while (sent < BULK_BYTES) {
      sent += CHUNK;
      if (!p.client.write(chunk)) return void p.client.once('drain', pump);
    }
  };
  pump();
  const seconds = ((await done) - t0) / 1000;
  await p.close();
  return (got * 8) / seconds / 1e9;
}

/** The library's echo server: reads a whole message, writes it back, until the end of the stream. */
async function libraryEcho(p: LibraryPair): Promise<void> {
  const buf = Buffer.alloc(MESSAGE);
  for (;;) {
    let got = 0;
    while (got < MESSAGE) {
      const n = await p.server.read(p.sfd, got === 0 ? buf : buf.subarray(got));
      if (n === 0) return;
      got += n;
    }
    await p.server.write(p.sfd, buf);
  }
}

/** Ping-pong, library: client writes 64 bytes, server reads them all and echoes, client reads them all. Round trips/s. */
async function libraryPingPong(p: LibraryPair): Promise<number> {
  const msg = Buffer.alloc(MESSAGE, 0x5a);
  const buf = Buffer.alloc(MESSAGE);
  const t0 = performance.now();
  for (let i = 0; i < ROUND_TRIPS; i++) {
    await p.client.write(p.cfd, msg);
    let got = 0;
    while (got < MESSAGE) {
      const n = await p.client.read(p.cfd, got === 0 ? buf : buf.subarray(got));
      if (n === 0) throw new Error('early end of stream');
      got += n;
    }
  }
  return ROUND_TRIPS / ((performance.now() - t0) / 1000);
}

/** Ping-pong, raw node:net: the server writes back what arrives, the client sends the next message once 64 bytes are back. Round trips/s. */
async function netPingPong(p: NetPair): Promise<number> {
  const msg = Buffer.alloc(MESSAGE, 0x5a);
  let onData = (_: Buffer) => {};
  const t0 = performance.now();
  await new Promise<void>((resolve) => {
    let pending = 0;
    let done = 0;
    onData = (c: Buffer) => {
      pending += c.length;
      while (pending >= MESSAGE) {
        pending -= MESSAGE;
        if (++done === ROUND_TRIPS) return resolve();
        p.client.write(msg);
      }
    };
    p.client.on('data', onData);
    p.client.write(msg);
  });
  const seconds = (performance.now() - t0) / 1000;
  p.client.off('data', onData);
  return ROUND_TRIPS / seconds;
}

function show(what: string, runs: { ours: number[]; anchor: number[] }): void {
  const list = (xs: number[]) => xs.map((x) => (x < 100 ? x.toFixed(2) : Math.round(x))).join(' ');
  console.log(`  ${what}: ours ${list(runs.ours)} | anchor ${list(runs.anchor)}`);
}

/**
 * Bulk opens a fresh connection every round, so one connection's luck (buffer
 * autotuning, scheduling) is not repeated in every round. Ping-pong keeps one
 * warm connection per side for all its rounds: with a new connection per
 * round, the collection of the previous round's sockets throws away optimized
 * code and each round would measure a re-warming library.
 */
export async function run(): Promise<Row[]> {
  const bulk = await alternate(ROUNDS, libraryBulk, netBulk);
  show('bulk Gbit/s', bulk);

  const pingLib = await libraryPair(true);
  const pingNet = await netPair(true);
  pingNet.peer.on('data', (c: Buffer) => pingNet.peer.write(c));
  const echo = libraryEcho(pingLib);
  const ping = await alternate(ROUNDS, () => libraryPingPong(pingLib), () => netPingPong(pingNet));
  await pingLib.client.shutdown(pingLib.cfd, 'write');
  await echo;
  await pingLib.close();
  await pingNet.close();
  show('ping-pong round trips/s', ping);

  const oursRate = median(ping.ours);
  const anchorRate = median(ping.anchor);
  return [
    row(`bulk ${BULK_BYTES / 2 ** 20} MiB, 64 KiB writes/reads`, median(bulk.ours), median(bulk.anchor), 'Gbit/s'),
    row(`ping-pong ${MESSAGE} B x ${ROUND_TRIPS}, nodelay`, oursRate, anchorRate, 'round trips/s'),
    row(`ping-pong ${MESSAGE} B mean round trip`, 1e6 / oursRate, 1e6 / anchorRate, 'µs', true),
  ];
}
