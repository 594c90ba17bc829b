/**
 * Runs one parsed script against the user stack, event by event, as
 * packetdrill runs one against Linux: inbound packets are injected at their
 * time; an outbound line takes the oldest packet the stack sent and checks
 * it field by field and in time; system calls go through the socket library,
 * blocking ones running on while later lines execute and checked when they
 * return; `%{ }%` blocks are evaluated on the connection's state. The first
 * thing that does not hold ends the run: a FAIL naming the line, what it
 * expected and what happened, or a SKIP naming the feature the stack lacks.
 */
import type { Event, PacketSpec, Script, SyscallSpec } from './ast.js';
import { applyCommand, baseConfig, type RunConfig } from './config.js';
import { BIND_PORT, CONNECT_PORT, Host, REMOTE_PORT, RunnerError } from './host.js';
import { aggregate, differences, type MatchSettings } from './matcher.js';
import { buildInbound, flagBits, formatPacket, Mapping, SYN, ACK, toScript, type Sent } from './packet.js';
import { AssertionFailed, runPython, show, Unsupported, type PyValue } from './python.js';
import { exprText, Skip, type Outcome } from './syscalls.js';
import { tcpInfoField } from './tcp-info.js';

export type Verdict =
  | { status: 'pass' }
  | { status: 'fail'; line: number; expected: string; got: string }
  | { status: 'skip'; line: number; feature: string }
  | { status: 'error'; line: number; message: string };

export interface RunOptions {
  /** Seeds the stack's ISNs, ports and timestamp offsets. */
  seed?: number;
  /** Called with one line per packet and call as the script runs (tcpdump-like), for -v. */
  log?: (line: string) => void;
}

/** packetdrill's default --tolerance_usecs. */
const DEFAULT_TOLERANCE = 4000;
/** How long past an outbound line's window the runner keeps looking, to tell "late" from "never". */
const LATE_HORIZON = 10_000_000;

class Failure extends Error {
  constructor(
    readonly line: number,
    readonly expected: string,
    readonly got: string,
  ) {
    super(`expected ${expected} got ${got}`);
  }
}

class Skipped extends Error {
  constructor(
    readonly line: number,
    readonly feature: string,
  ) {
    super(feature);
  }
}

interface Blocking {
  event: Event;
  call: SyscallSpec;
  endUsecs: number;
  outcome: Outcome | null;
  error: unknown;
  doneAt: number;
}

export async function runScript(script: Script, options: RunOptions = {}): Promise<Verdict> {
  const run = new Run(script, options);
  try {
    await run.start();
    await run.events();
    run.say();
    return { status: 'pass' };
  } catch (e) {
    run.say();
    if (e instanceof Failure) return { status: 'fail', line: e.line, expected: e.expected, got: e.got };
    if (e instanceof Skipped) return { status: 'skip', line: e.line, feature: e.feature };
    if (e instanceof RunnerError) return { status: 'error', line: run.line, message: e.message };
    return { status: 'error', line: run.line, message: `runner error: ${e instanceof Error ? e.message : String(e)}` };
  }
}

class Run {
  line = 0;
  private host!: Host;
  private readonly config: RunConfig = baseConfig();
  private readonly map = new Mapping();
  private readonly settings: MatchSettings = { tsTickUsecs: 0, toleranceUsecs: DEFAULT_TOLERANCE };
  private readonly blocking: Blocking[] = [];
  private readonly vars = new Map<string, PyValue>();
  private readonly unlogged: Sent[] = [];
  private connected = false;
  private bindPort = BIND_PORT;
  private connectPort = CONNECT_PORT;

  constructor(
    private readonly script: Script,
    private readonly options: RunOptions,
  ) {}

  private get tolerance(): number {
    return this.settings.toleranceUsecs;
  }

  async start(): Promise<void> {
    for (const o of this.script.options) {
      this.line = o.line;
      const n = Number(o.value);
      switch (o.name) {
        case 'tolerance_usecs':
          if (!Number.isInteger(n) || n < 0) throw new Skipped(o.line, `option --${o.name}=${o.value}`);
          this.settings.toleranceUsecs = n;
          break;
        case 'tcp_ts_tick_usecs':
          if (!Number.isInteger(n) || n < 0) throw new Skipped(o.line, `option --${o.name}=${o.value}`);
          this.settings.tsTickUsecs = n;
          break;
        case 'ip_version':
          if (o.value !== 'ipv4') throw new Skipped(o.line, `--ip_version=${o.value} (the user stack speaks IPv4 only)`);
          break;
        case 'bind_port':
        case 'connect_port':
          if (!Number.isInteger(n) || n < 1 || n > 65535) throw new Skipped(o.line, `option --${o.name}=${o.value}`);
          if (o.name === 'bind_port') this.bindPort = n;
          else this.connectPort = n;
          break;
        case 'mss':
        case 'verbose':
          // --mss sizes the GSO of injected packets, which are built whole here.
          break;
        default:
          throw new Skipped(o.line, `option --${o.name}`);
      }
    }
    const outbound = this.script.events.some((e) => e.action.kind === 'packet' && e.action.packet.direction === '>' && e.action.packet.length > 0);
    if (this.script.init) {
      this.line = this.script.init.line;
      const skip = applyCommand(this.script.init.text, this.config, outbound);
      if (skip) throw new Skipped(this.script.init.line, skip);
    }
    const tcp = { ...this.config.tcp, recvBufferMax: this.config.maxRecvBuffer };
    this.host = new Host(tcp, this.config.recvBufferSize, this.config.sendBufferSize, this.options.seed ?? 1, { bind: this.bindPort, connect: this.connectPort });
    this.host.onSent = (s) => this.sent(s);
    this.host.onStep = () => this.checkBlocking();
    this.host.nextCheck = () => Math.min(...this.blocking.filter((b) => b.doneAt < 0).map((b) => b.endUsecs + this.tolerance + 1));
  }

  async events(): Promise<void> {
    const outbound = this.script.events.some((e) => e.action.kind === 'packet' && e.action.packet.direction === '>' && e.action.packet.length > 0);
    for (const event of this.script.events) {
      this.line = event.line;
      const [start, end] = this.window(event);
      const a = event.action;
      if (a.kind === 'packet' && a.packet.direction === '>') {
        await this.outbound(event, a.packet, start, end);
        continue;
      }
      await this.host.advanceTo(start);
      if (event.time.kind !== 'any' && this.host.usecs() > end + this.tolerance) {
        throw new Failure(event.line, `${describe(event)} at ${secs(start)}`, `the script was already at ${secs(this.host.usecs())}`);
      }
      switch (a.kind) {
        case 'packet':
          await this.inbound(event, a.packet);
          break;
        case 'syscall':
          await this.syscall(event, a.call);
          break;
        case 'command': {
          const before = JSON.stringify(this.config.tcp);
          const skip = applyCommand(a.text, this.config, outbound);
          if (skip) throw new Skipped(event.line, skip);
          if (JSON.stringify(this.config.tcp) !== before) Object.assign(this.host.stack.tcp.config, this.config.tcp);
          break;
        }
        case 'code':
          this.code(event, a.text);
          break;
        case 'unsupported':
          throw new Skipped(event.line, a.what);
      }
    }
    // Blocking calls still running when the script ends must return when they said they would.
    for (const b of [...this.blocking]) {
      this.line = b.event.line;
      await this.host.advanceTo(b.endUsecs + this.tolerance, () => b.doneAt >= 0);
      this.checkBlocking(true);
    }
  }

  /** When an event may happen, in script µs: [start, end] (equal unless a range). */
  private window(event: Event): [number, number] {
    const now = this.host.usecs();
    const t = event.time;
    switch (t.kind) {
      case 'absolute':
        return [t.usecs, t.usecs];
      case 'relative':
        return [now + t.usecs, now + t.usecs];
      case 'absolute-range':
        return [t.usecs, t.endUsecs];
      case 'relative-range':
        return [now + t.usecs, now + t.endUsecs];
      case 'any':
        return [now, now + LATE_HORIZON];
    }
  }

  // ---- packets ----

  private sent(s: Sent): void {
    // Our ISN is whatever the first SYN (or SYN-ACK) carried: packetdrill's local_isn.
    if (s.flags & SYN && (this.map.localLive === null || !this.connected)) {
      this.map.localLive = s.seq;
      this.map.localScript = 0;
      if (!(s.flags & ACK)) this.host.connection = { localPort: s.srcPort, remotePort: s.dstPort };
    }
    if (this.options.log) this.unlogged.push(s);
  }

  /** One line of -v output; packets sent since the last line go first, mapped with what is known by now (the first TS val). */
  say(line?: string): void {
    const log = this.options.log;
    if (!log) return;
    for (const s of this.unlogged.splice(0)) log(`${secs(Math.round(s.at * 1000))} ${formatPacket(toScript(s, this.map))}`);
    if (line !== undefined) log(line);
  }

  private async inbound(event: Event, p: PacketSpec): Promise<void> {
    if (p.ipInfo !== null || /[EWA]/.test(p.flags)) throw new Skipped(event.line, `ECN (${p.ipInfo ? `[${p.ipInfo}]` : `flags ${p.flags}`})`);
    const unsupported = Array.isArray(p.options) ? p.options.find((o) => o.kind === 'unsupported') : undefined;
    if (unsupported?.kind === 'unsupported') throw new Skipped(event.line, unsupported.name);
    if (p.options === 'any') throw new Skipped(event.line, 'an inbound packet with <...> options');
    const flags = flagBits(p.flags);
    if (flags & SYN && !(flags & ACK)) this.host.connection ??= { localPort: this.bindPort, remotePort: REMOTE_PORT };
    if (flags & SYN && flags & ACK) this.connected = true;
    const conn = this.host.connection ?? { localPort: this.bindPort, remotePort: REMOTE_PORT };
    const packet = buildInbound(p, this.map, { local: this.host.localIp, remote: this.host.remoteIp, localPort: conn.localPort, remotePort: conn.remotePort });
    this.say(`${secs(this.host.usecs())} ${formatPacket(p)}`);
    await this.host.inject(packet);
  }

  private async outbound(event: Event, expected: PacketSpec, start: number, end: number): Promise<void> {
    const unsupported = Array.isArray(expected.options) ? expected.options.find((o) => o.kind === 'unsupported') : undefined;
    if (unsupported?.kind === 'unsupported') throw new Skipped(event.line, unsupported.name);
    if (expected.ipInfo !== null || /[EWA]/.test(expected.flags)) throw new Skipped(event.line, `ECN (${expected.ipInfo ? `[${expected.ipInfo}]` : `flags ${expected.flags}`})`);
    const q = this.host.queue;
    const deadline = event.time.kind === 'any' ? end : end + this.tolerance;
    const want = formatPacket(expected);
    await this.host.advanceTo(deadline, () => q.length > 0);
    if (q.length === 0) {
      // Nothing in the window: look on, to say whether it came late or never.
      await this.host.advanceTo(deadline + LATE_HORIZON, () => q.length > 0);
      if (q.length === 0) throw new Failure(event.line, `${want} at ${secs(start)}`, `nothing by ${secs(deadline + LATE_HORIZON)}`);
    }
    // A superpacket: take segments while they continue the first and fall short of the length expected.
    const parts: Sent[] = [q[0]!];
    let bytes = q[0]!.length;
    while (bytes > 0 && bytes < expected.length) {
      if (q.length <= parts.length) await this.host.advanceTo(Math.max(deadline, q[0]!.at * 1000), () => q.length > parts.length);
      const nextPart = q[parts.length];
      if (!nextPart || typeof aggregate([...parts, nextPart]) === 'string') break;
      parts.push(nextPart);
      bytes += nextPart.length;
    }
    const joined = aggregate(parts);
    if (typeof joined === 'string') throw new RunnerError(joined);
    if (joined.flags & SYN && !this.connected) this.map.localScript = expected.seq;
    this.mapTimestamps(expected, joined);
    this.say();
    const actual = toScript(joined, this.map);
    const at = Math.round(parts[0]!.at * 1000);
    const diff = differences(expected, actual, parts.length > 1, this.settings);
    const got = `${formatPacket(actual, { window: expected.window !== null, options: Array.isArray(expected.options) })}${parts.length > 1 ? ` (${parts.length} segments)` : ''}`;
    const late = event.time.kind !== 'any' && Math.round(parts[parts.length - 1]!.at * 1000) > end + this.tolerance;
    const early = event.time.kind !== 'any' && at < start - this.tolerance;
    // A TS val off by the time the packet is off is a timing failure: say that.
    if (diff.length > 0 && !(diff.length === 1 && diff[0] === 'TS val' && (early || late))) {
      throw new Failure(event.line, `${want} at ${secs(start)}`, `${early ? 'an unexpected ' : ''}${got} at ${secs(at)} (${diff.join(', ')} differ)`);
    }
    if (event.time.kind !== 'any') {
      const last = Math.round(parts[parts.length - 1]!.at * 1000);
      if (at < start - this.tolerance) throw new Failure(event.line, `${want} at ${secs(start)}`, `it at ${secs(at)}, ${ms(start - at)} early (tolerance ${ms(this.tolerance)})`);
      if (last > end + this.tolerance) throw new Failure(event.line, `${want} at ${secs(end)}`, `it at ${secs(last)}, ${ms(last - end)} late (tolerance ${ms(this.tolerance)})`);
    }
    q.splice(0, parts.length);
  }

  /** packetdrill's TS mapping: the script's TS val stands for the stack's, so the peer's echo of it can be translated. */
  private mapTimestamps(expected: PacketSpec, actual: Sent): void {
    const want = Array.isArray(expected.options) ? expected.options.find((o) => o.kind === 'TS') : undefined;
    const got = actual.options.find((o) => o.kind === 'TS');
    if (want?.kind !== 'TS' || got?.kind !== 'TS') return;
    this.map.tsVals.set(want.val, got.val);
    this.map.tsFirst ??= { script: want.val, live: got.val };
  }

  // ---- system calls ----

  private async syscall(event: Event, call: SyscallSpec): Promise<void> {
    const started = this.host.usecs();
    const b: Blocking = { event, call, endUsecs: 0, outcome: null, error: null, doneAt: -1 };
    this.host.syscalls.run(call).then(
      (o) => {
        b.outcome = o;
        b.doneAt = this.host.usecs();
      },
      (e: unknown) => {
        b.error = e ?? new Error('rejected');
        b.doneAt = this.host.usecs();
      },
    );
    if (call.end) {
      // As packetdrill: an absolute start makes the end absolute; a relative one, relative to the same point.
      const t = event.time;
      b.endUsecs = t.kind === 'absolute' || t.kind === 'absolute-range' ? call.end.usecs : started - (t.kind === 'any' ? 0 : t.usecs) + call.end.usecs;
      this.say(`${secs(started)} ${stripTime(event.text)} ...`);
      this.blocking.push(b);
      await this.host.settle();
      return;
    }
    await this.host.settle();
    if (b.doneAt < 0) {
      await this.host.advanceTo(started + this.tolerance, () => b.doneAt >= 0);
      if (b.doneAt < 0) throw new Failure(event.line, `${stripTime(event.text)} to return at once`, `it still blocked at ${secs(this.host.usecs())}`);
    }
    this.verify(b, started);
  }

  /** Checks the blocking calls: those that returned, and those past their end time that did not. */
  private checkBlocking(final = false): void {
    for (const b of [...this.blocking]) {
      if (b.doneAt >= 0) {
        this.blocking.splice(this.blocking.indexOf(b), 1);
        if (b.error instanceof Skip) throw new Skipped(b.event.line, b.error.message);
        if (b.doneAt < b.endUsecs - this.tolerance) throw new Failure(b.event.line, `${stripTime(b.event.text)} to return at ${secs(b.endUsecs)}`, `it returned at ${secs(b.doneAt)}, ${ms(b.endUsecs - b.doneAt)} early`);
        this.verify(b, b.endUsecs);
      } else if (final || this.host.usecs() > b.endUsecs + this.tolerance) {
        throw new Failure(b.event.line, `${stripTime(b.event.text)} to return at ${secs(b.endUsecs)}`, `it still blocked at ${secs(this.host.usecs())}`);
      }
    }
  }

  private verify(b: Blocking, expectedAt: number): void {
    if (b.error !== null) {
      if (b.error instanceof Skip) throw new Skipped(b.event.line, b.error.message);
      throw b.error;
    }
    const o = b.outcome!;
    const call = b.call;
    const text = stripTime(b.event.text);
    const got = o.errno ? `-1 ${o.errno}` : String(o.value);
    this.say(`${secs(b.doneAt)} ${call.name}(${call.args.map(exprText).join(', ')}) = ${got}`);
    if (b.doneAt > expectedAt + this.tolerance && call.end) throw new Failure(b.event.line, `${text} to return at ${secs(expectedAt)}`, `it returned at ${secs(b.doneAt)}, ${ms(b.doneAt - expectedAt)} late`);
    const wantValue = resultValue(call);
    if (wantValue === null) throw new Skipped(b.event.line, `a result written as ${exprText(call.result)}`);
    const wantErrno = call.errno;
    const ok = o.value === wantValue && (wantErrno === null ? o.errno === undefined : o.errno === wantErrno);
    if (!ok) throw new Failure(b.event.line, text, `${call.name}(...) = ${got}${o.errno ? '' : ''}`);
    if (o.mismatch) throw new Failure(b.event.line, text, `${o.mismatch}`);
  }

  // ---- code ----

  private code(event: Event, text: string): void {
    const t = this.host.tcb();
    const advmss = t ? Math.min(this.host.stack.tcp.config.mss, 1460, t.options.maxSegment || Infinity) : 0;
    try {
      runPython(text, {
        vars: this.vars,
        lookup: (name) => tcpInfoField(t, name, advmss),
        print: (line) => this.say(`${secs(this.host.usecs())} print: ${line}`),
      });
    } catch (e) {
      if (e instanceof Unsupported) throw new Skipped(event.line, e.message);
      if (e instanceof AssertionFailed) {
        const values = e.values.map(([n, v]) => `${n} = ${show(v)}`).join(', ');
        // The message is worth showing only when it says more than the values read.
        const extra = e.detail !== 'AssertionError' && !e.values.some(([, v]) => show(v) === e.detail) ? ` (${e.detail})` : '';
        throw new Failure(event.line, `assert ${e.source}`, values ? `${values}${extra}` : e.detail);
      }
      throw e;
    }
  }
}

function resultValue(call: SyscallSpec): number | null {
  const r = call.result;
  if (r.kind === 'int') return r.value;
  if (r.kind === 'neg' && r.value.kind === 'int') return -r.value.value;
  return null;
}

function describe(event: Event): string {
  return stripTime(event.text);
}

/** An event's text without its time: "write(4, ..., 1000) = 1000". */
function stripTime(text: string): string {
  return text.replace(/^\s*(\*|\+?[\d.]+(~\+?[\d.]+)?)(\.\.\.[\d.]+)?\s*/, '');
}

/** Script µs as packetdrill prints times: seconds, 3 decimals (6 when it matters). */
export function secs(usecs: number): string {
  return usecs % 1000 === 0 ? (usecs / 1e6).toFixed(3) : (usecs / 1e6).toFixed(6);
}

function ms(usecs: number): string {
  return `${Number((usecs / 1000).toFixed(3))} ms`;
}
