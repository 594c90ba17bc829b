/**
 * A Device over a Linux TUN interface, under Node. Node cannot make the
 * TUNSETIFF ioctl, so a small helper process (native/tun-helper.c) attaches
 * to the interface and relays packets over its stdin/stdout pipes as frames
 * (tun.ts). Pipes are read by libuv, so a packet never blocks the event loop.
 *
 * The interface is the administrator's (`ip tuntap add NAME mode tun user
 * USER`): the helper attaches only to one that exists, so protostack itself
 * needs no privilege. IPv4 packets go to the stack; IPv6 ones (Linux sends
 * router solicitations the moment the link is up) are counted and dropped.
 * close() ends the helper; if Node dies first, the kernel ends it (PDEATHSIG).
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync } from 'node:fs';
import { userInfo } from 'node:os';
import type { Device } from './types.js';
import { FrameReader, MAX_FRAME, TunError, tunRecipe, validInterfaceName, writeFrame } from './tun.js';
import { tunHelper } from './tun-helper-node.js';

export interface TunOptions {
  /** Largest IPv4 packet sent; should match the interface's (`ip link set NAME mtu N`). Default 1500. */
  mtu?: number;
  /** How long attaching may take, ms (the helper may be compiled first). Default 60 000. */
  timeoutMs?: number;
  /**
   * A command the helper runs under, which must exec it in the end: `['ip', 'netns', 'exec', 'ns1']`
   * attaches to an interface in another network namespace, `['sudo', '-n']` with other rights.
   */
  wrapper?: string[];
}

export interface TunStats {
  packetsIn: number;
  bytesIn: number;
  packetsOut: number;
  bytesOut: number;
  /** IPv6 packets from the kernel, dropped until protostack has IPv6. */
  ipv6Dropped: number;
  /** Neither IPv4 nor IPv6, or shorter than a header. */
  malformedDropped: number;
  /** Sent while the pipe to the helper held more than its bound (the stack retransmits, as after a full NIC ring). */
  queueDropped: number;
  /** Larger than the MTU. */
  tooBigDropped: number;
}

/** Bytes that may wait in the pipe towards the helper before packets are dropped. */
const PIPE_BOUND = 4 * 1024 * 1024;
/** Bytes gathered from one turn of the event loop into one pipe write. */
const BATCH_BYTES = 256 * 1024;

export class TunDevice implements Device {
  receive: ((packet: Uint8Array) => void) | null = null;
  readonly stats: TunStats = { packetsIn: 0, bytesIn: 0, packetsOut: 0, bytesOut: 0, ipv6Dropped: 0, malformedDropped: 0, queueDropped: 0, tooBigDropped: 0 };
  /** Called once if the helper ends while the device is open (the interface was deleted, say). */
  onError: ((error: TunError) => void) | null = null;
  private batch: Uint8Array = new Uint8Array(BATCH_BYTES);
  private batchAt = 0;
  private flushQueued = false;
  private closing = false;
  private readonly exited: Promise<void>;

  /** The helper's process id (the wrapper's, until it execs the helper). */
  get pid(): number | undefined {
    return this.child.pid;
  }

  private constructor(
    readonly name: string,
    readonly mtu: number,
    private readonly child: ChildProcess,
  ) {
    this.exited = new Promise((resolve) => child.once('exit', () => resolve()));
  }

  /** Attaches to the existing TUN interface `name`. Rejects with a TunError that names the fix. */
  static async open(name: string, options: TunOptions = {}): Promise<TunDevice> {
    const mtu = options.mtu ?? 1500;
    if (!validInterfaceName(name)) throw new TunError('ERR_TUN_ARGUMENT', `'${name}' is not an interface name Linux accepts (1-15 bytes, no '/', ':' or spaces)`);
    if (!Number.isInteger(mtu) || mtu < 68 || mtu > MAX_FRAME) throw new TunError('ERR_TUN_ARGUMENT', `MTU ${mtu} is not between 68 and ${MAX_FRAME}`);
    if (process.platform !== 'linux') throw new TunError('ERR_TUN_UNSUPPORTED', `TUN devices need Linux (this is ${process.platform})`);
    if (!existsSync('/dev/net/tun')) throw missingDevice();
    const helper = await tunHelper();
    const [command, ...args] = [...(options.wrapper ?? []), helper, name];
    const child = spawn(command!, args, { stdio: ['pipe', 'pipe', 'pipe'] });
    const device = new TunDevice(name, mtu, child);
    await device.attach(options.timeoutMs ?? 60_000);
    return device;
  }

  send(packet: Uint8Array): void {
    if (this.closing) return;
    if (packet.length > this.mtu) {
      this.stats.tooBigDropped++;
      return;
    }
    const stdin = this.child.stdin!;
    if (stdin.writableLength + this.batchAt > PIPE_BOUND) {
      this.stats.queueDropped++;
      return;
    }
    if (this.batchAt + 2 + packet.length > this.batch.length) this.flush();
    this.batchAt = writeFrame(this.batch, this.batchAt, packet);
    this.stats.packetsOut++;
    this.stats.bytesOut += packet.length;
    // Everything the stack sends in one turn goes down the pipe in one write.
    if (!this.flushQueued) {
      this.flushQueued = true;
      queueMicrotask(() => this.flush());
    }
  }

  /** Detaches: the helper ends and the interface stays, for the next run. */
  async close(): Promise<void> {
    if (!this.closing) {
      this.flush();
      this.closing = true;
      this.receive = null;
      this.child.stdin!.end();
      const killer = setTimeout(() => this.child.kill('SIGKILL'), 1000);
      await this.exited;
      clearTimeout(killer);
    }
    await this.exited;
  }

  private flush(): void {
    this.flushQueued = false;
    if (this.batchAt === 0 || this.closing) return;
    this.child.stdin!.write(this.batch.subarray(0, this.batchAt));
    // The pipe owns the bytes it was handed until written: gather the next batch elsewhere.
    this.batch = new Uint8Array(BATCH_BYTES);
    this.batchAt = 0;
  }

  private attach(timeoutMs: number): Promise<void> {
    const { child } = this;
    let stderr = '';
    child.stderr!.setEncoding('utf8');
    child.stderr!.on('data', (text: string) => {
      if (stderr.length < 4096) stderr += text;
    });
    child.stdin!.on('error', () => {}); // the helper's end: reported by 'exit'
    return new Promise((resolve, reject) => {
      let attached = false;
      const timer = setTimeout(() => {
        child.kill('SIGKILL');
        reject(new TunError('ERR_TUN_HELPER', `the TUN helper did not attach to ${this.name} within ${timeoutMs} ms`));
      }, timeoutMs);
      const reader = new FrameReader((frame) => {
        if (!attached) {
          attached = true;
          clearTimeout(timer);
          resolve();
          return;
        }
        this.deliver(frame);
      });
      // Plain Uint8Array views: a Buffer's slice() does not copy, and the stack copies with slice().
      child.stdout!.on('data', (chunk: Buffer) => reader.push(new Uint8Array(chunk.buffer, chunk.byteOffset, chunk.length)));
      child.once('error', (e) => {
        clearTimeout(timer);
        reject(new TunError('ERR_TUN_HELPER', `cannot start the TUN helper: ${e.message}`, { cause: e }));
      });
      child.once('exit', (code, signal) => {
        clearTimeout(timer);
        const error = helperFailure(this.name, stderr, code, signal);
        if (!attached) reject(error);
        else if (!this.closing) {
          this.closing = true;
          this.onError?.(error);
        }
      });
    });
  }

  private deliver(packet: Uint8Array): void {
    const version = packet.length > 0 ? packet[0]! >> 4 : 0;
    if (version === 6) {
      this.stats.ipv6Dropped++;
      return;
    }
    if (version !== 4 || packet.length < 20) {
      this.stats.malformedDropped++;
      return;
    }
    this.stats.packetsIn++;
    this.stats.bytesIn += packet.length;
    this.receive?.(packet);
  }
}

function user(): string {
  try {
    return userInfo().username;
  } catch {
    return '$USER';
  }
}

function missingDevice(): TunError {
  return new TunError('ERR_TUN_NO_DEVICE', '/dev/net/tun is missing: load the tun module (modprobe tun), or give the container the device (docker run --device /dev/net/tun)');
}

/** The helper's one line on stderr ("tun-helper: STEP ERRNO message") as the error that names the fix. */
function helperFailure(name: string, stderr: string, code: number | null, signal: NodeJS.Signals | null): TunError {
  const m = /tun-helper: (\w+) (\w+) (.*)/.exec(stderr);
  const recipe = tunRecipe(name, user());
  if (!m) {
    const how = signal ? `was killed by ${signal}` : `exited with status ${code}`;
    return new TunError('ERR_TUN_HELPER', `the TUN helper for ${name} ${how}${stderr ? `: ${stderr.trim()}` : ''}`);
  }
  const [, step, errno, text] = m;
  if (step === 'interface') return new TunError('ERR_TUN_NO_INTERFACE', `no interface ${name}: create it first: ${recipe}`);
  if (step === 'open' && (errno === 'ENOENT' || errno === 'ENODEV' || errno === 'ENXIO')) return missingDevice();
  if (errno === 'EPERM' || errno === 'EACCES') {
    return new TunError('ERR_TUN_PERMISSION', `${step === 'open' ? '/dev/net/tun' : name}: ${text}: the interface must be made for this user: ip tuntap del ${name} mode tun; ${recipe}`);
  }
  if (step === 'attach' && errno === 'EBUSY') return new TunError('ERR_TUN_BUSY', `${name} is in use by another process: stop it, or make another interface (${recipe.replaceAll(name, `${name}b`)})`);
  if (step === 'attach' && errno === 'EINVAL') return new TunError('ERR_TUN_NOT_TUN', `${name} is not a TUN interface (a TAP, or another kind): ip link del ${name}; ${recipe}`);
  return new TunError('ERR_TUN_HELPER', `the TUN helper could not ${step} ${name}: ${errno} ${text}`);
}
