/** Small pieces the socket tests share. */
import { SocketLibrary } from '../src/socket/library.js';
import { KernelStack } from '../src/stack/kernel/stack.js';

export const LOOPBACK = '127.0.0.1';

export function kernelLibrary(label = 'test', options: ConstructorParameters<typeof SocketLibrary>[1] = {}): SocketLibrary {
  return new SocketLibrary(new KernelStack(), { label, ...options });
}

/** A listening TCP descriptor on a free loopback port. */
export async function listenLoopback(lib: SocketLibrary, backlog = 128): Promise<{ fd: number; port: number }> {
  const fd = await lib.socket('tcp');
  await lib.bind(fd, LOOPBACK, 0);
  await lib.listen(fd, backlog);
  return { fd, port: (await lib.getsockname(fd)).port };
}

export async function dial(lib: SocketLibrary, port: number, address = LOOPBACK): Promise<number> {
  const fd = await lib.socket('tcp');
  await lib.connect(fd, address, port);
  return fd;
}

/** Reads until the peer closes; everything received. */
export async function readToEnd(lib: SocketLibrary, fd: number, chunk = 16 * 1024): Promise<Buffer> {
  const parts: Buffer[] = [];
  const buf = new Uint8Array(chunk);
  for (;;) {
    const n = await lib.read(fd, buf);
    if (n === 0) return Buffer.concat(parts);
    parts.push(Buffer.from(buf.subarray(0, n)));
  }
}

/** Reads exactly `length` bytes, failing if the stream ends first. */
export async function readExactly(lib: SocketLibrary, fd: number, length: number): Promise<Buffer> {
  const out = Buffer.alloc(length);
  let got = 0;
  while (got < length) {
    const n = await lib.read(fd, out.subarray(got));
    if (n === 0) throw new Error(`stream ended after ${got} of ${length} bytes`);
    got += n;
  }
  return out;
}

/** Serves echo on every accepted connection until the listener closes. */
export function echoLoop(lib: SocketLibrary, listener: number): Promise<void> {
  return (async () => {
    for (;;) {
      let fd: number;
      try {
        fd = await lib.accept(listener);
      } catch {
        return;
      }
      void (async () => {
        const buf = new Uint8Array(16 * 1024);
        try {
          for (;;) {
            const n = await lib.read(fd, buf);
            if (n === 0) break;
            await lib.write(fd, buf, n);
          }
        } catch {
          // the peer went away
        }
        await lib.close(fd).catch(() => {});
      })();
    }
  })();
}

export function bytes(text: string): Uint8Array {
  return new TextEncoder().encode(text);
}

export function text(data: Uint8Array): string {
  return new TextDecoder().decode(data);
}
