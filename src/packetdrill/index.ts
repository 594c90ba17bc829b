/** The packetdrill runner's portable surface: parse a script, run it against the user stack, report. Reading files is in node.ts. */
export { PacketdrillError, type Script, type Event, type EventTime, type PacketSpec, type SyscallSpec, type TcpOptionSpec, type Expr } from './ast.js';
export { parseScript } from './parser.js';
export { runScript, type Verdict, type RunOptions } from './runner.js';
export { resultLine, summaryLine, exitCode, markdownTable } from './report.js';
