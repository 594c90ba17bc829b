/**
 * Tokens of the packetdrill language, as its flex lexer cuts them: numbers
 * (`.1`, `0.200`, `0x7fff`), words, strings, `...`, punctuation, a
 * backquoted shell command, a `%{ ... }%` code block and `--option=value`.
 * Comments (`//` to the end of the line, `/* ... *\/`) are dropped. Every
 * token keeps its line and its place in the text, so errors and messages can
 * point at the script.
 */
import { PacketdrillError } from './ast.js';

export type TokenType = 'num' | 'word' | 'string' | 'punct' | 'command' | 'code' | 'option' | 'eof';

export interface Token {
  type: TokenType;
  /** The text: a number's digits, a word, a punctuation mark, a string's or command's contents. */
  text: string;
  /** For numbers: the value (a float for "0.200", an integer otherwise). */
  value: number;
  line: number;
  start: number;
  end: number;
}

const PUNCT = '<>:()[]{},=|.-~+*/';

export function tokenize(source: string, file: string): Token[] {
  const tokens: Token[] = [];
  let i = 0;
  let line = 1;
  const fail = (reason: string): never => {
    throw new PacketdrillError('ERR_PACKETDRILL_PARSE', file, line, reason);
  };
  const push = (type: TokenType, text: string, start: number, end: number, value = 0, at = line) => tokens.push({ type, text, value, line: at, start, end });
  const countLines = (from: number, to: number) => {
    for (let k = from; k < to; k++) if (source.charCodeAt(k) === 10) line++;
  };
  while (i < source.length) {
    const c = source[i]!;
    if (c === '\n') {
      line++;
      i++;
      continue;
    }
    if (c === ' ' || c === '\t' || c === '\r' || c === '\\') {
      // A backslash outside a command only continues a line.
      i++;
      continue;
    }
    if (source.startsWith('//', i)) {
      while (i < source.length && source[i] !== '\n') i++;
      continue;
    }
    if (source.startsWith('/*', i)) {
      const close = source.indexOf('*/', i + 2);
      if (close < 0) fail('a /* comment that never ends');
      countLines(i, close);
      i = close + 2;
      continue;
    }
    const start = i;
    if (c === '`') {
      const close = source.indexOf('`', i + 1);
      if (close < 0) fail('a backquoted command that never ends');
      const at = line;
      countLines(i, close);
      push('command', source.slice(i + 1, close), start, close + 1, 0, at);
      i = close + 1;
      continue;
    }
    if (source.startsWith('%{', i)) {
      const close = source.indexOf('}%', i + 2);
      if (close < 0) fail('a %{ code block that never ends with }%');
      const at = line;
      countLines(i, close);
      push('code', source.slice(i + 2, close), start, close + 2, 0, at);
      i = close + 2;
      continue;
    }
    if (c === '"') {
      let j = i + 1;
      let text = '';
      while (j < source.length && source[j] !== '"') {
        if (source[j] === '\n') fail('a string that never ends');
        if (source[j] === '\\' && j + 1 < source.length) j++;
        text += source[j];
        j++;
      }
      if (j >= source.length) fail('a string that never ends');
      push('string', text, start, j + 1);
      i = j + 1;
      continue;
    }
    if (source.startsWith('--', i) && /[A-Za-z_]/.test(source[i + 2] ?? '')) {
      let j = i + 2;
      while (j < source.length && !/\s/.test(source[j]!)) j++;
      push('option', source.slice(i + 2, j), start, j);
      i = j;
      continue;
    }
    if (source.startsWith('...', i)) {
      push('punct', '...', start, i + 3);
      i += 3;
      continue;
    }
    const hex = /^0[xX][0-9a-fA-F]+/.exec(source.slice(i, i + 24));
    if (hex) {
      push('num', hex[0], start, i + hex[0].length, parseInt(hex[0].slice(2), 16));
      i += hex[0].length;
      continue;
    }
    // "0.200" and ".1" are floats; the "0" of "0...0.2" stays an integer before the ellipsis.
    const num = /^(\d+\.\d+|\.\d+|\d+)/.exec(source.slice(i, i + 32));
    if (num && !(c === '.' && tokens.length > 0 && endsWord(tokens[tokens.length - 1]!, start))) {
      push('num', num[0], start, i + num[0].length, Number(num[0]));
      i += num[0].length;
      continue;
    }
    const word = /^[A-Za-z_][A-Za-z0-9_]*/.exec(source.slice(i, i + 128));
    if (word) {
      push('word', word[0], start, i + word[0].length);
      i += word[0].length;
      continue;
    }
    if (PUNCT.includes(c)) {
      push('punct', c, start, i + 1);
      i++;
      continue;
    }
    fail(`unexpected character '${c}'`);
  }
  // The end is reported on the last line that had something on it.
  push('eof', '', source.length, source.length, 0, tokens.length > 0 ? tokens[tokens.length - 1]!.line : 1);
  return tokens;
}

/** "P.1" never occurs, but a flag word glued to its dot ("P.") must not turn the dot into ".digits". */
function endsWord(previous: Token, at: number): boolean {
  return previous.type === 'word' && previous.end === at;
}
