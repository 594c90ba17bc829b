/**
 * Opening a connection to a host: resolve it with the project's resolver,
 * then race the addresses per Happy Eyeballs (RFC 8305): families
 * interleaved, a new attempt every 250 ms or as soon as one fails, the
 * first to connect wins and the others are closed.
 */
import type { Address, Resolver } from '../dns/resolver.js';
import type { SocketLibrary } from '../socket/library.js';
import { ipFamily } from '../wire/ip-address.js';
import { HttpError } from '../wire/http/errors.js';

export interface DialOptions {
  timeout: number;
  signal?: AbortSignal;
  /** RFC 8305 §5's Connection Attempt Delay. */
  attemptDelay?: number;
  noDelay?: boolean;
}

export interface Dialed {
  fd: number;
  address: string;
  lookup: number;
  connect: number;
}

const ATTEMPT_DELAY = 250;

/** RFC 8305 §4: alternate families, starting with the family of the first (best) address. */
export function interleave(addresses: Address[]): Address[] {
  if (addresses.length < 2) return addresses;
  const first = addresses[0]!.family;
  const a = addresses.filter((x) => x.family === first);
  const b = addresses.filter((x) => x.family !== first);
  const out: Address[] = [];
  for (let i = 0; i < Math.max(a.length, b.length); i++) {
    if (i < a.length) out.push(a[i]!);
    if (i < b.length) out.push(b[i]!);
  }
  return out;
}

export async function dial(lib: SocketLibrary, resolver: Resolver, host: string, port: number, options: DialOptions): Promise<Dialed> {
  const t0 = lib.stack.now();
  const bare = host.startsWith('[') && host.endsWith(']') ? host.slice(1, -1) : host;
  const literal = ipFamily(bare);
  let addresses: Address[];
  try {
    addresses = literal ? [{ address: bare, family: literal }] : await resolver.getaddrinfo(bare, options.signal ? { signal: options.signal } : {});
  } catch (e) {
    throw new HttpError('ERR_HTTP_SOCKET', `cannot resolve ${bare}: ${(e as Error).message}`, { cause: e });
  }
  const t1 = lib.stack.now();
  const fd = await race(lib, interleave(addresses), port, options);
  return { fd: fd.fd, address: fd.address, lookup: t1 - t0, connect: lib.stack.now() - t1 };
}

function race(lib: SocketLibrary, addresses: Address[], port: number, options: DialOptions): Promise<{ fd: number; address: string }> {
  const delay = options.attemptDelay ?? ATTEMPT_DELAY;
  return new Promise((resolve, reject) => {
    const pending = new Set<number>();
    const errors: Error[] = [];
    let next = 0;
    let won = false;
    // Timers come from the stack, so a simulated network races on its own clock.
    const stack = lib.stack;
    let timer: unknown = null;
    const abort = new AbortController();
    const deadline = stack.setTimer(options.timeout, () => finish(new HttpError('ERR_HTTP_CONNECT_TIMEOUT', `no connection to port ${port} within ${options.timeout} ms`)));
    const onAbort = () => finish(new HttpError('ERR_HTTP_ABORTED', 'the request was aborted while connecting', { cause: options.signal?.reason }));
    options.signal?.addEventListener('abort', onAbort, { once: true });

    function finish(error: Error | null, winner?: { fd: number; address: string }): void {
      if (won) return;
      won = true;
      stack.clearTimer(deadline);
      if (timer) stack.clearTimer(timer);
      options.signal?.removeEventListener('abort', onAbort);
      abort.abort();
      for (const fd of pending) if (fd !== winner?.fd) void lib.close(fd).catch(() => {});
      if (winner) resolve(winner);
      else reject(error);
    }

    function attempt(): void {
      if (won || next >= addresses.length) return;
      const { address } = addresses[next++]!;
      if (timer) stack.clearTimer(timer);
      timer = stack.setTimer(delay, attempt);
      void (async () => {
        let fd = -1;
        try {
          fd = await lib.socket('tcp');
          pending.add(fd);
          if (options.noDelay !== false) await lib.setsockopt(fd, { noDelay: true });
          await lib.connect(fd, address, port, { timeout: options.timeout, signal: abort.signal });
          pending.delete(fd);
          if (won) return void lib.close(fd).catch(() => {});
          finish(null, { fd, address });
        } catch (e) {
          if (fd >= 0) {
            pending.delete(fd);
            void lib.close(fd).catch(() => {});
          }
          errors.push(e as Error);
          if (won) return;
          // A failure starts the next attempt at once (RFC 8305 §5).
          if (next < addresses.length) attempt();
          else if (errors.length === addresses.length) {
            const last = errors[errors.length - 1]!;
            finish(new HttpError('ERR_HTTP_SOCKET', `cannot connect: ${last.message}`, { cause: last }));
          }
        }
      })();
    }
    if (addresses.length === 0) finish(new HttpError('ERR_HTTP_SOCKET', 'the name has no addresses'));
    else attempt();
  });
}
