/**
 * Results as the `protostack packetdrill` command prints them: one line per
 * script (`PASS path`, `FAIL path:LINE expected … got …`, `SKIP path: feature`,
 * `ERROR path:LINE message` for a script that could not be read or run), a
 * count line, and the Markdown table docs/CONFORMANCE.md holds.
 */
import type { Verdict } from './runner.js';

export interface Counted {
  path: string;
  verdict: Verdict;
}

export function resultLine(path: string, v: Verdict): string {
  switch (v.status) {
    case 'pass':
      return `PASS ${path}`;
    case 'fail':
      return `FAIL ${path}:${v.line} expected ${v.expected} got ${v.got}`;
    case 'skip':
      return `SKIP ${path}: ${v.feature}`;
    case 'error':
      return `ERROR ${path}${v.line > 0 ? `:${v.line}` : ''} ${v.message}`;
  }
}

export function summaryLine(results: Counted[]): string {
  const n = (s: Verdict['status']) => results.filter((r) => r.verdict.status === s).length;
  const errors = n('error');
  return `${n('pass')} passed, ${n('fail')} failed, ${n('skip')} skipped${errors > 0 ? `, ${errors} errors` : ''}`;
}

/** The command's exit status: 2 when a script could not be read, parsed or run, 1 when one failed, else 0. */
export function exitCode(results: Counted[]): number {
  if (results.some((r) => r.verdict.status === 'error')) return 2;
  return results.some((r) => r.verdict.status === 'fail') ? 1 : 0;
}

/** A Markdown table: script, result, and the line and reason for anything but a pass. */
export function markdownTable(results: Counted[], base = ''): string {
  const rows = ['| script | result | line | expected / reason | got |', '| --- | --- | --- | --- | --- |'];
  for (const { path, verdict: v } of results) {
    const name = `\`${base && path.startsWith(base) ? path.slice(base.length).replace(/^\//, '') : path}\``;
    switch (v.status) {
      case 'pass':
        rows.push(`| ${name} | PASS | | | |`);
        break;
      case 'fail':
        rows.push(`| ${name} | FAIL | ${v.line} | ${cell(v.expected)} | ${cell(v.got)} |`);
        break;
      case 'skip':
        rows.push(`| ${name} | SKIP | ${v.line} | ${cell(v.feature)} | |`);
        break;
      case 'error':
        rows.push(`| ${name} | ERROR | ${v.line} | ${cell(v.message)} | |`);
        break;
    }
  }
  return `${rows.join('\n')}\n`;
}

function cell(text: string): string {
  return `\`${text.replace(/\|/g, '\\|').replace(/`/g, "'")}\``;
}
