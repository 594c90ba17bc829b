/**
 * The text timeline: one line per call, in the order calls began, with how
 * long control stayed in the socket library.
 *
 *   +0.412 ms  client  connect(fd 3, 127.0.0.1:8080)        = ok      waited 0.310 ms
 *
 * A call that was still waiting when the same side began another (an HTTP
 * client's read loop under its write, a server's accept under its reads) is
 * shown twice, as strace shows an unfinished call: where it began, with
 * "… waits until +T", and where it returned, with its result. A wait that
 * ended because the side closed the descriptor (a server shutting down) says
 * so rather than showing a bare EBADF.
 *
 *   +1.002 ms  client  read(fd 3, 16384 B)        … waits until +3.201 ms
 *   +1.100 ms  client  write(fd 3, 77 B)          = 77 B         waited 0.100 ms
 *   +3.201 ms  client  … read(fd 3, 16384 B)      = 232 B        waited 2.199 ms
 */
import { hostPort } from '../wire/address.js';
import type { CallEvent, TraceEvent } from '../trace-events.js';
import { readPackets } from './packets.js';

export interface TimelineOptions {
  /** Time zero; defaults to the first event's start. */
  origin?: number;
  /** Show the protocol stack's name beside each caller. */
  showStack?: boolean;
  /** Show the packets the trace holds (a user stack's taps), each under the call it served; default true. */
  packets?: boolean;
  /** Packets the taps could not keep (PacketBudget.notShown): said in a last line. */
  packetsNotShown?: number;
}

/** What the socket library notes on a wait that a close() of the same descriptor ended. */
export const CLOSED_WHILE_WAITING = 'closed while waiting';

export function renderTimeline(events: readonly TraceEvent[], options: TimelineOptions = {}): string {
  const calls = events.filter((e): e is CallEvent => e.kind === 'call').sort((a, b) => a.start - b.start || a.seq - b.seq);
  if (calls.length === 0) return '(no calls)\n';
  const origin = options.origin ?? calls[0]!.start;
  const at = (t: number) => `+${fmtMs(t - origin)}`;
  // A call is split when the next call of the same side began before it returned.
  const next = new Map<CallEvent, CallEvent>();
  const lastOf = new Map<string, CallEvent>();
  for (const e of calls) {
    const previous = lastOf.get(e.who);
    if (previous) next.set(previous, e);
    lastOf.set(e.who, e);
  }
  const rows: Row[] = [];
  const first = new Map<CallEvent, Row>();
  for (const e of calls) {
    const who = options.showStack ? `${e.who}@${e.stack}` : e.who;
    const end = e.start + e.waited;
    const following = next.get(e);
    const result = `= ${e.error ? describeError(e) : describeResult(e)}`;
    const waited = `waited ${fmtMs(e.waited)}`;
    // A wait that a close ended is shown where the close was, after it (on a virtual clock both happen at one instant).
    const closer = e.note === CLOSED_WHILE_WAITING ? closeThatEnded(calls, e) : undefined;
    if ((following && following.start < end) || (closer && e.waited > 0)) {
      const row: Row = { time: e.start, seq: e.seq, cells: [at(e.start), who, describeCall(e), `… waits until ${at(end)}`, ''], under: [] };
      first.set(e, row);
      rows.push(row);
      rows.push({ time: end, seq: closer ? Math.max(e.seq, closer.seq + 0.5) : e.seq, cells: [at(end), who, `… ${describeCall(e)}`, result, waited], under: [] });
    } else {
      const row: Row = { time: e.start, seq: e.seq, cells: [at(e.start), who, describeCall(e), result, waited], under: [] };
      first.set(e, row);
      rows.push(row);
    }
  }
  // Packets: under the call they served (in the order they came), or at their own time when no call of their host waited.
  if (options.packets !== false) {
    for (const p of readPackets(events).packets) {
      const e = p.event;
      const who = options.showStack ? `${e.who}@${e.stack}` : e.who;
      const cells = [at(e.start), who, `  ${p.line}`, '', ''];
      const parent = p.call ? first.get(p.call) : undefined;
      if (parent) parent.under.push(cells);
      else rows.push({ time: e.start, seq: e.seq, cells, under: [], packet: true });
    }
  }
  rows.sort((a, b) => a.time - b.time || a.seq - b.seq);
  const lines = rows.flatMap((r) => [r.cells, ...r.under]);
  // A packet line is wide; it may run past the result and waited columns rather than widen them.
  const widths = lines[0]!.map((_, i) => Math.max(...rows.filter((r) => !r.packet).map((r) => r.cells[i]!.length)));
  const text = lines.map((cells) => cells.map((cell, i) => (i === 0 ? cell.padStart(widths[i]!) : cell.padEnd(widths[i]!))).join('  ').trimEnd());
  if (options.packetsNotShown) text.push(`… ${options.packetsNotShown} packets not shown (the trace keeps at most its packet budget)`);
  return text.join('\n').concat('\n');
}

interface Row {
  time: number;
  seq: number;
  cells: string[];
  /** Packet lines drawn under this row. */
  under: string[][];
  /** A packet no call waited for. */
  packet?: boolean;
}

/** The same side's close of the descriptor that ended `e`'s wait: the last one that began before the wait ended. */
export function closeThatEnded(calls: readonly CallEvent[], e: CallEvent): CallEvent | undefined {
  let found: CallEvent | undefined;
  for (const c of calls) if (c.call === 'close' && c.who === e.who && c.fd === e.fd && c.start >= e.start && c.start <= e.start + e.waited) found = c;
  return found;
}

/** "ECONNREFUSED", "EINVAL (socket is not listening)"; a wait ended by a close says what it was. */
export function describeError(e: CallEvent): string {
  if (e.note === CLOSED_WHILE_WAITING) return `stopped waiting: fd ${e.fd} was closed (${e.error})`;
  return `${e.error}${e.note && e.call !== 'socket' && e.call !== 'listen' && e.call !== 'shutdown' ? ` (${e.note})` : ''}`;
}

/** "connect(fd 3, 127.0.0.1:8080)": the call as the application wrote it. */
export function describeCall(e: CallEvent): string {
  const args: string[] = [];
  if (e.call === 'socket') args.push(e.note ?? '');
  else if (e.fd >= 0) args.push(`fd ${e.fd}`);
  const peer = e.address !== undefined ? hostPort(e.address, e.port ?? 0) : undefined;
  switch (e.call) {
    case 'connect':
    case 'bind':
    case 'sendto':
      if (peer) args.push(peer);
      break;
    case 'listen':
    case 'shutdown':
      if (e.note) args.push(e.note);
      break;
  }
  if (e.length !== undefined) args.push(`${e.length} B`);
  return `${e.call}(${args.join(', ')})`;
}

export function describeResult(e: CallEvent): string {
  const r = e.result;
  switch (e.call) {
    case 'socket':
      return `fd ${r}`;
    case 'accept':
      return e.address !== undefined ? `fd ${r} from ${hostPort(e.address, e.port ?? 0)}` : `fd ${r}`;
    case 'read':
    case 'write':
      return r === 0 && e.call === 'read' ? '0 B (end of stream)' : `${r} B`;
    case 'recvfrom':
      return `${r} B from ${hostPort(e.address ?? '?', e.port ?? 0)}`;
    case 'sendto':
      return `${r} B`;
    case 'bind':
      return e.local ? `ok, bound ${e.local}` : 'ok';
    case 'connect':
      return e.local ? `ok, from ${e.local}` : 'ok';
    default:
      return r === undefined ? 'ok' : String(r);
  }
}

function fmtMs(ms: number): string {
  return `${ms.toFixed(3)} ms`;
}
