/**
 * The configuration a script expects, from its backquoted shell commands.
 * Nothing is executed: `defaults.sh` and the sysctls a script sets are read
 * as "the machine this script was written for" and mapped onto the user
 * stack's TcpConfig and socket defaults.
 *
 * Three outcomes per setting: the stack has the knob (mapped); the stack
 * lacks the feature but the value is the one every script assumes through
 * defaults.sh (CUBIC, RACK/TLP, F-RTO, DSACK: run with the stack's own
 * behaviour, so a difference shows as a FAIL, never hidden); or the script
 * asks for something the stack cannot do, and it is skipped naming it.
 */
import type { TcpConfig } from '../stack/user/tcp/config.js';

export interface RunConfig {
  tcp: Partial<TcpConfig>;
  /** Socket defaults from tcp_rmem / tcp_wmem (the middle values), in bytes. */
  recvBufferSize: number;
  sendBufferSize: number;
  /** tcp_rmem's largest value: Linux picks the window scale so a window this large fits. */
  maxRecvBuffer: number;
  /** An fq qdisc was installed: Linux would pace the flow. */
  fq: boolean;
  /** Settings read as assumed rather than honoured, for verbose output: "tcp_congestion_control=cubic". */
  assumed: string[];
}

/** The sysctls of packetdrill's tcp/common/defaults.sh, as Linux applies them. */
export const DEFAULTS_SH: ReadonlyArray<[string, string]> = [
  ['tcp_rmem', `4096 540000 ${15 * 1024 * 1024}`],
  ['tcp_wmem', `4096 ${256 * 1024} 4194304`],
  ['tcp_timestamps', '1'],
  ['tcp_syn_retries', '5'],
  ['tcp_synack_retries', '5'],
  ['tcp_frto', '2'],
  ['tcp_sack', '1'],
  ['tcp_dsack', '1'],
  ['tcp_fack', '0'],
  ['tcp_reordering', '3'],
  ['tcp_congestion_control', 'cubic'],
  ['tcp_slow_start_after_idle', '0'],
  ['tcp_early_retrans', '4'],
  ['tcp_recovery', '1'],
  ['tcp_tso_win_divisor', '3'],
  ['tcp_ecn', '0'],
  ['tcp_ecn_option', '2'],
  ['tcp_pacing_ss_ratio', '200'],
  ['tcp_pacing_ca_ratio', '120'],
  ['tcp_notsent_lowat', '4294967295'],
  ['tcp_fastopen', '0x70403'],
  ['tcp_fastopen_key', 'a1a1a1a1-b2b2b2b2-c3c3c3c3-d4d4d4d4'],
  ['tcp_syncookies', '1'],
];

export function baseConfig(): RunConfig {
  const config: RunConfig = { tcp: {}, recvBufferSize: 0, sendBufferSize: 0, maxRecvBuffer: 0, fq: false, assumed: [] };
  for (const [name, value] of DEFAULTS_SH) {
    const skip = applySysctl(name, value, config);
    if (skip) throw new Error(`defaults.sh's ${name}=${value} does not map: ${skip}`);
  }
  return config;
}

type Handler = (value: string, config: RunConfig) => string | null;

const bool = (field: 'timestamps' | 'sack'): Handler => (v, c) => {
  if (v !== '0' && v !== '1') return 'a value other than 0 or 1';
  c.tcp[field] = v === '1';
  return null;
};

const count = (field: 'synRetries' | 'synAckRetries'): Handler => (v, c) => {
  const n = Number(v);
  if (!Number.isInteger(n) || n < 1 || n > 255) return 'not a retry count';
  c.tcp[field] = n;
  return null;
};

/** The value the stack already behaves as; anything else is a skip, the feature named. */
const only = (values: string[], missing: string): Handler => (v) => (values.includes(v) ? null : missing);

/** The defaults.sh value is assumed (the stack lacks the feature; differences show as FAILs); `off` values match the stack. */
const assumed = (name: string, defaultValue: string, off: string[], missing: string): Handler => (v, c) => {
  if (v === defaultValue) {
    c.assumed.push(`${name}=${v}`);
    return null;
  }
  return off.includes(v) ? null : missing;
};

const SYSCTLS: Record<string, Handler> = {
  tcp_rmem: (v, c) => {
    const [low, mid, high] = v.trim().split(/\s+/).map(Number);
    if (!low || !mid || !high || mid < low || high < mid) return 'not "min default max"';
    c.recvBufferSize = mid;
    c.maxRecvBuffer = high;
    return null;
  },
  tcp_wmem: (v, c) => {
    const [low, mid, high] = v.trim().split(/\s+/).map(Number);
    if (!low || !mid || !high || mid < low || high < mid) return 'not "min default max"';
    c.sendBufferSize = mid;
    return null;
  },
  tcp_timestamps: bool('timestamps'),
  tcp_sack: bool('sack'),
  tcp_syn_retries: count('synRetries'),
  tcp_synack_retries: count('synAckRetries'),
  tcp_syncookies: (v, c) => {
    if (v !== '0' && v !== '1' && v !== '2') return 'a value other than 0, 1 or 2';
    c.tcp.synCookies = Number(v) as 0 | 1 | 2;
    return null;
  },
  tcp_congestion_control: (v, c) => {
    if (v === 'reno' || v === 'cubic') {
      c.tcp.congestionControl = v === 'reno' ? 'newreno' : 'cubic';
      return null;
    }
    return assumed('tcp_congestion_control', 'cubic', [], `congestion control ${v}`)(v, c);
  },
  tcp_frto: assumed('tcp_frto', '2', ['0'], 'an F-RTO variant'),
  tcp_dsack: assumed('tcp_dsack', '1', ['0'], 'DSACK'),
  tcp_recovery: assumed('tcp_recovery', '1', ['0'], 'a RACK variant'),
  tcp_early_retrans: assumed('tcp_early_retrans', '4', ['0'], 'an early-retransmit variant'),
  tcp_fack: only(['0'], 'FACK'),
  tcp_reordering: only(['3'], 'a duplicate threshold other than 3'),
  tcp_slow_start_after_idle: only(['0'], 'slow start after idle: the stack never restarts cwnd after idle'),
  tcp_ecn: only(['0'], 'ECN'),
  tcp_notsent_lowat: only(['4294967295', '-1'], 'TCP_NOTSENT_LOWAT'),
  // Options whose effect needs a feature a script would use explicitly (ECN, Fast Open), or only
  // sizes TSO bursts and paces with fq: the matcher joins segments into superpackets, and fq is
  // judged where it is installed.
  tcp_ecn_option: () => null,
  tcp_fastopen: () => null,
  tcp_fastopen_key: () => null,
  tcp_tso_win_divisor: () => null,
  tcp_min_tso_segs: () => null,
  tcp_pacing_ss_ratio: () => null,
  tcp_pacing_ca_ratio: () => null,
};

/** Applies one sysctl (`net.ipv4.` or `/proc/sys/net/ipv4/` prefix already removed); returns a skip reason or null. */
export function applySysctl(name: string, value: string, config: RunConfig): string | null {
  const handler = SYSCTLS[name];
  if (!handler) return `sysctl ${name}=${value}`;
  const skip = handler(value, config);
  return skip === null ? null : `${skip} (sysctl ${name}=${value})`;
}

/**
 * Applies a backquoted command (several lines, `\` continuations, `#`
 * comments). Returns null when every part was understood and honoured, else
 * the first thing the stack cannot do, for a SKIP.
 */
export function applyCommand(text: string, config: RunConfig, hasOutboundData: boolean): string | null {
  const joined = text.replace(/\\\r?\n/g, ' ');
  for (const raw of joined.split('\n')) {
    const line = raw.replace(/(^|\s)#.*$/, '').trim();
    if (line === '') continue;
    const skip = applyLine(line, config, hasOutboundData);
    if (skip) return skip;
  }
  return null;
}

function applyLine(line: string, config: RunConfig, hasOutboundData: boolean): string | null {
  // Redirections only silence the command.
  const words = splitWords(line.replace(/\s*\d?>\s*\/dev\/null|\s*2>&1/g, ''));
  const cmd = words[0] ?? '';
  if (/(^|\/)defaults\.sh$/.test(cmd)) {
    for (const [name, value] of DEFAULTS_SH) applySysctl(name, value, config);
    return null;
  }
  if (/^\/tmp\/sysctl_restore_/.test(cmd)) return null; // the restore step at a script's end
  if (cmd === 'sysctl') {
    for (const w of words.slice(1)) {
      if (w.startsWith('-')) continue;
      const skip = sysctlAssignment(w, config);
      if (skip) return skip;
    }
    return null;
  }
  if (/(^|\/)set_sysctls\.py$/.test(cmd)) {
    for (const w of words.slice(1)) {
      const skip = sysctlAssignment(w, config);
      if (skip) return skip;
    }
    return null;
  }
  if (cmd === 'ip' && words[1] === 'tcp_metrics') return null;
  if (cmd === 'ethtool' && words.includes('-K') && words.slice(3).every((w) => w === 'off' || /^(tso|gso|gro|lro)$/.test(w))) return null;
  if (cmd === 'tc' && words[1] === 'qdisc') return qdisc(words, config, hasOutboundData);
  if (cmd === 'echo' && words[2] === '>' && words[3]?.startsWith('/sys/module/tcp_cubic/parameters/')) {
    const param = words[3].slice('/sys/module/tcp_cubic/parameters/'.length);
    // 3 (HYSTART_ACK_TRAIN | HYSTART_DELAY) is Linux's default: the CUBIC every script assumes.
    if (param === 'hystart_detect' && words[1] === '3') {
      config.assumed.push('hystart_detect=3');
      return null;
    }
    return `CUBIC parameter ${param}=${words[1]}`;
  }
  return `shell command \`${line}\``;
}

function qdisc(words: string[], config: RunConfig, hasOutboundData: boolean): string | null {
  const op = words[2];
  if (op === 'delete' || op === 'del') return null;
  const kind = words[words.indexOf('root') + 1];
  if (kind === 'pfifo' || kind === 'pfifo_fast') {
    const limit = words.indexOf('limit');
    if (limit > 0 && Number(words[limit + 1]) === 0) return 'a local qdisc that drops every packet (tc pfifo limit 0)';
    return null;
  }
  if (kind === 'fq') {
    // fq paces: it moves when data segments leave, not what they carry. A script that checks no
    // outgoing data segment (only the handshake, and state through tcpi_*) does not depend on it.
    config.fq = true;
    return hasOutboundData ? 'fq qdisc pacing (tc qdisc ... fq)' : null;
  }
  return `qdisc ${kind ?? '?'}`;
}

function sysctlAssignment(word: string, config: RunConfig): string | null {
  const eq = word.indexOf('=');
  if (eq < 0) return `sysctl ${word} without a value`;
  const key = word.slice(0, eq).replace(/^\/proc\/sys\//, '').replace(/\//g, '.');
  const value = word.slice(eq + 1);
  if (!key.startsWith('net.ipv4.')) return `sysctl ${key}`;
  return applySysctl(key.slice('net.ipv4.'.length), value, config);
}

/** Shell words, with "double quotes" kept together and $((a*b)) arithmetic worked out. */
function splitWords(line: string): string[] {
  const expanded = line.replace(/\$\(\(\s*(\d+)\s*\*\s*(\d+)\s*\*\s*(\d+)\s*\)\)/g, (_m, a: string, b: string, c: string) => String(Number(a) * Number(b) * Number(c)));
  const out: string[] = [];
  const re = /(?:[^\s"]+|"[^"]*")+/g;
  for (const m of expanded.matchAll(re)) out.push(m[0].replace(/"/g, ''));
  return out;
}
