/** A bulk transfer between two user-space hosts, checked by SHA-256; shared by tests and the benchmark. */
import { createHash } from 'node:crypto';
import type { LinkParams } from '../../../src/link/types.js';
import type { TcpConfig } from '../../../src/stack/user/tcp/config.js';
import { sim, type Sim } from './sim.js';

export interface BulkResult {
  sent: string;
  received: string;
  bytes: number;
  virtualMs: number;
  retransmits: number;
  counters: Record<string, number>;
  /** The receiving host's counters. */
  peerCounters: Record<string, number>;
}

export interface BulkOptions {
  seed?: number;
  tcp?: Partial<TcpConfig>;
  bufferSize?: number;
  /** Called once the client is connected (host 1 sends to host 2 on port 5001); returns a function that stops what it started. */
  during?: (s: Sim) => () => void;
}

export async function bulk(bytes: number, params: Partial<LinkParams>, options: BulkOptions = {}): Promise<BulkResult> {
  const s = sim(2, params, options);
  const [a, b] = s.hosts as [(typeof s.hosts)[0], (typeof s.hosts)[0]];
  const bufferSize = options.bufferSize ?? 256 * 1024;
  return s.run(async () => {
    const ls = await b.lib.socket('tcp');
    await b.lib.bind(ls, '0.0.0.0', 5001);
    await b.lib.listen(ls, 1);
    await b.lib.setsockopt(ls, { recvBufferSize: bufferSize, sendBufferSize: bufferSize });
    const receiving = (async () => {
      const fd = await b.lib.accept(ls);
      const hash = createHash('sha256');
      const buf = new Uint8Array(65536);
      let total = 0;
      for (;;) {
        const n = await b.lib.read(fd, buf);
        if (n === 0) break;
        hash.update(buf.subarray(0, n));
        total += n;
      }
      await b.lib.close(fd);
      return { digest: hash.digest('hex'), total };
    })();
    const c = await a.lib.socket('tcp');
    await a.lib.setsockopt(c, { recvBufferSize: bufferSize, sendBufferSize: bufferSize });
    await a.lib.connect(c, b.address, 5001);
    const stop = options.during?.(s);
    const hash = createHash('sha256');
    const chunk = new Uint8Array(64 * 1024);
    let x = options.seed ?? 7;
    for (let sent = 0; sent < bytes; sent += chunk.length) {
      for (let i = 0; i < chunk.length; i += 4) {
        x ^= x << 13;
        x ^= x >>> 17;
        x ^= x << 5;
        chunk[i] = x & 0xff;
        chunk[i + 1] = (x >>> 8) & 0xff;
        chunk[i + 2] = (x >>> 16) & 0xff;
        chunk[i + 3] = (x >>> 24) & 0xff;
      }
      const piece = chunk.subarray(0, Math.min(chunk.length, bytes - sent));
      hash.update(piece);
      await a.lib.write(c, piece);
    }
    const start = s.net.clock.now();
    await a.lib.shutdown(c, 'write');
    const got = await receiving;
    stop?.();
    await a.lib.close(c);
    void start;
    return {
      sent: hash.digest('hex'),
      received: got.digest,
      bytes: got.total,
      virtualMs: s.net.clock.now(),
      retransmits: a.stack.counters.get('tcp.retransmit'),
      counters: a.stack.counters.snapshot(),
      peerCounters: b.stack.counters.snapshot(),
    };
  }, 24 * 3600 * 1000);
}
