/**
 * A script's system calls, made through the socket library. Descriptors are
 * the script's numbers mapped to the library's (a script's `socket(...) = 4`
 * names the socket 4 from then on, whatever the library returned). Options
 * are translated with Linux's meaning (SO_SNDBUF doubles the value, as the
 * kernel does); what the library or the stack cannot do is a Skip naming it.
 *
 * O_NONBLOCK: the library's calls are promises, so a non-blocking call is one
 * that must finish before any virtual time passes. connect() then answers
 * EINPROGRESS and the handshake carries on; read() and accept() are
 * withdrawn (their wait aborted, which has no other effect) and answer EAGAIN.
 */
import type { SocketLibrary } from '../socket/library.js';
import { SocketError } from '../socket/errors.js';
import type { SocketOptions } from '../socket/options.js';
import type { Tcb } from '../stack/user/tcp/tcb.js';
import type { Expr, SyscallSpec } from './ast.js';

/** A feature the script needs that the library or the stack lacks: the script is skipped, naming it. */
export class Skip extends Error {
  override readonly name = 'Skip';
}

export type Outcome = { value: number; errno?: undefined; mismatch?: string } | { value: -1; errno: string; mismatch?: undefined };

export interface SyscallHost {
  lib: SocketLibrary;
  /** Where connect() goes and what bind() takes: packetdrill's remote address and port, and its local port. */
  remoteAddress: string;
  remotePort: number;
  localPort: number;
  /** The connection under test (for TCP_MAXSEG once connected). */
  tcb(): Tcb | null;
  /** Lets promise callbacks run without moving virtual time. */
  flush(): Promise<void>;
}

const O_RDWR = 0x2;
const O_NONBLOCK = 0x800;
/** Linux's net.core.wmem_max and rmem_max defaults: SO_SNDBUF and SO_RCVBUF are capped there, then doubled. */
const WMEM_MAX = 212_992;
const RMEM_MAX = 212_992;
const NEVER = 2 ** 31 - 1;
const SETTABLE = new Set(['SO_REUSEADDR', 'SO_SNDBUF', 'SO_RCVBUF', 'SO_KEEPALIVE', 'TCP_NODELAY', 'TCP_KEEPIDLE', 'TCP_MAXSEG', 'TCP_USER_TIMEOUT']);

export class Syscalls {
  /** Script descriptor → library descriptor. */
  private readonly fds = new Map<number, number>();
  private readonly nonBlocking = new Set<number>();

  constructor(private readonly host: SyscallHost) {}

  /** Options every socket the script opens starts with: blocking calls wait as long as POSIX ones do. */
  static socketDefaults(recvBufferSize: number, sendBufferSize: number): Partial<SocketOptions> {
    return { connectTimeout: NEVER, readTimeout: NEVER, writeTimeout: NEVER, acceptTimeout: NEVER, recvBufferSize, sendBufferSize };
  }

  /** Runs one call. Resolves with its result or errno; rejects with Skip for what cannot be run. */
  async run(call: SyscallSpec): Promise<Outcome> {
    try {
      return await this.dispatch(call);
    } catch (e) {
      if (e instanceof SocketError) return { value: -1, errno: e.code };
      throw e;
    }
  }

  private async dispatch(call: SyscallSpec): Promise<Outcome> {
    const { lib } = this.host;
    const a = call.args;
    switch (call.name) {
      case 'socket': {
        const type = word(a[1]);
        if (type !== 'SOCK_STREAM') throw new Skip(`socket type ${type ?? '?'}`);
        if (a[0] && a[0].kind !== 'ellipsis' && word(a[0]) !== 'AF_INET') throw new Skip(`address family ${word(a[0]) ?? '?'}`);
        const fd = await lib.socket('tcp');
        this.fds.set(expectedInt(call) ?? fd, fd);
        return { value: expectedInt(call) ?? fd };
      }
      case 'bind':
        this.noAddress(a[1], 'bind');
        await lib.bind(this.fd(a[0]), '0.0.0.0', this.host.localPort);
        return { value: 0 };
      case 'listen':
        await lib.listen(this.fd(a[0]), int(a[1], 'backlog'));
        return { value: 0 };
      case 'accept':
      case 'accept4': {
        const fd = this.fd(a[0]);
        const got = await this.maybeNonBlocking(fd, (signal) => lib.accept(fd, { signal }));
        if (typeof got !== 'number') return got;
        const scriptFd = expectedInt(call) ?? got;
        this.fds.set(scriptFd, got);
        return { value: scriptFd };
      }
      case 'connect': {
        this.noAddress(a[1], 'connect');
        const fd = this.fd(a[0]);
        const done = lib.connect(fd, this.host.remoteAddress, this.host.remotePort).then(() => 0);
        if (!this.nonBlocking.has(fd)) return { value: await done };
        let settled = false;
        done.then(
          () => (settled = true),
          () => (settled = true),
        );
        await this.host.flush();
        if (settled) return { value: await done };
        return { value: -1, errno: 'EINPROGRESS' };
      }
      case 'write':
        return this.write(a[0], a[1], a[2], null);
      case 'send':
        return this.write(a[0], a[1], a[2], a[3] ?? null);
      case 'sendto':
        this.noAddress(a[4], 'sendto');
        return this.write(a[0], a[1], a[2], a[3] ?? null);
      case 'sendmsg':
        return this.sendmsg(a[0], a[1], a[2] ?? null);
      case 'read':
        return this.read(a[0], a[1], a[2], null);
      case 'recv':
      case 'recvfrom':
        return this.read(a[0], a[1], a[2], a[3] ?? null);
      case 'shutdown': {
        const how = { SHUT_RD: 'read', SHUT_WR: 'write', SHUT_RDWR: 'both' }[word(a[1]) ?? ''] as 'read' | 'write' | 'both' | undefined;
        if (!how) throw new Skip(`shutdown how ${exprText(a[1])}`);
        await lib.shutdown(this.fd(a[0]), how);
        return { value: 0 };
      }
      case 'close': {
        const fd = this.fd(a[0]);
        await lib.close(fd);
        this.forget(fd);
        return { value: 0 };
      }
      case 'fcntl':
        return this.fcntl(a);
      case 'setsockopt':
        return this.setsockopt(a);
      case 'getsockopt':
        return this.getsockopt(a);
      case 'ioctl': {
        const request = word(a[1]);
        if (request !== 'SIOCINQ' && request !== 'FIONREAD') throw new Skip(`ioctl ${request ?? exprText(a[1])}`);
        const n = await lib.readable(this.fd(a[0]));
        return { value: 0, ...mismatch(a[2], n, 'the byte count') };
      }
      default:
        throw new Skip(`system call ${call.name}`);
    }
  }

  private fd(e: Expr | undefined): number {
    const n = int(e, 'a descriptor');
    return this.fds.get(n) ?? n;
  }

  private forget(liveFd: number): void {
    for (const [k, v] of this.fds) if (v === liveFd) this.fds.delete(k);
    this.nonBlocking.delete(liveFd);
  }

  private noAddress(e: Expr | undefined, call: string): void {
    if (e && e.kind !== 'ellipsis' && !(e.kind === 'word' && e.name === 'NULL')) throw new Skip(`an explicit address in ${call}()`);
  }

  private async write(fdArg: Expr | undefined, buf: Expr | undefined, len: Expr | undefined, flags: Expr | null): Promise<Outcome> {
    this.buffer(buf);
    const dontWait = this.sendFlags(flags);
    return this.send(this.fd(fdArg), int(len, 'a length'), dontWait);
  }

  private async sendmsg(fdArg: Expr | undefined, msg: Expr | undefined, flags: Expr | null): Promise<Outcome> {
    const dontWait = this.sendFlags(flags);
    let total = 0;
    for (const field of msg?.kind === 'struct' ? msg.items : []) {
      if (field.kind !== 'bind') throw new Skip(`msghdr field ${exprText(field)}`);
      const name = field.target.kind === 'call' ? field.target.name : field.target.kind === 'word' ? field.target.name : '';
      if (name === 'msg_name') continue;
      if (name === 'msg_flags') continue;
      if (name !== 'msg_iov' || field.value.kind !== 'list') throw new Skip(`msghdr field ${name}`);
      for (const iov of field.value.items) {
        if (iov.kind !== 'struct' || iov.items.length !== 2) throw new Skip(`iovec ${exprText(iov)}`);
        this.buffer(iov.items[0]);
        total += int(iov.items[1], 'an iovec length');
      }
    }
    return this.send(this.fd(fdArg), total, dontWait);
  }

  private async send(fd: number, length: number, dontWait: boolean): Promise<Outcome> {
    if (length === 0) {
      await this.host.lib.write(fd, new Uint8Array(0));
      return { value: 0 };
    }
    const done = this.host.lib.write(fd, new Uint8Array(length));
    if (!dontWait && !this.nonBlocking.has(fd)) return { value: await done };
    let settled = false;
    done.then(
      () => (settled = true),
      () => (settled = true),
    );
    await this.host.flush();
    if (!settled) throw new Skip('a non-blocking write that would block (the library cannot report a partial write)');
    return { value: await done };
  }

  private async read(fdArg: Expr | undefined, buf: Expr | undefined, len: Expr | undefined, flags: Expr | null): Promise<Outcome> {
    this.buffer(buf);
    const f = flags === null ? 0 : flagWords(flags);
    const dontWait = f === 'MSG_DONTWAIT';
    if (f !== 0 && !dontWait) throw new Skip(`receive flags ${exprText(flags!)}`);
    const fd = this.fd(fdArg);
    const into = new Uint8Array(int(len, 'a length'));
    return this.maybeNonBlocking(fd, (signal) => this.host.lib.read(fd, into, undefined, { signal }), dontWait).then((r) => (typeof r === 'number' ? { value: r } : r));
  }

  /** A call that may wait: on a non-blocking descriptor, it must finish now or is withdrawn with EAGAIN. */
  private async maybeNonBlocking(fd: number, start: (signal: AbortSignal) => Promise<number>, dontWait = false): Promise<number | Outcome> {
    if (!dontWait && !this.nonBlocking.has(fd)) return start(new AbortController().signal);
    const abort = new AbortController();
    let settled = false;
    const done = start(abort.signal);
    done.then(
      () => (settled = true),
      () => (settled = true),
    );
    await this.host.flush();
    if (settled) return done;
    abort.abort();
    await done.catch(() => undefined);
    return { value: -1, errno: 'EAGAIN' };
  }

  private buffer(e: Expr | undefined): void {
    if (e?.kind === 'word' && e.name === 'NULL') throw new Skip('a NULL buffer (EFAULT): the library takes buffers, not pointers, and answers EINVAL');
    if (e && e.kind !== 'ellipsis') throw new Skip(`buffer contents ${exprText(e)}`);
  }

  /** True for MSG_DONTWAIT; other flags the library has no equivalent of are skipped. */
  private sendFlags(flags: Expr | null): boolean {
    if (flags === null) return false;
    const f = flagWords(flags);
    if (f === 0) return false;
    if (f === 'MSG_DONTWAIT') return true;
    if (f === 'MSG_MORE') throw new Skip('MSG_MORE');
    if (f === 'MSG_ZEROCOPY') throw new Skip('MSG_ZEROCOPY');
    if (f === 'MSG_FASTOPEN') throw new Skip('TCP Fast Open (MSG_FASTOPEN)');
    throw new Skip(`send flags ${exprText(flags)}`);
  }

  private async fcntl(a: Expr[]): Promise<Outcome> {
    const fd = this.fd(a[0]);
    const cmd = word(a[1]);
    if (cmd === 'F_GETFL') return { value: O_RDWR | (this.nonBlocking.has(fd) ? O_NONBLOCK : 0) };
    if (cmd !== 'F_SETFL') throw new Skip(`fcntl ${cmd ?? exprText(a[1])}`);
    const flags = orWords(a[2]);
    for (const f of flags) if (f !== 'O_RDWR' && f !== 'O_NONBLOCK' && f !== 'O_RDONLY' && f !== 'O_WRONLY') throw new Skip(`file flag ${f}`);
    await this.host.lib.getsockopt(fd); // EBADF for a descriptor that is not open
    if (flags.includes('O_NONBLOCK')) this.nonBlocking.add(fd);
    else this.nonBlocking.delete(fd);
    return { value: 0 };
  }

  private async setsockopt(a: Expr[]): Promise<Outcome> {
    const fd = this.fd(a[0]);
    const name = word(a[2]) ?? exprText(a[2]);
    if (!SETTABLE.has(name)) throw new Skip(`setsockopt ${name}`);
    const value = optionValue(a[3]);
    const { lib } = this.host;
    switch (name) {
      case 'SO_REUSEADDR':
        // Every script runs on a fresh stack, where no earlier connection holds the port.
        await lib.getsockopt(fd);
        return { value: 0 };
      case 'SO_SNDBUF':
        await lib.setsockopt(fd, { sendBufferSize: Math.max(4608, 2 * Math.min(value, WMEM_MAX)) });
        return { value: 0 };
      case 'SO_RCVBUF':
        await lib.setsockopt(fd, { recvBufferSize: Math.max(2304, 2 * Math.min(value, RMEM_MAX)) });
        return { value: 0 };
      case 'SO_KEEPALIVE':
        await lib.setsockopt(fd, { keepAlive: value !== 0 });
        return { value: 0 };
      case 'TCP_NODELAY':
        await lib.setsockopt(fd, { noDelay: value !== 0 });
        return { value: 0 };
      case 'TCP_KEEPIDLE':
        await lib.setsockopt(fd, { keepAliveIdle: value * 1000 });
        return { value: 0 };
      case 'TCP_MAXSEG':
        await lib.setsockopt(fd, { maxSegment: value });
        return { value: 0 };
      case 'TCP_USER_TIMEOUT':
        await lib.setsockopt(fd, { userTimeout: value });
        return { value: 0 };
      default:
        throw new Skip(`setsockopt ${name}`);
    }
  }

  private async getsockopt(a: Expr[]): Promise<Outcome> {
    const fd = this.fd(a[0]);
    const name = word(a[2]) ?? exprText(a[2]);
    const o = await this.host.lib.getsockopt(fd);
    let actual: number;
    switch (name) {
      case 'SO_SNDBUF':
        actual = o.sendBufferSize;
        break;
      case 'SO_RCVBUF':
        actual = o.recvBufferSize;
        break;
      case 'SO_KEEPALIVE':
        actual = o.keepAlive ? 1 : 0;
        break;
      case 'TCP_NODELAY':
        actual = o.noDelay ? 1 : 0;
        break;
      case 'TCP_MAXSEG': {
        // Linux: the MSS in use once connected, else what was set, else 536 (TCP_MSS_DEFAULT).
        const t = this.host.tcb();
        const connected = t !== null && (await this.host.lib.getpeername(fd).then(() => true, () => false));
        actual = connected ? t.mss : o.maxSegment || 536;
        break;
      }
      default:
        throw new Skip(`getsockopt ${name}`);
    }
    return { value: 0, ...mismatch(a[3], actual, name) };
  }
}

/** The script's expected result, when it is a plain number: the descriptor it names. */
function expectedInt(call: SyscallSpec): number | null {
  return call.result.kind === 'int' ? call.result.value : null;
}

function int(e: Expr | undefined, what: string): number {
  if (e?.kind === 'int') return e.value;
  if (e?.kind === 'neg' && e.value.kind === 'int') return -e.value.value;
  throw new Skip(`${what} written as ${e ? exprText(e) : 'nothing'}`);
}

function word(e: Expr | undefined): string | null {
  return e?.kind === 'word' ? e.name : null;
}

/** `A|B|C` as its words. */
function orWords(e: Expr | undefined): string[] {
  if (!e) return [];
  if (e.kind === 'or') return [...orWords(e.left), ...orWords(e.right)];
  if (e.kind === 'word') return [e.name];
  if (e.kind === 'int' && e.value === 0) return [];
  throw new Skip(`flags written as ${exprText(e)}`);
}

/** 0 for no flags, the one flag's name, else a Skip. */
function flagWords(e: Expr): 0 | string {
  const words = orWords(e);
  if (words.length === 0) return 0;
  if (words.length > 1) throw new Skip(`several flags ${words.join('|')}`);
  return words[0]!;
}

/** An option value: `[1]` or `1`. */
function optionValue(e: Expr | undefined): number {
  const inner = e?.kind === 'list' && e.items.length === 1 ? e.items[0] : e;
  return int(inner, 'an option value');
}

/** When the script wrote the value it expects back (`[42000]`), whether the call gave it. */
function mismatch(e: Expr | undefined, actual: number, what: string): { mismatch?: string } {
  if (!e || e.kind === 'ellipsis') return {};
  const want = optionValue(e);
  return want === actual ? {} : { mismatch: `${what} [${actual}]` };
}

export function exprText(e: Expr): string {
  switch (e.kind) {
    case 'ellipsis':
      return '...';
    case 'int':
      return e.text;
    case 'word':
      return e.name;
    case 'string':
      return `"${e.value}"${e.ellipsis ? '...' : ''}`;
    case 'list':
      return `[${e.items.map(exprText).join(', ')}]`;
    case 'struct':
      return `{${e.items.map(exprText).join(', ')}}`;
    case 'call':
      return `${e.name}(${e.args.map(exprText).join(', ')})`;
    case 'bind':
      return `${exprText(e.target)}=${exprText(e.value)}`;
    case 'or':
      return `${exprText(e.left)}|${exprText(e.right)}`;
    case 'neg':
      return `-${exprText(e.value)}`;
  }
}
