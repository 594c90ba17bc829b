/**
 * A sequence diagram drawn from a real trace: the arrows of a textbook
 * socket exchange (prepare a descriptor, connect and its OK, write, read,
 * close, the gethostbyname request and its answer) with the real
 * descriptors, addresses, ports and byte counts. Which datagrams were DNS is
 * what the resolver recorded (its DnsEvents), not a guess from names or ports. Who talks to whom, and when
 * each call is placed, is the model's (mermaid-model.ts).
 *
 * The side that connected (or sent first) is drawn as the application: its
 * calls are arrows. The side that accepted (or answered) is drawn as the
 * other side: its accept is connect's "OK", its reads and writes are notes
 * over it, and its close is an arrow back. A peer that was not traced is the
 * participant "network".
 *
 * Calls are placed in the order they began, except calls that wait for the
 * other side (accept, read, recvfrom), which are placed when they returned,
 * which is when the connection or the data arrived; a read that was waiting
 * when the peer wrote its bytes is placed right after that write, so arrows
 * follow the bytes (the data before a FIN that followed it). A wait ended by
 * the side's own close is placed after that close.
 */
import type { CallEvent, DnsEvent, HttpEvent, TraceEvent } from '../trace-events.js';
import { Model, NETWORK, type Sock } from './mermaid-model.js';
import { hostPort } from '../wire/address.js';
import { describeError, CLOSED_WHILE_WAITING } from './text.js';

export { NETWORK } from './mermaid-model.js';

export interface MermaidOptions {
  /** A title above the diagram. */
  title?: string;
  /** Participant labels by `who`, instead of the ones made from the trace. */
  labels?: Readonly<Record<string, string>>;
  /** Participants (by `who`) to put first, left to right; the rest follow in the default order. */
  order?: readonly string[];
  /** At most this many messages; what is left is counted in a last note. Default 400. */
  maxMessages?: number;
}

const DEFAULT_MAX_MESSAGES = 400;

interface Item {
  /** Placement time on the stack's clock, then the recording order. */
  readonly time: number;
  readonly seq: number;
  readonly lines: string[];
}

/** A Mermaid `sequenceDiagram` of the trace. */
export function renderMermaid(events: readonly TraceEvent[], options: MermaidOptions = {}): string {
  const calls = events.filter((e): e is CallEvent => e.kind === 'call').sort(byStart);
  const https = events.filter((e): e is HttpEvent => e.kind === 'http').sort(byStart);
  const dns = events.filter((e): e is DnsEvent => e.kind === 'dns');
  const model = new Model(calls, dns);
  const ids = new Ids();
  const used = new Set<string>();
  const p = (who: string): string => {
    used.add(who);
    return ids.of(who);
  };

  const items: Item[] = [];
  for (const e of calls) {
    const lines = drawCall(model, e, p);
    if (lines.length > 0) items.push({ ...model.place(e), lines });
  }
  for (const h of https) items.push({ time: h.start, seq: h.seq, lines: [drawHttp(h, model, p)] });
  items.sort((a, b) => a.time - b.time || a.seq - b.seq);

  const out: string[] = ['sequenceDiagram'];
  if (options.title) out.push(`  title ${mermaidText(options.title)}`);

  // Participants: who begins exchanges first (the application), then who answers, in order of first appearance.
  const appearance: string[] = [];
  for (const e of [...calls, ...https].sort(byStart)) if (!appearance.includes(e.who)) appearance.push(e.who);
  const initiators = appearance.filter((w) => model.initiates(w) || https.some((h) => h.who === w));
  const ordered = [...(options.order ?? []).filter((w) => appearance.includes(w))];
  for (const w of [...initiators, ...appearance]) if (!ordered.includes(w)) ordered.push(w);
  if (used.has(NETWORK) && !ordered.includes(NETWORK)) ordered.push(NETWORK);
  for (const who of ordered) {
    const label = options.labels?.[who] ?? model.label(who, https);
    out.push(`  participant ${ids.of(who)} as ${mermaidText(label, true)}`);
  }

  const max = Math.max(1, options.maxMessages ?? DEFAULT_MAX_MESSAGES);
  let shown = 0;
  let hidden = 0;
  let last: string | null = null;
  let repeat = 1;
  const flush = () => {
    if (last === null) return;
    out.push(`  ${last}${repeat > 1 ? ` ×${repeat}` : ''}`);
    last = null;
    repeat = 1;
  };
  for (const item of items) {
    // Consecutive identical single-line messages (a loop of equal reads) become one with a count.
    if (hidden === 0 && item.lines.length === 1 && item.lines[0] === last) {
      repeat++;
      continue;
    }
    if (hidden > 0 || shown + item.lines.length > max) {
      hidden += item.lines.length;
      continue;
    }
    flush();
    shown += item.lines.length;
    if (item.lines.length === 1) last = item.lines[0]!;
    else for (const line of item.lines) out.push(`  ${line}`);
  }
  flush();
  if (hidden > 0 && ordered.length > 0) {
    const span = ordered.length > 1 ? `${ids.of(ordered[0]!)},${ids.of(ordered[ordered.length - 1]!)}` : ids.of(ordered[0]!);
    out.push(`  Note over ${span}: ${mermaidText(`… ${hidden} more messages not shown`)}`);
  }
  return out.join('\n') + '\n';
}

/** The lines for one call. */
function drawCall(model: Model, e: CallEvent, p: (who: string) => string): string[] {
  const me = p(e.who);
  const s = model.sockOf.get(e);
  const failed = e.error !== undefined;
  const self = (label: string) => [arrow(me, me, 'solid', failed, label)];
  const note = (label: string) => [`Note over ${me}: ${mermaidText(label)}`];
  const answering = s !== undefined && model.answers(s);
  switch (e.call) {
    case 'socket':
      return self(`socket(${e.note ?? ''})${outcome(e, `fd ${e.result}`)}`);
    case 'bind':
      return self(`bind(fd ${e.fd}, ${endpointArg(e)})${outcome(e, e.local ?? 'ok')}`);
    case 'listen':
      return self(`listen(fd ${e.fd}${e.note ? `, ${e.note}` : ''})${outcome(e, 'ok')}`);
    case 'connect': {
      const label = `connect(fd ${e.fd}, ${e.address ?? '?'}, ${e.port ?? '?'})`;
      if (s?.proto === 'udp') return self(`${label}${outcome(e, `ok, from ${e.local ?? '?'}`)}`);
      const accept = model.replies.get(e);
      const target = s?.peer ? p(s.peer.who) : p(e.address !== undefined ? model.whoAt('tcp', hostPort(e.address, e.port ?? 0)) : NETWORK);
      const request = arrow(me, target, 'dashed', false, label);
      if (failed) return [request, arrow(target, me, 'dashed', true, `✗ ${e.error}`)];
      const from = e.local ? `, from ${e.local}` : '';
      const reply = accept ? `OK (accept(fd ${accept.fd}) → fd ${accept.result}${from})` : `OK${e.local ? ` (from ${e.local})` : ''}`;
      return [request, arrow(target, me, 'dashed', false, reply)];
    }
    case 'accept': {
      if (model.consumed.has(e)) return [];
      const label = `accept(fd ${e.fd})`;
      if (failed) return note(stopped(e, label) ?? `${label} ✗ ${e.error}`);
      const from = e.address !== undefined ? ` from ${hostPort(e.address, e.port ?? 0)}` : '';
      return [arrow(p(NETWORK), me, 'dashed', false, `${label} → fd ${e.result}${from}`)];
    }
    case 'write': {
      const label = `write(fd ${e.fd}, ${e.length ?? '?'} B)${e.result !== undefined && e.result !== e.length ? ` → ${e.result} B` : ''}${failed ? ` ✗ ${e.error}` : ''}`;
      if (answering) return note(label);
      const peer = s?.proto === 'udp' ? udpPeer(model, e, s) : s ? model.streamPeer(s) : undefined;
      if (peer === undefined) return failed ? self(label) : note(label);
      const udpDns = s?.proto === 'udp' && model.isDns(s);
      return [arrow(me, p(peer), udpDns ? 'dashed' : 'solid', failed, udpDns ? `gethostbyname request: ${label}` : label)];
    }
    case 'read': {
      const label = `read(fd ${e.fd}, buffer ${e.length ?? '?'} B)`;
      if (failed) return note(stopped(e, label) ?? `${label} ✗ ${e.error}`);
      if (answering) return note(`${label} → ${e.result} B`);
      const peer = s?.proto === 'udp' ? udpPeer(model, e, s) : s ? model.streamPeer(s) : undefined;
      if (peer === undefined) return note(`${label} → ${e.result} B`);
      if (e.result === 0) {
        // End of stream: a traced peer's close was already drawn; an untraced one's is model.
        return s?.peer ? note(`${label} → 0 B, end of stream`) : [arrow(p(peer), me, 'dashed', false, `${label} → 0 B, end of stream`)];
      }
      const udpDns = s?.proto === 'udp' && model.isDns(s);
      return [arrow(p(peer), me, udpDns ? 'dashed' : 'solid', false, `${udpDns ? 'answer: ' : ''}${label} → ${e.result} B`)];
    }
    case 'sendto': {
      const to = e.address !== undefined ? hostPort(e.address, e.port ?? 0) : '?';
      const label = `sendto(fd ${e.fd}, ${e.length ?? '?'} B, ${e.address ?? '?'}, ${e.port ?? '?'})${failed ? ` ✗ ${e.error}` : ''}`;
      const target = model.udpTargets.get(e)?.who ?? (e.address !== undefined ? model.whoAt('udp', to) : NETWORK);
      if (answering && target !== NETWORK) return note(label);
      const dns = model.isDns(s);
      return [arrow(me, p(target), dns ? 'dashed' : 'solid', failed, dns ? `gethostbyname request: ${label}` : label)];
    }
    case 'recvfrom': {
      const label = `recvfrom(fd ${e.fd}, buffer ${e.length ?? '?'} B)`;
      if (failed) return note(stopped(e, label) ?? `${label} ✗ ${e.error}`);
      const from = hostPort(e.address ?? '?', e.port ?? 0);
      const result = `${label} → ${e.result} B from ${from}`;
      const source = e.address !== undefined ? model.whoAt('udp', from) : NETWORK;
      if (answering && source !== NETWORK) return note(result);
      const dns = model.isDns(s);
      return [arrow(p(source), me, dns ? 'dashed' : 'solid', false, dns ? `answer: ${result}` : result)];
    }
    case 'shutdown':
    case 'close': {
      const label = `${e.call}(fd ${e.fd}${e.note ? `, ${e.note}` : ''})${failed ? ` ✗ ${e.error}` : ''}`;
      const peer = s && s.proto !== 'udp' && !s.listening && !failed ? model.streamPeer(s) : undefined;
      if (peer === undefined) return self(label);
      return [arrow(me, p(peer), 'dashed', false, label)];
    }
    default: {
      const args = e.fd >= 0 ? `fd ${e.fd}` : '';
      return self(`${e.call}(${args})${outcome(e, e.result === undefined ? 'ok' : String(e.result))}`);
    }
  }
}

function udpPeer(model: Model, e: CallEvent, s: Sock): string | undefined {
  const to = model.udpTargets.get(e);
  if (to) return to.who;
  return s.remote ? model.whoAt('udp', s.remote) : undefined;
}

function drawHttp(h: HttpEvent, model: Model, p: (who: string) => string): string {
  const me = p(h.who);
  const server = model.httpServer(h);
  const over = server && server !== h.who ? `${me},${p(server)}` : me;
  const total = [h.timings.dns, h.timings.connect, h.timings.send, h.timings.wait, h.timings.receive].filter((t) => t >= 0).reduce((a, b) => a + b, 0);
  return `Note over ${over}: ${mermaidText(`HTTP ${h.method} ${h.url} → ${h.status} ${h.statusText} (fd ${h.fd}, ${total.toFixed(1)} ms)`)}`;
}

// ---- text ----

function arrow(from: string, to: string, style: 'solid' | 'dashed', failed: boolean, label: string): string {
  const head = failed ? (style === 'solid' ? '-x' : '--x') : style === 'solid' ? '->>' : '-->>';
  return `${from}${head}${to}: ${mermaidText(label)}`;
}

/** A wait the side's own close ended is no failure: "accept(fd 3) → stopped waiting: fd 3 was closed (EBADF)". */
function stopped(e: CallEvent, label: string): string | null {
  return e.note === CLOSED_WHILE_WAITING ? `${label} → ${describeError(e)}` : null;
}

/** " → fd 3", or " ✗ EMFILE". */
function outcome(e: CallEvent, ok: string): string {
  return e.error ? ` ✗ ${e.error}` : ` → ${ok}`;
}

function endpointArg(e: CallEvent): string {
  return e.address !== undefined ? hostPort(e.address, e.port ?? 0) : '?';
}

/**
 * Text safe anywhere Mermaid takes text. Mermaid's own escape is `#code;`
 * (decimal), turned into an HTML entity after parsing. Escaped: what ends a
 * message (`;`, `#`, a line break), what starts a directive (`%%{`), HTML
 * (`<`, `>`, `&`), braces, and in participant labels what ends the label
 * (`:`, `,`, `@`). Also broken up: the words "style" and "classDef", which
 * Mermaid's entity pre-pass treats specially on a line with `:` and `#`, and
 * a leading "wrap:" or "nowrap:", which is a directive.
 */
export function mermaidText(value: string, label = false): string {
  let s = value.replace(/[\r\n\t]+/g, ' ');
  const special = label ? /[#;%<>&{}:,@"\uFB02\u00B6]/g : /[#;%<>&{}"\uFB02\u00B6]/g;
  s = s.replace(special, (c) => `#${c.codePointAt(0)};`);
  s = s.replace(/style/g, 'st#121;le').replace(/classDef/g, 'class#68;ef');
  if (/^\s*(?:no)?wrap:/i.test(s)) s = s.replace(/^(\s*)(\S)/, (_, space: string, c: string) => `${space}#${c.codePointAt(0)};`);
  return s.trim() === '' ? '#32;' : s;
}
// ---- helpers ----

class Ids {
  private readonly ids = new Map<string, string>();
  private readonly taken = new Set<string>();

  /** A Mermaid-safe participant id for a who: letters, digits and _, never a keyword, never a number. */
  of(who: string): string {
    let id = this.ids.get(who);
    if (id) return id;
    let base = who.replace(/[^A-Za-z0-9_]/g, '_') || 'p';
    if (/^[0-9]/.test(base) || KEYWORDS.has(base.toLowerCase()) || /^x/i.test(base)) base = `p_${base}`;
    id = base;
    for (let i = 2; this.taken.has(id.toLowerCase()); i++) id = `${base}_${i}`;
    this.taken.add(id.toLowerCase());
    this.ids.set(who, id);
    return id;
  }
}

/** Words Mermaid's sequence lexer reads as keywords wherever an id could stand. */
const KEYWORDS = new Set([
  'participant', 'actor', 'as', 'box', 'create', 'destroy', 'loop', 'rect', 'opt', 'alt', 'else', 'par', 'par_over', 'and',
  'critical', 'option', 'break', 'end', 'left', 'right', 'of', 'links', 'link', 'properties', 'details', 'over', 'note',
  'activate', 'deactivate', 'title', 'acctitle', 'accdescr', 'sequencediagram', 'autonumber', 'off', 'wrap', 'nowrap',
]);

function byStart(a: TraceEvent, b: TraceEvent): number {
  return a.start - b.start || a.seq - b.seq;
}
