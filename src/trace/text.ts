/**
 * The text timeline: one line per call, in the order calls began, with how
 * long control stayed in the socket library.
 *
 *   +0.412 ms  client  connect(fd 3, 127.0.0.1:8080)        = ok      waited 0.310 ms
 */
import type { CallEvent, TraceEvent } from './events.js';

export interface TimelineOptions {
  /** Time zero; defaults to the first event's start. */
  origin?: number;
  /** Show the protocol stack's name beside each caller. */
  showStack?: boolean;
}

export function renderTimeline(events: readonly TraceEvent[], options: TimelineOptions = {}): string {
  const calls = events.filter((e): e is CallEvent => e.kind === 'call').sort((a, b) => a.start - b.start || a.seq - b.seq);
  if (calls.length === 0) return '(no calls)\n';
  const origin = options.origin ?? calls[0]!.start;
  const rows = calls.map((e) => [
    `+${fmtMs(e.start - origin)}`,
    options.showStack ? `${e.who}@${e.stack}` : e.who,
    describeCall(e),
    e.error ? `= ${e.error}${e.note && e.call !== 'socket' && e.call !== 'listen' && e.call !== 'shutdown' ? ` (${e.note})` : ''}` : `= ${describeResult(e)}`,
    `waited ${fmtMs(e.waited)}`,
  ]);
  const widths = rows[0]!.map((_, i) => Math.max(...rows.map((r) => r[i]!.length)));
  return rows
    .map((r) => r.map((cell, i) => (i === 0 ? cell.padStart(widths[i]!) : cell.padEnd(widths[i]!))).join('  ').trimEnd())
    .join('\n')
    .concat('\n');
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

export function hostPort(address: string, port: number): string {
  return address.includes(':') ? `[${address}]:${port}` : `${address}:${port}`;
}

function fmtMs(ms: number): string {
  return `${ms.toFixed(3)} ms`;
}
