/** Running the built `protostack` command as a user would: its exit code, stdout and stderr. */
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';

export const MAIN = new URL('../../src/cli/main.js', import.meta.url).pathname;
/** The repository's root (dist/test/cli → ../../..). */
export const ROOT = new URL('../../../', import.meta.url).pathname;

export interface Ran {
  code: number;
  stdout: string;
  stderr: string;
  ms: number;
}

/** `protostack ARGS`, bounded in time; never throws for a non-zero exit. */
export function cli(args: string[], options: { timeout?: number; cwd?: string; env?: NodeJS.ProcessEnv } = {}): Promise<Ran> {
  return shell('node', [MAIN, ...args], options);
}

/** Any program, the same way (bash -c for pipelines). */
export function shell(file: string, args: string[], options: { timeout?: number; cwd?: string; env?: NodeJS.ProcessEnv } = {}): Promise<Ran> {
  const t0 = performance.now();
  return new Promise((resolve) => {
    execFile(
      file,
      args,
      { timeout: options.timeout ?? 30_000, cwd: options.cwd ?? ROOT, env: { ...process.env, http_proxy: '', HTTP_PROXY: '', https_proxy: '', HTTPS_PROXY: '', ...options.env }, maxBuffer: 64 * 1024 * 1024 },
      (error, stdout, stderr) => {
        const code = error ? (typeof (error as { code?: unknown }).code === 'number' ? ((error as { code: number }).code) : -1) : 0;
        resolve({ code, stdout, stderr, ms: performance.now() - t0 });
      },
    );
  });
}

/** The failure a user sees: this exit code and one line on stderr, prefixed with the subcommand, with no stack trace. */
export function assertOneLineError(r: Ran, code: number, subcommand: string, pattern: RegExp): void {
  assert.equal(r.code, code, `exit code ${r.code}, want ${code}; stderr: ${r.stderr}`);
  const lines = r.stderr.trimEnd().split('\n');
  assert.equal(lines.length, 1, `one line on stderr, not:\n${r.stderr}`);
  assert.ok(lines[0]!.startsWith(`protostack ${subcommand}: `), lines[0]);
  assert.match(lines[0]!, pattern);
  assert.doesNotMatch(r.stderr, /^\s+at /m, 'no stack trace');
}
