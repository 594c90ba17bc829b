/**
 * The sequence diagram with the stack's work drawn in (`--packets`): the
 * hosts are the participants, every packet is an arrow from the host that
 * sent it to the host it was for (a cross where the link lost it), and each
 * socket call of the application (the host that sent first) is a note over it where it began, with what it returned
 * and how long it waited. The packets that follow a call's note, up to the
 * next note of that host, are the ones it waited for.
 */
import type { CallEvent, TraceEvent } from '../trace-events.js';
import { readPackets } from './packets.js';
import { mermaidText } from './mermaid.js';
import { describeCall, describeError, describeResult } from './text.js';

export interface PacketDiagramOptions {
  title?: string;
  /** At most this many arrows and notes; what is left is counted in a last note. Default 600. */
  maxMessages?: number;
  /** Packets the taps could not keep, said in a last note. */
  packetsNotShown?: number;
}

const NETWORK = 'network';

export function renderPacketMermaid(events: readonly TraceEvent[], options: PacketDiagramOptions = {}): string {
  const model = readPackets(events);
  const calls = events.filter((e): e is CallEvent => e.kind === 'call');
  const items: { at: number; line: string }[] = [];
  const ids = new Map<string, string>();
  const order: string[] = [];
  const id = (who: string) => {
    let v = ids.get(who);
    if (!v) {
      v = `h${ids.size + 1}`;
      ids.set(who, v);
      order.push(who);
    }
    return v;
  };
  // Participants in the order they first sent a packet; the client (first to send) on the left.
  for (const p of model.packets) if (p.event.direction === 'out') id(p.event.who);
  // The calls are the application's: notes over the host that sent first (the client); the servers' calls are the calls-only diagram's.
  const app = order[0];
  for (const c of calls) if (c.who === app) {
    const verdict = c.error ? describeError(c) : describeResult(c);
    items.push({ at: c.begin ?? c.seq, line: `Note over ${id(c.who)}: ${mermaidText(`${describeCall(c)} = ${verdict}, waited ${c.waited.toFixed(3)} ms`)}` });
  }
  for (const p of model.packets) {
    const e = p.event;
    // The arrow says where it went; the line need not.
    const text = mermaidText(`${p.line.slice(2).replace(/ (to|from) [\d.]+:\d+/, '')} (+${e.start.toFixed(3)} ms)`);
    if (e.direction === 'out') {
      const to = p.to ?? NETWORK;
      items.push({ at: e.seq, line: `${id(e.who)}${p.lost ? '-x' : '->>'}${id(to)}: ${text}` });
    } else if (p.from === undefined) {
      items.push({ at: e.seq, line: `${id(NETWORK)}->>${id(e.who)}: ${text}` });
    }
  }
  items.sort((a, b) => a.at - b.at);
  const out = ['sequenceDiagram'];
  if (options.title) out.push(`  title ${mermaidText(options.title)}`);
  for (const who of order) out.push(`  participant ${ids.get(who)} as ${mermaidText(model.hosts.has(who) ? `${who} ${model.hosts.get(who)}` : who, true)}`);
  const max = Math.max(1, options.maxMessages ?? 600);
  for (const item of items.slice(0, max)) out.push(`  ${item.line}`);
  const hidden = Math.max(0, items.length - max) + (options.packetsNotShown ?? 0);
  if (hidden > 0 && order.length > 0) {
    const span = order.length > 1 ? `${ids.get(order[0]!)},${ids.get(order[order.length - 1]!)}` : ids.get(order[0]!)!;
    out.push(`  Note over ${span}: ${mermaidText(`… ${hidden} more not shown${options.packetsNotShown ? ` (${options.packetsNotShown} packets past the budget)` : ''}`)}`);
  }
  return out.join('\n') + '\n';
}
