/**
 * The Node adapter of the packetdrill runner: finding scripts on disk (files
 * named, or every `*.pkt` under a directory, in name order) and reading
 * them. Everything else in src/packetdrill/ is portable.
 */
import { readdir, readFile, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { PacketdrillError } from './ast.js';
import { parseScript } from './parser.js';
import { runScript, type RunOptions, type Verdict } from './runner.js';

export interface ScriptResult {
  path: string;
  verdict: Verdict;
}

/** Every script under the paths: a file as given, a directory's `*.pkt` files recursively, sorted. */
export async function findScripts(paths: string[]): Promise<string[]> {
  const out: string[] = [];
  for (const path of paths) {
    let info;
    try {
      info = await stat(path);
    } catch (e) {
      throw new PacketdrillError('ERR_PACKETDRILL_READ', path, 0, `cannot read: ${(e as NodeJS.ErrnoException).code ?? (e as Error).message}`);
    }
    if (info.isDirectory()) out.push(...(await walk(path)));
    else out.push(path);
  }
  return out;
}

async function walk(dir: string): Promise<string[]> {
  const entries = (await readdir(dir, { withFileTypes: true })).sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
  const out: string[] = [];
  for (const e of entries) {
    const path = join(dir, e.name);
    if (e.isDirectory()) out.push(...(await walk(path)));
    else if (e.isFile() && e.name.endsWith('.pkt')) out.push(path);
  }
  return out;
}

/** Reads, parses and runs one script; a script that cannot be read or parsed is an error verdict naming its line. */
export async function runFile(path: string, options: RunOptions = {}): Promise<ScriptResult> {
  let source: string;
  try {
    source = await readFile(path, 'utf8');
  } catch (e) {
    return { path, verdict: { status: 'error', line: 0, message: `cannot read: ${(e as NodeJS.ErrnoException).code ?? (e as Error).message}` } };
  }
  try {
    return { path, verdict: await runScript(parseScript(source, path), options) };
  } catch (e) {
    if (e instanceof PacketdrillError) return { path, verdict: { status: 'error', line: e.line, message: `parse error: ${e.reason}` } };
    throw e;
  }
}
