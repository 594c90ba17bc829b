/**
 * The TUN helper's binary, under Node: native/tun-helper.c compiled with the
 * system's C compiler, once, into a cache named by the source's hash (so an
 * upgraded package never runs an old helper). `npm install` builds it
 * (scripts/build-tun-helper.mjs); if that could not, the first TunDevice
 * does. Nothing is downloaded: the source ships in the package.
 */
import { execFile } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, renameSync, rmSync } from 'node:fs';
import { homedir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { TunError } from './tun.js';

/** The package root: this file is dist/src/link/tun-helper-node.js. */
const ROOT = fileURLToPath(new URL('../../../', import.meta.url));
export const HELPER_SOURCE = join(ROOT, 'native', 'tun-helper.c');
const BUILD_TIMEOUT_MS = 60_000;

/** Where a built helper may live: inside the package first, else the user's cache (a read-only install). */
function candidates(tag: string): string[] {
  const cache = process.env['XDG_CACHE_HOME'] || join(homedir(), '.cache');
  return [join(ROOT, 'native', 'build', tag), join(cache, 'protostack', tag)];
}

let building: Promise<string> | null = null;

/** The helper's path, compiling it first when no built copy of this source exists. */
export function tunHelper(): Promise<string> {
  if (process.env['PROTOSTACK_TUN_HELPER']) return Promise.resolve(process.env['PROTOSTACK_TUN_HELPER']);
  building ??= build().finally(() => {
    building = null;
  });
  return building;
}

async function build(): Promise<string> {
  let source: Buffer;
  try {
    source = readFileSync(HELPER_SOURCE);
  } catch {
    throw new TunError('ERR_TUN_HELPER', `the TUN helper's source ${HELPER_SOURCE} is missing from the package: reinstall protostack`);
  }
  const tag = `tun-helper-${process.arch}-${createHash('sha256').update(source).digest('hex').slice(0, 12)}`;
  const places = candidates(tag);
  const built = places.find((p) => existsSync(p));
  if (built) return built;
  let lastError: unknown = null;
  for (const target of places) {
    try {
      mkdirSync(join(target, '..'), { recursive: true });
    } catch (e) {
      lastError = e;
      continue;
    }
    // Built beside the target and renamed into place: two processes building at once never run a half-written file.
    const temp = `${target}.${process.pid}.tmp`;
    try {
      await compile(temp);
      renameSync(temp, target);
      return target;
    } catch (e) {
      rmSync(temp, { force: true });
      if (e instanceof TunError) throw e;
      lastError = e;
    }
  }
  throw new TunError('ERR_TUN_HELPER', `cannot write the TUN helper into ${places.join(' or ')}: ${(lastError as Error)?.message ?? lastError}`);
}

function compile(output: string): Promise<void> {
  const cc = process.env['CC'] || 'cc';
  return new Promise((resolve, reject) => {
    execFile(cc, ['-O2', '-Wall', '-o', output, HELPER_SOURCE], { timeout: BUILD_TIMEOUT_MS }, (error, _stdout, stderr) => {
      if (!error) return resolve();
      const code = (error as NodeJS.ErrnoException).code;
      if (code === 'ENOENT') {
        reject(new TunError('ERR_TUN_NO_COMPILER', `no C compiler '${cc}' to build the TUN helper (native/tun-helper.c): install one (Debian: apt-get install gcc) or set CC`));
        return;
      }
      // A write error (read-only directory) is worth trying the next place; a compile error is not.
      if (/cannot open output file|Permission denied|Read-only/i.test(stderr)) return reject(error);
      reject(new TunError('ERR_TUN_HELPER', `building the TUN helper with ${cc} failed: ${stderr.trim().split('\n').slice(0, 3).join(' | ')}`));
    });
  });
}
