/**
 * The few Python forms packetdrill's `%{ ... }%` blocks use, evaluated
 * directly: `assert EXPR[, MESSAGE]`, `print(...)`, `NAME = EXPR`,
 * `NAME += EXPR`, statements split by newlines or `;`, `#` comments and `\`
 * continuations. Expressions: integers (decimal, hex), strings, names,
 * + - * / // %, comparisons, and/or/not, parentheses and tuples, and
 * `'fmt' % values`. Variables persist from block to block, as they do in the
 * one Python program packetdrill builds from a script's blocks. Anything else
 * is an Unsupported naming what, so the runner can skip the script saying why.
 */

export type PyValue = number | string | boolean | PyValue[];

/** A form or name the evaluator does not know: the script is skipped, naming it. */
export class Unsupported extends Error {
  override readonly name = 'Unsupported';
}

/** An assert that did not hold: the expression's source and the message Python would print. */
export class AssertionFailed extends Error {
  override readonly name = 'AssertionFailed';
  constructor(
    readonly source: string,
    readonly detail: string,
    /** The names the assertion read, with their values. */
    readonly values: Array<[string, PyValue]>,
  ) {
    super(`assert ${source}: ${detail}`);
  }
}

type Tok = { t: 'num'; v: number } | { t: 'str'; v: string } | { t: 'name'; v: string } | { t: 'op'; v: string };

/** Names that are read from the connection (tcpi_*) are resolved through `lookup`; others come from the block's variables. */
export interface Scope {
  vars: Map<string, PyValue>;
  /** tcpi_* and TCP_CA_* names; throws Unsupported for a field the stack does not have. */
  lookup(name: string): PyValue | undefined;
  print(line: string): void;
}

export function runPython(code: string, scope: Scope): void {
  for (const statement of statements(code)) runStatement(statement, scope);
}

function statements(code: string): string[] {
  const joined = code.replace(/\\\r?\n/g, ' ');
  const out: string[] = [];
  for (const rawLine of joined.split('\n')) {
    const line = stripComment(rawLine);
    for (const part of splitTop(line, ';')) if (part.trim() !== '') out.push(part.trim());
  }
  return out;
}

function stripComment(line: string): string {
  let quote: string | null = null;
  for (let i = 0; i < line.length; i++) {
    const c = line[i]!;
    if (quote) {
      if (c === quote) quote = null;
    } else if (c === '"' || c === "'") quote = c;
    else if (c === '#') return line.slice(0, i);
  }
  return line;
}

/** Splits on `sep` outside quotes and brackets. */
function splitTop(text: string, sep: string): string[] {
  const out: string[] = [];
  let depth = 0;
  let quote: string | null = null;
  let from = 0;
  for (let i = 0; i < text.length; i++) {
    const c = text[i]!;
    if (quote) {
      if (c === quote) quote = null;
      continue;
    }
    if (c === '"' || c === "'") quote = c;
    else if (c === '(' || c === '[') depth++;
    else if (c === ')' || c === ']') depth--;
    else if (c === sep && depth === 0) {
      out.push(text.slice(from, i));
      from = i + 1;
    }
  }
  out.push(text.slice(from));
  return out;
}

function runStatement(s: string, scope: Scope): void {
  const assert = /^assert\s+(.*)$/s.exec(s);
  if (assert) {
    const [cond, ...rest] = splitTop(assert[1]!, ',');
    const read: Array<[string, PyValue]> = [];
    const ok = truthy(evaluate(cond!, scope, read));
    if (ok) return;
    let detail: string;
    try {
      detail = rest.length > 0 ? show(evaluate(rest.join(','), scope, [])) : 'AssertionError';
    } catch {
      // A message that cannot be formed (a field we lack, say) must not hide the failed assertion.
      detail = rest.join(',').trim();
    }
    throw new AssertionFailed(cond!.trim(), detail, read);
  }
  const print = /^print\s*\((.*)\)$/s.exec(s);
  if (print) {
    scope.print(splitTop(print[1]!, ',').map((e) => show(evaluate(e, scope, []))).join(' '));
    return;
  }
  const assign = /^([A-Za-z_]\w*)\s*(\+=|-=|=)(?!=)\s*(.*)$/s.exec(s);
  if (assign) {
    const [, name, op, expr] = assign;
    const value = evaluate(expr!, scope, []);
    if (op === '=') scope.vars.set(name!, value);
    else {
      const old = scope.vars.get(name!);
      if (old === undefined) throw new Unsupported(`Python: ${name} used before it was set`);
      scope.vars.set(name!, arith(op === '+=' ? '+' : '-', old, value));
    }
    return;
  }
  throw new Unsupported(`Python statement '${s}'`);
}

export function evaluate(text: string, scope: Scope, read: Array<[string, PyValue]>): PyValue {
  const toks = lex(text);
  let i = 0;
  const peek = () => toks[i];
  const isOp = (v: string) => peek()?.t === 'op' && peek()!.v === v;
  const isName = (v: string) => peek()?.t === 'name' && peek()!.v === v;

  const orExpr = (): PyValue => {
    let v = andExpr();
    while (isName('or')) {
      i++;
      const r = andExpr();
      v = truthy(v) ? v : r;
    }
    return v;
  };
  const andExpr = (): PyValue => {
    let v = notExpr();
    while (isName('and')) {
      i++;
      const r = notExpr();
      v = truthy(v) ? r : v;
    }
    return v;
  };
  const notExpr = (): PyValue => {
    if (isName('not')) {
      i++;
      return !truthy(notExpr());
    }
    return comparison();
  };
  const comparison = (): PyValue => {
    const left = sum();
    const ops = ['==', '!=', '<=', '>=', '<', '>'];
    if (peek()?.t === 'op' && ops.includes(String(peek()!.v))) {
      const op = String(toks[i++]!.v);
      const right = sum();
      return compare(op, left, right);
    }
    return left;
  };
  const sum = (): PyValue => {
    let v = term();
    while (isOp('+') || isOp('-')) {
      const op = String(toks[i++]!.v);
      v = arith(op, v, term());
    }
    return v;
  };
  const term = (): PyValue => {
    let v = unary();
    while (isOp('*') || isOp('/') || isOp('//') || isOp('%')) {
      const op = String(toks[i++]!.v);
      const r = unary();
      v = op === '%' && typeof v === 'string' ? format(v, r) : arith(op, v, r);
    }
    return v;
  };
  const unary = (): PyValue => {
    if (isOp('-')) {
      i++;
      return arith('-', 0, unary());
    }
    return atom();
  };
  const atom = (): PyValue => {
    const t = toks[i++];
    if (!t) throw new Unsupported(`Python expression '${text.trim()}' ends too soon`);
    if (t.t === 'num' || t.t === 'str') return t.v;
    if (t.t === 'name') {
      if (t.v === 'True') return true;
      if (t.v === 'False') return false;
      const local = scope.vars.get(t.v);
      const value = local !== undefined ? local : scope.lookup(t.v);
      if (value === undefined) throw new Unsupported(`Python name '${t.v}'`);
      read.push([t.v, value]);
      return value;
    }
    if (t.v === '(') {
      const items: PyValue[] = [orExpr()];
      while (isOp(',')) {
        i++;
        if (isOp(')')) break;
        items.push(orExpr());
      }
      if (!isOp(')')) throw new Unsupported(`Python expression '${text.trim()}'`);
      i++;
      return items.length === 1 ? items[0]! : items;
    }
    throw new Unsupported(`Python expression '${text.trim()}'`);
  };
  const value = orExpr();
  if (i !== toks.length) throw new Unsupported(`Python expression '${text.trim()}'`);
  return value;
}

function lex(text: string): Tok[] {
  const out: Tok[] = [];
  const re = /\s*(?:(0[xX][0-9a-fA-F]+|\d+(?:\.\d+)?)|'([^']*)'|"([^"]*)"|([A-Za-z_]\w*)|(\/\/|==|!=|<=|>=|[-+*/%()<>,]))/y;
  let at = 0;
  while (at < text.length) {
    if (/^\s*$/.test(text.slice(at))) break;
    re.lastIndex = at;
    const m = re.exec(text);
    if (!m) throw new Unsupported(`Python expression '${text.trim()}'`);
    at = re.lastIndex;
    if (m[1] !== undefined) out.push({ t: 'num', v: m[1].startsWith('0x') || m[1].startsWith('0X') ? parseInt(m[1], 16) : Number(m[1]) });
    else if (m[2] !== undefined) out.push({ t: 'str', v: m[2] });
    else if (m[3] !== undefined) out.push({ t: 'str', v: m[3] });
    else if (m[4] !== undefined) out.push({ t: 'name', v: m[4] });
    else out.push({ t: 'op', v: m[5]! });
  }
  return out;
}

function num(v: PyValue, op: string): number {
  if (typeof v === 'number') return v;
  if (typeof v === 'boolean') return v ? 1 : 0;
  throw new Unsupported(`Python '${op}' on ${show(v)}`);
}

function arith(op: string, a: PyValue, b: PyValue): number {
  const x = num(a, op);
  const y = num(b, op);
  switch (op) {
    case '+':
      return x + y;
    case '-':
      return x - y;
    case '*':
      return x * y;
    case '/':
      return x / y;
    case '//':
      return Math.floor(x / y);
    case '%':
      return x - y * Math.floor(x / y);
    default:
      throw new Unsupported(`Python operator '${op}'`);
  }
}

function compare(op: string, a: PyValue, b: PyValue): boolean {
  if (op === '==') return show(a) === show(b);
  if (op === '!=') return show(a) !== show(b);
  const x = num(a, op);
  const y = num(b, op);
  return op === '<' ? x < y : op === '>' ? x > y : op === '<=' ? x <= y : x >= y;
}

function truthy(v: PyValue): boolean {
  if (Array.isArray(v)) return v.length > 0;
  return v !== 0 && v !== '' && v !== false;
}

/** `'cwnd=%d' % x`, `'%d %d' % (a, b)`: %d, %i, %s, %u, %x and %%. */
function format(fmt: string, args: PyValue): string {
  const list = Array.isArray(args) ? args : [args];
  let k = 0;
  return fmt.replace(/%([-0-9.]*)([diusx%])/g, (_m, _w, c: string) => {
    if (c === '%') return '%';
    const v = list[k++];
    if (v === undefined) throw new Unsupported(`Python format '${fmt}': too few values`);
    if (c === 's') return show(v);
    if (c === 'x') return Math.trunc(num(v, '%')).toString(16);
    return String(Math.trunc(num(v, '%')));
  });
}

export function show(v: PyValue): string {
  if (Array.isArray(v)) return `(${v.map(show).join(', ')})`;
  if (typeof v === 'boolean') return v ? 'True' : 'False';
  return String(v);
}
