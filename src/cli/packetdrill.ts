/**
 * `protostack packetdrill [-v] PATH...`: runs packetdrill scripts (files, or
 * every *.pkt under a directory) against the user-space stack and prints one
 * line per script, PASS, FAIL with the line and what differed, or SKIP with
 * the feature the stack lacks, then the counts. Exit 1 when a script failed,
 * 2 on a usage error or a script that cannot be parsed.
 */
import { PacketdrillError } from '../packetdrill/ast.js';
import { findScripts, runFile, type ScriptResult } from '../packetdrill/node.js';
import { exitCode, markdownTable, resultLine, summaryLine } from '../packetdrill/report.js';
import { parseArgs, parseCommand, usageError } from './args.js';

export const PACKETDRILL_USAGE = `Usage: protostack packetdrill [-v] [--markdown] [--seed N] PATH...
  PATH          a packetdrill script, or a directory: every *.pkt under it, in name order
  -v            print every packet and call as it runs, tcpdump-like, before each result
  --markdown    print a Markdown table of the results (docs/CONFORMANCE.md's) instead of lines
  --seed N      seed for the stack's ISNs, ports and timestamps (default 1)
Each script runs on the user-space stack on virtual time, as packetdrill runs it on Linux:
  PASS path
  FAIL path:LINE expected <packet or call> got <what happened>
  SKIP path: <the feature the stack lacks>
then "N passed, N failed, N skipped". Exit status 1 if any failed, 2 on a usage error or a
script that cannot be parsed (ERROR path:LINE).
`;

export async function packetdrillCommand(args: string[]): Promise<number> {
  const parsed = parseCommand('packetdrill', PACKETDRILL_USAGE, () =>
    parseArgs({
      args,
      allowPositionals: true,
      strict: true,
      options: { help: { type: 'boolean', short: 'h' }, verbose: { type: 'boolean', short: 'v' }, markdown: { type: 'boolean' }, seed: { type: 'string' } },
    }),
  );
  if (typeof parsed === 'number') return parsed;
  const { values, positionals } = parsed;
  if (positionals.length === 0) return usageError('packetdrill', 'no script or directory given');
  const seed = values.seed === undefined ? 1 : Number(values.seed);
  if (!Number.isInteger(seed) || seed < 0 || seed > 0xffffffff) return usageError('packetdrill', `--seed wants a whole number from 0 to 4294967295, not '${values.seed}'`);
  let paths: string[];
  try {
    paths = await findScripts(positionals);
  } catch (e) {
    if (e instanceof PacketdrillError) {
      process.stderr.write(`protostack packetdrill: ${e.message}\n`);
      return 2;
    }
    throw e;
  }
  if (paths.length === 0) return usageError('packetdrill', `no *.pkt scripts under ${positionals.join(' ')}`);
  const results: ScriptResult[] = [];
  for (const path of paths) {
    const log = values.verbose ? (line: string) => process.stdout.write(`  ${line}\n`) : undefined;
    const r = await runFile(path, { seed, ...(log ? { log } : {}) });
    results.push(r);
    if (!values.markdown) process.stdout.write(`${resultLine(path, r.verdict)}\n`);
  }
  if (values.markdown) process.stdout.write(`${markdownTable(results, commonDirectory(positionals))}\n`);
  process.stdout.write(`${summaryLine(results)}\n`);
  return exitCode(results);
}

/** The one directory given, so the table names scripts relative to it. */
function commonDirectory(positionals: string[]): string {
  return positionals.length === 1 && !positionals[0]!.endsWith('.pkt') ? positionals[0]!.replace(/\/+$/, '') : '';
}
