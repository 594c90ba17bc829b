/**
 * A network namespace of the test's own, with a TUN interface whose Linux side
 * is 10.77.0.1/24 and protostack's side 10.77.0.2: nothing the tests do
 * reaches the machine's own network. Needs root (or CAP_NET_ADMIN), iproute2
 * and /dev/net/tun; where they are missing the tests skip and say why, except
 * under CI (CI=true), where missing them is a failure.
 */
import { execFile, execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { existsSync } from 'node:fs';
import type { TestContext } from 'node:test';

export const LINUX = '10.77.0.1';
export const PROTOSTACK = '10.77.0.2';
export const TUN = 'pstun0';

let reason: string | null | undefined;

/** Why these tests cannot run here, or null when they can. */
export function netnsUnavailable(): string | null {
  if (reason !== undefined) return reason;
  reason = null;
  if (process.platform !== 'linux') reason = 'TUN devices and network namespaces are Linux only';
  else if (!existsSync('/dev/net/tun')) reason = '/dev/net/tun is missing (modprobe tun)';
  else if (process.getuid?.() !== 0) reason = 'making a network namespace needs root';
  else {
    const probe = `pstest-probe-${process.pid}`;
    try {
      execFileSync('ip', ['netns', 'add', probe], { stdio: 'pipe', timeout: 10_000 });
      execFileSync('ip', ['netns', 'del', probe], { stdio: 'pipe', timeout: 10_000 });
    } catch (e) {
      reason = `ip netns does not work here (${(e as Error).message.split('\n')[0]}): Debian: apt-get install iproute2`;
    }
  }
  return reason;
}

/** Skips the test (or fails it, under CI) when namespaces are unavailable; true when it may run. */
export function needNetns(t: TestContext): boolean {
  const why = netnsUnavailable();
  if (why === null) return true;
  if (process.env['CI']) throw new Error(`CI runs the TUN tests: ${why}`);
  t.skip(why);
  return false;
}

let counter = 0;

export interface Ran {
  code: number;
  stdout: string;
  stderr: string;
}

export class Netns {
  readonly name = `pstest-${process.pid}-${++counter}`;
  private readonly children = new Set<ChildProcess>();

  /** The namespace, its loopback up, and the TUN interface (Linux's side addressed and up). */
  static async create(options: { mtu?: number } = {}): Promise<Netns> {
    const ns = new Netns();
    await run('ip', ['netns', 'add', ns.name]);
    try {
      await ns.ip('link', 'set', 'lo', 'up');
      await ns.ip('tuntap', 'add', TUN, 'mode', 'tun');
      if (options.mtu) await ns.ip('link', 'set', TUN, 'mtu', String(options.mtu));
      await ns.ip('addr', 'add', `${LINUX}/24`, 'dev', TUN);
      await ns.ip('link', 'set', TUN, 'up');
    } catch (e) {
      await ns.destroy();
      throw e;
    }
    return ns;
  }

  /** The prefix that runs a program inside the namespace (also TunDevice's `wrapper`). */
  get wrapper(): string[] {
    return ['ip', 'netns', 'exec', this.name];
  }

  ip(...args: string[]): Promise<Ran> {
    return run('ip', ['-n', this.name, ...args]);
  }

  /** A program run to its end inside the namespace, bounded in time; never throws for a non-zero exit. */
  exec(file: string, args: string[], timeout = 30_000): Promise<Ran> {
    return new Promise((resolve) => {
      execFile('ip', ['netns', 'exec', this.name, file, ...args], { timeout, maxBuffer: 64 << 20, env: { ...process.env, http_proxy: '', HTTP_PROXY: '' } }, (error, stdout, stderr) => {
        const code = error ? (typeof (error as { code?: unknown }).code === 'number' ? (error as { code: number }).code : -1) : 0;
        resolve({ code, stdout, stderr });
      });
    });
  }

  /** A long-running program inside the namespace (a server); ended by destroy() if not before. */
  start(file: string, args: string[], options: { cwd?: string } = {}): ChildProcess & { output: () => string } {
    const child = spawn('ip', ['netns', 'exec', this.name, file, ...args], { stdio: ['ignore', 'pipe', 'pipe'], ...options }) as ChildProcess & { output: () => string };
    let out = '';
    child.stdout!.on('data', (d: Buffer) => (out = (out + d.toString()).slice(-65536)));
    child.stderr!.on('data', (d: Buffer) => (out = (out + d.toString()).slice(-65536)));
    child.output = () => out;
    this.children.add(child);
    child.once('exit', () => this.children.delete(child));
    return child;
  }

  /** Waits until `pattern` shows in the child's output (a server's "listening" line), within `ms`. */
  async waitFor(child: ChildProcess & { output: () => string }, pattern: RegExp, ms = 20_000): Promise<void> {
    const until = Date.now() + ms;
    while (!pattern.test(child.output())) {
      if (child.exitCode !== null) throw new Error(`exited (${child.exitCode}) before ${pattern}: ${child.output()}`);
      if (Date.now() > until) throw new Error(`no ${pattern} within ${ms} ms: ${child.output()}`);
      await new Promise((r) => setTimeout(r, 25));
    }
  }

  /** Waits until something listens on a TCP port inside the namespace. */
  async waitForPort(port: number, ms = 20_000): Promise<void> {
    const until = Date.now() + ms;
    for (;;) {
      const r = await this.exec('ss', ['-Htln', `sport = :${port}`]);
      if (r.stdout.trim() !== '') return;
      if (Date.now() > until) throw new Error(`nothing listens on port ${port} within ${ms} ms`);
      await new Promise((r) => setTimeout(r, 50));
    }
  }

  /** Ends every program it started and removes the namespace (and with it the interface). */
  async destroy(): Promise<void> {
    await Promise.all(
      [...this.children].map(
        (child) =>
          new Promise<void>((resolve) => {
            const kill = setTimeout(() => child.kill('SIGKILL'), 3000);
            child.once('exit', () => {
              clearTimeout(kill);
              resolve();
            });
            child.kill('SIGTERM');
          }),
      ),
    );
    await run('ip', ['netns', 'del', this.name]).catch(() => {});
  }
}

function run(file: string, args: string[]): Promise<Ran> {
  return new Promise((resolve, reject) => {
    execFile(file, args, { timeout: 15_000 }, (error, stdout, stderr) => {
      if (error) reject(new Error(`${file} ${args.join(' ')}: ${stderr.trim() || error.message}`));
      else resolve({ code: 0, stdout, stderr });
    });
  });
}
