/**
 * A packetdrill script as data: the options at its head, then events, each
 * a time and an action (a packet the fake peer injects or the stack must
 * send, a system call, a shell command, a Python snippet). The grammar is
 * packetdrill's (its bison grammar, October 2019); the names follow it.
 */

/** A script that cannot be read: which file, which line, and why. */
export class PacketdrillError extends Error {
  override readonly name = 'PacketdrillError';
  constructor(
    readonly code: 'ERR_PACKETDRILL_PARSE' | 'ERR_PACKETDRILL_READ',
    readonly file: string,
    readonly line: number,
    readonly reason: string,
  ) {
    super(line > 0 ? `${file}:${line}: ${reason}` : `${file}: ${reason}`);
  }
}

/** `--name=value` at the head of a script; value is null for a bare flag. */
export interface ScriptOption {
  name: string;
  value: string | null;
  line: number;
}

/**
 * When an event happens, in microseconds: `0.1` absolute, `+0.1` after the
 * previous event, `*` whenever, `a~b` anywhere in a range.
 */
export type EventTime =
  | { kind: 'absolute'; usecs: number }
  | { kind: 'relative'; usecs: number }
  | { kind: 'any' }
  | { kind: 'absolute-range'; usecs: number; endUsecs: number }
  | { kind: 'relative-range'; usecs: number; endUsecs: number };

/** A TCP option as written in a script, in order: `nop` and `eol` are kept, since Linux's layout is part of what is checked. */
export type TcpOptionSpec =
  | { kind: 'nop' }
  | { kind: 'eol' }
  | { kind: 'mss'; value: number }
  | { kind: 'wscale'; value: number }
  | { kind: 'sackOK' }
  | { kind: 'sack'; blocks: Array<[number, number]> }
  | { kind: 'TS'; val: number; ecr: number }
  /** TCP Fast Open (FO, FOEXP) and MD5: parsed so a script can be read, never run. */
  | { kind: 'unsupported'; name: string };

export interface PacketSpec {
  direction: '<' | '>';
  /** tcpdump's letters as written: "S", "S.", ".", "P.", "F.", "R", "-" (none), with E and W for ECN. */
  flags: string;
  /** IP-level decorations such as `[ect0]` or `(tos 0x4)`, as written; the runner supports none. */
  ipInfo: string | null;
  seq: number;
  end: number;
  length: number;
  ack: number | null;
  window: number | null;
  urgent: number | null;
  /** null: no `<...>` at all (the packet carries no options); 'any': `<...>` (options are not checked). */
  options: TcpOptionSpec[] | 'any' | null;
}

/** An argument or return value of a system call. */
export type Expr =
  | { kind: 'ellipsis' }
  | { kind: 'int'; value: number; text: string }
  | { kind: 'word'; name: string }
  | { kind: 'string'; value: string; ellipsis: boolean }
  | { kind: 'list'; items: Expr[] }
  | { kind: 'struct'; items: Expr[] }
  | { kind: 'call'; name: string; args: Expr[] }
  | { kind: 'bind'; target: Expr; value: Expr }
  | { kind: 'or'; left: Expr; right: Expr }
  | { kind: 'neg'; value: Expr };

export interface SyscallSpec {
  name: string;
  args: Expr[];
  result: Expr;
  /** errno symbol after the result, e.g. EINPROGRESS. */
  errno: string | null;
  /** The strace-style note in parentheses, e.g. "Operation now in progress". */
  note: string | null;
  /** For a call that blocks (`+0...0.200`): when it should return, as the end time was written. */
  end: { usecs: number } | null;
}

export type Action =
  | { kind: 'packet'; packet: PacketSpec }
  | { kind: 'syscall'; call: SyscallSpec }
  | { kind: 'command'; text: string }
  | { kind: 'code'; text: string }
  /** A UDP or ICMP packet line: read past, refused when run. */
  | { kind: 'unsupported'; what: string };

export interface Event {
  line: number;
  time: EventTime;
  action: Action;
  /** The event's text as written (whitespace squeezed), for messages. */
  text: string;
}

export interface Script {
  path: string;
  options: ScriptOption[];
  /** The backquoted command before the first event (usually `../common/defaults.sh`). */
  init: { text: string; line: number } | null;
  events: Event[];
  /** A backquoted command after the last event (usually a sysctl restore). */
  cleanup: { text: string; line: number } | null;
}
