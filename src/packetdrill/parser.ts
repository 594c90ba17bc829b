/**
 * The packetdrill script parser: options, an optional init command, events,
 * an optional cleanup command (`script: opt_options opt_init_command events
 * opt_cleanup_command`). Recursive descent over the lexer's tokens. Anything
 * it cannot read is a PacketdrillError naming the file and line; it never
 * throws anything else.
 */
import { PacketdrillError, type Action, type Event, type EventTime, type Expr, type PacketSpec, type Script, type ScriptOption, type SyscallSpec, type TcpOptionSpec } from './ast.js';
import { tokenize, type Token } from './lexer.js';

/** Letters a TCP packet's flags may use: tcpdump's, plus E (ECE) and W (CWR). */
const FLAG_LETTERS = /^[SFRPUEWA]+$/;

export function parseScript(source: string, path = 'script'): Script {
  return new Parser(source, path).script();
}

class Parser {
  private readonly tokens: Token[];
  private i = 0;

  constructor(
    private readonly source: string,
    private readonly path: string,
  ) {
    this.tokens = tokenize(source, path);
  }

  script(): Script {
    const options: ScriptOption[] = [];
    while (this.peek().type === 'option') {
      const t = this.next();
      const eq = t.text.indexOf('=');
      options.push(eq < 0 ? { name: t.text, value: null, line: t.line } : { name: t.text.slice(0, eq), value: t.text.slice(eq + 1), line: t.line });
    }
    let init: Script['init'] = null;
    if (this.peek().type === 'command') {
      const t = this.next();
      init = { text: t.text, line: t.line };
    }
    const events: Event[] = [];
    let cleanup: Script['cleanup'] = null;
    while (this.peek().type !== 'eof') {
      const t = this.peek();
      if (t.type === 'command' && events.length > 0 && this.tokens[this.i + 1]!.type === 'eof') {
        this.next();
        cleanup = { text: t.text, line: t.line };
        break;
      }
      if (t.type === 'option') this.fail(t, `option --${t.text} after the first event`);
      events.push(this.event());
    }
    if (events.length === 0) this.fail(this.peek(), 'no events');
    return { path: this.path, options, init, events, cleanup };
  }

  // ---- events ----

  private event(): Event {
    const first = this.peek();
    const time = this.time();
    let end: { usecs: number } | null = null;
    if (this.isPunct('...')) {
      this.next();
      end = { usecs: this.usecs(this.expect('num', 'an end time after ...')) };
    }
    const action = this.action(end);
    const last = this.tokens[this.i - 1]!;
    const text = this.source.slice(first.start, last.end).replace(/\s+/g, ' ');
    return { line: first.line, time, action, text };
  }

  private time(): EventTime {
    const t = this.peek();
    if (this.isPunct('*')) {
      this.next();
      return { kind: 'any' };
    }
    const relative = this.isPunct('+');
    if (relative) this.next();
    if (this.peek().type !== 'num') this.fail(t, `expected an event time, found ${describe(t)}`);
    const usecs = this.usecs(this.next());
    if (!this.isPunct('~')) return relative ? { kind: 'relative', usecs } : { kind: 'absolute', usecs };
    this.next();
    const endRelative = this.isPunct('+');
    if (endRelative) this.next();
    if (endRelative !== relative) this.fail(t, 'a time range must be both relative (+a~+b) or both absolute (a~b)');
    const endUsecs = this.usecs(this.expect('num', 'the end of a time range'));
    if (endUsecs < usecs) this.fail(t, 'a time range that ends before it starts');
    return relative ? { kind: 'relative-range', usecs, endUsecs } : { kind: 'absolute-range', usecs, endUsecs };
  }

  private action(end: { usecs: number } | null): Action {
    const t = this.peek();
    if (t.type === 'punct' && (t.text === '<' || t.text === '>')) {
      if (end) this.fail(t, 'only a system call can block (...)');
      return this.packet();
    }
    if (t.type === 'command') {
      this.next();
      return { kind: 'command', text: t.text };
    }
    if (t.type === 'code') {
      this.next();
      return { kind: 'code', text: t.text };
    }
    if (t.type === 'word' && this.tokens[this.i + 1]!.type === 'punct' && this.tokens[this.i + 1]!.text === '(') return { kind: 'syscall', call: this.syscall(end) };
    return this.fail(t, `expected a packet, a system call, a command or code, found ${describe(t)}`);
  }

  // ---- packets ----

  private packet(): Action {
    const dir = this.next().text as '<' | '>';
    let ipInfo: string | null = null;
    if (this.isPunct('[') || this.isPunct('(')) ipInfo = this.bracketed();
    const t = this.peek();
    if (t.type === 'word' && /^(udp|icmp)$/i.test(t.text)) {
      // UDP and ICMP packet lines are read past to the end of their line and refused when run.
      while (this.peek().type !== 'eof' && this.peek().line === t.line) this.next();
      return { kind: 'unsupported', what: `${t.text.toUpperCase()} packets` };
    }
    if (this.peek().type === 'num' && this.tokens[this.i + 1]!.text === '>') {
      this.fail(this.peek(), 'explicit port numbers in a packet are not supported');
    }
    const flags = this.flags();
    const seq = this.expectNum('a sequence number (start:end(length))');
    this.expectPunct(':');
    const end = this.expectNum('the end sequence number');
    this.expectPunct('(');
    const length = this.expectNum('the payload length');
    this.expectPunct(')');
    if (((end - seq) >>> 0) !== length >>> 0) this.fail(t, `${seq}:${end}(${length}): the length is not end − start`);
    const packet: PacketSpec = { direction: dir, flags, ipInfo, seq, end, length, ack: null, window: null, urgent: null, options: null };
    for (;;) {
      const w = this.peek();
      if (w.type === 'word' && w.text === 'ack' && packet.ack === null) {
        this.next();
        packet.ack = this.expectNum('the ack number');
      } else if (w.type === 'word' && w.text === 'win' && packet.window === null) {
        this.next();
        packet.window = this.expectNum('the window');
      } else if (w.type === 'word' && w.text === 'urg' && packet.urgent === null) {
        this.next();
        packet.urgent = this.expectNum('the urgent pointer');
      } else break;
    }
    if (this.isPunct('<')) packet.options = this.tcpOptions();
    if (packet.window !== null && packet.window > 0xffff) this.fail(t, `window ${packet.window} does not fit 16 bits`);
    if (packet.window === null && dir === '<') this.fail(t, 'an inbound packet must say its window (win N)');
    if (Array.isArray(packet.options) && optionBytes(packet.options) % 4 !== 0) this.fail(t, `TCP options of ${optionBytes(packet.options)} bytes: not padded to a multiple of 4`);
    return { kind: 'packet', packet };
  }

  private flags(): string {
    const t = this.peek();
    if (this.isPunct('.') || this.isPunct('-')) {
      this.next();
      return t.text;
    }
    if (t.type !== 'word' || !FLAG_LETTERS.test(t.text)) return this.fail(t, `expected TCP flags (S, F, R, P, ., -), found ${describe(t)}`);
    this.next();
    if (this.isPunct('.') && this.peek().start === t.end) {
      this.next();
      return `${t.text}.`;
    }
    return t.text;
  }

  private tcpOptions(): TcpOptionSpec[] | 'any' {
    this.expectPunct('<');
    if (this.isPunct('...')) {
      this.next();
      this.expectPunct('>');
      return 'any';
    }
    const out: TcpOptionSpec[] = [];
    for (;;) {
      out.push(this.tcpOption());
      if (this.isPunct(',')) {
        this.next();
        continue;
      }
      this.expectPunct('>');
      return out;
    }
  }

  private tcpOption(): TcpOptionSpec {
    const t = this.expect('word', 'a TCP option');
    switch (t.text) {
      case 'nop':
        return { kind: 'nop' };
      case 'eol':
        return { kind: 'eol' };
      case 'mss':
        return { kind: 'mss', value: this.expectNum('the MSS') };
      case 'wscale':
        return { kind: 'wscale', value: this.expectNum('the window scale') };
      case 'sackOK':
        return { kind: 'sackOK' };
      case 'sack': {
        const blocks: Array<[number, number]> = [];
        while (this.peek().type === 'num') {
          const left = this.expectNum('a SACK block');
          this.expectPunct(':');
          blocks.push([left, this.expectNum('a SACK block end')]);
        }
        if (blocks.length === 0) this.fail(t, 'sack without blocks');
        return { kind: 'sack', blocks };
      }
      case 'TS': {
        this.expectWord('val');
        const val = this.expectNum('TS val');
        this.expectWord('ecr');
        return { kind: 'TS', val, ecr: this.expectNum('TS ecr') };
      }
      case 'FO':
      case 'FOEXP':
      case 'md5':
        // An optional cookie or key: a hex blob, as a word or a number.
        if (this.peek().type === 'word' || this.peek().type === 'num') this.next();
        return { kind: 'unsupported', name: t.text === 'md5' ? 'TCP MD5 option' : 'TCP Fast Open option' };
      default:
        return this.fail(t, `unknown TCP option '${t.text}'`);
    }
  }

  /** `[ect0]`, `(tos 0x4)`: the words inside, kept as text. */
  private bracketed(): string {
    const open = this.next();
    const close = open.text === '[' ? ']' : ')';
    const words: string[] = [];
    while (!this.isPunct(close)) {
      if (this.peek().type === 'eof' || this.peek().line !== open.line) this.fail(open, `'${open.text}' without '${close}'`);
      words.push(this.next().text);
    }
    this.next();
    return words.join(' ');
  }

  // ---- system calls ----

  private syscall(end: { usecs: number } | null): SyscallSpec {
    const name = this.next().text;
    this.expectPunct('(');
    const args: Expr[] = [];
    if (!this.isPunct(')')) {
      for (;;) {
        args.push(this.expr());
        if (this.isPunct(',')) {
          this.next();
          continue;
        }
        break;
      }
    }
    this.expectPunct(')');
    this.expectPunct('=');
    const result = this.expr();
    let errno: string | null = null;
    let note: string | null = null;
    if (this.peek().type === 'word') errno = this.next().text;
    if (this.isPunct('(')) note = this.note();
    return { name, args, result, errno, note, end };
  }

  private note(): string {
    const open = this.next();
    let depth = 1;
    const from = this.peek().start;
    let to = from;
    while (depth > 0) {
      const t = this.next();
      if (t.type === 'eof') this.fail(open, "a note '(' without ')'");
      if (t.text === '(' && t.type === 'punct') depth++;
      if (t.text === ')' && t.type === 'punct') depth--;
      if (depth > 0) to = t.end;
    }
    return this.source.slice(from, to).trim();
  }

  private expr(): Expr {
    let left = this.unary();
    while (this.isPunct('|')) {
      this.next();
      left = { kind: 'or', left, right: this.unary() };
    }
    return left;
  }

  private unary(): Expr {
    if (this.isPunct('-')) {
      this.next();
      return { kind: 'neg', value: this.unary() };
    }
    const primary = this.primary();
    if (this.isPunct('=') && (primary.kind === 'word' || primary.kind === 'call')) {
      this.next();
      return { kind: 'bind', target: primary, value: this.expr() };
    }
    return primary;
  }

  private primary(): Expr {
    const t = this.next();
    if (t.type === 'punct' && t.text === '...') return { kind: 'ellipsis' };
    if (t.type === 'num') return { kind: 'int', value: t.value, text: t.text };
    if (t.type === 'string') {
      const ellipsis = this.isPunct('...');
      if (ellipsis) this.next();
      return { kind: 'string', value: t.text, ellipsis };
    }
    if (t.type === 'word') {
      if (!this.isPunct('(')) return { kind: 'word', name: t.text };
      this.next();
      const args: Expr[] = [];
      while (!this.isPunct(')')) {
        args.push(this.expr());
        if (this.isPunct(',')) this.next();
        else if (!this.isPunct(')')) this.fail(this.peek(), `expected ',' or ')' in ${t.text}(...), found ${describe(this.peek())}`);
      }
      this.next();
      return { kind: 'call', name: t.text, args };
    }
    if (t.type === 'punct' && (t.text === '[' || t.text === '{')) {
      const close = t.text === '[' ? ']' : '}';
      const items: Expr[] = [];
      while (!this.isPunct(close)) {
        items.push(this.expr());
        if (this.isPunct(',')) this.next();
        else if (!this.isPunct(close)) this.fail(this.peek(), `expected ',' or '${close}', found ${describe(this.peek())}`);
      }
      this.next();
      return t.text === '[' ? { kind: 'list', items } : { kind: 'struct', items };
    }
    return this.fail(t, `expected an expression, found ${describe(t)}`);
  }

  // ---- tokens ----

  private peek(): Token {
    return this.tokens[this.i]!;
  }

  private next(): Token {
    const t = this.tokens[this.i]!;
    if (t.type !== 'eof') this.i++;
    return t;
  }

  private isPunct(text: string): boolean {
    const t = this.peek();
    return t.type === 'punct' && t.text === text;
  }

  private expect(type: Token['type'], what: string): Token {
    const t = this.peek();
    if (t.type !== type) this.fail(t, `expected ${what}, found ${describe(t)}`);
    return this.next();
  }

  private expectNum(what: string): number {
    const t = this.expect('num', what);
    if (!Number.isInteger(t.value) || t.value < 0 || t.value > 0xffffffff) this.fail(t, `${what} must be a whole number that fits 32 bits, not ${t.text}`);
    return t.value;
  }

  private expectPunct(text: string): void {
    const t = this.peek();
    if (!(t.type === 'punct' && t.text === text)) this.fail(t, `expected '${text}', found ${describe(t)}`);
    this.next();
  }

  private expectWord(text: string): void {
    const t = this.peek();
    if (!(t.type === 'word' && t.text === text)) this.fail(t, `expected '${text}', found ${describe(t)}`);
    this.next();
  }

  /** Seconds as written ("0.200", ".1", "3") to whole microseconds. */
  private usecs(t: Token): number {
    if (t.type !== 'num' || t.text.startsWith('0x')) this.fail(t, `expected a time in seconds, found ${describe(t)}`);
    return Math.round(t.value * 1_000_000);
  }

  private fail(t: Token, reason: string): never {
    throw new PacketdrillError('ERR_PACKETDRILL_PARSE', this.path, t.line, reason);
  }
}

/** Bytes the options take on the wire, as written. */
function optionBytes(list: TcpOptionSpec[]): number {
  let n = 0;
  for (const o of list) {
    if (o.kind === 'nop' || o.kind === 'eol') n += 1;
    else if (o.kind === 'mss') n += 4;
    else if (o.kind === 'wscale') n += 3;
    else if (o.kind === 'sackOK') n += 2;
    else if (o.kind === 'sack') n += 2 + 8 * o.blocks.length;
    else if (o.kind === 'TS') n += 10;
    else return 0; // Fast Open and MD5 are refused when run, whatever their length
  }
  return n;
}

function describe(t: Token): string {
  if (t.type === 'eof') return 'the end of the script';
  if (t.type === 'command') return 'a backquoted command';
  if (t.type === 'code') return 'a %{ }% block';
  return `'${t.text}'`;
}
