/**
 * The README's examples run as written, so a new user can follow it top to
 * bottom. Its code blocks follow one convention, stated in the README:
 *  - `js`: run with node as an ES module from the clone's root (`protostack`
 *    resolves to the clone itself); a `// → X` comment says the line prints X,
 *    and those lines must appear in the output, in order;
 *  - `console`: a transcript; each `$ command` runs in bash from the clone's
 *    root (`protostack` being the built CLI) and must exit 0 and print the
 *    lines shown, compared with numbers, ports and times blanked out and
 *    `...` standing for lines left out; `command &` runs in the background
 *    until the block ends;
 *  - `mermaid`: the diagram `demo --mermaid` draws, compared the same way;
 *  - `sh` (set-up commands, which are what runs this test) and `text`
 *    (output shown for reading) are not run. A block with no tag, or another
 *    tag, fails the test: every block says what it is.
 * The README also points at nothing outside the repository.
 */
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdirSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, test } from 'node:test';
import { cli, MAIN, ROOT, shell } from './run.js';

const README = readFileSync(join(ROOT, 'README.md'), 'utf8');
const TAGS = new Set(['js', 'console', 'mermaid', 'sh', 'text']);

interface Block {
  tag: string;
  body: string;
  /** Line number of the opening fence, for messages. */
  line: number;
}

function blocks(markdown: string): Block[] {
  const out: Block[] = [];
  const lines = markdown.split('\n');
  for (let i = 0; i < lines.length; i++) {
    const open = /^```(\S*)\s*$/.exec(lines[i]!);
    if (!open) continue;
    const start = i;
    const body: string[] = [];
    for (i++; i < lines.length && lines[i] !== '```'; i++) body.push(lines[i]!);
    assert.ok(i < lines.length, `README.md:${start + 1}: a code block that never closes`);
    out.push({ tag: open[1]!, body: body.join('\n'), line: start + 1 });
  }
  return out;
}

const all = blocks(README);
// Files the examples write in the clone's root (demo.pcap, hello.pcap, demo.mmd) are removed afterwards.
const before = new Set(readdirSync(ROOT));
const scratch = join(ROOT, 'dist', 'readme-examples');
after(() => {
  for (const name of readdirSync(ROOT)) if (!before.has(name)) rmSync(join(ROOT, name), { recursive: true, force: true });
  rmSync(scratch, { recursive: true, force: true });
});

/** A line of output with what varies from run to run blanked: numbers (times, ports, ids, sizes), runs of spaces. */
function normal(line: string): string {
  return line
    .replace(/\d+(?:\.\d+)?/g, '0')
    .replace(/\s+/g, ' ')
    .trim();
}

/**
 * Every shown line must be a line of the output, once both are made normal. A timeline
 * row may be split in one run and not in another (whether a call was still waiting when
 * its side began the next is a matter of microseconds on a real clock), so the "…" that
 * marks the two halves is dropped, and a "… waits until" half only needs its call.
 */
function assertShown(shown: string[], actual: string, where: string): void {
  const rows = actual.split('\n').map((l) => normal(l.replace(/… (?!waits until)/g, '')));
  const set = new Set(rows);
  for (const line of shown) {
    if (line.trim() === '' || line.trim() === '...') continue;
    const waits = /^(\s*\+[\d.]+ ms\s.*?)\s*… waits until \+/.exec(line);
    if (waits) {
      const call = normal(waits[1]!);
      assert.ok(rows.some((r) => r === call || r.startsWith(`${call} `)), `${where}: no call like\n  ${line}\nin the output:\n${actual}`);
      continue;
    }
    assert.ok(set.has(normal(line.replace(/… (?!waits until)/g, ''))), `${where}: the README shows\n  ${line}\nbut the output has no such line:\n${actual}`);
  }
}

test('every code block is tagged js, console, mermaid, sh or text, and the set-up commands come first', () => {
  for (const b of all) assert.ok(TAGS.has(b.tag), `README.md:${b.line}: a block tagged '${b.tag}'; use js, console, mermaid, sh or text`);
  const [first] = all;
  assert.equal(first!.tag, 'sh');
  const commands = first!.body.split('\n').map((l) => l.replace(/#.*$/, '').trim());
  assert.deepEqual(commands, ['npm install && npm run demo', 'npm test']);
  assert.ok(README.indexOf('```sh') < README.indexOf('\n## '), 'before any section');
});

test('the README points at nothing outside the repository, and "seed" means only --seed', () => {
  for (const m of README.matchAll(/\]\(([^)\s]+)\)/g)) {
    const target = m[1]!;
    if (/^[a-z]+:\/\//.test(target) || target.startsWith('#')) continue;
    assert.ok(!target.startsWith('..'), `a link out of the clone: ${target}`);
    assert.ok(existsSync(join(ROOT, target)), `a link to a file the clone does not have: ${target}`);
  }
  assert.doesNotMatch(README, /\.\.\/shared|seed's|\bthe seed\b/i);
  for (const m of README.matchAll(/seed/gi)) {
    const around = README.slice(m.index! - 12, m.index! + 12);
    assert.match(around, /--seed|seed: 1|seed 1|seeded|seed N|a seed replays|one seed replays|Network\(\{ seed/, `"seed" used for something else: …${around}…`);
  }
});

const js = all.filter((b) => b.tag === 'js');
for (const [i, b] of js.entries()) {
  test(`README.md:${b.line}: the js example runs and prints what its comments say`, async () => {
    mkdirSync(scratch, { recursive: true });
    const file = join(scratch, `example-${i + 1}.mjs`);
    writeFileSync(file, b.body);
    const r = await shell('node', [file], { timeout: 60_000 });
    assert.equal(r.code, 0, `README.md:${b.line} exited ${r.code}:\n${r.stderr}`);
    assert.doesNotMatch(r.stderr, /^\s+at /m, 'no stack trace');
    const expected = [...b.body.matchAll(/\/\/ → (.*)$/gm)].map((m) => m[1]!.trim());
    assert.ok(expected.length > 0, 'the example says what it prints');
    const lines = r.stdout.split('\n').map((l) => l.trim());
    let at = 0;
    for (const want of expected) {
      const found = lines.indexOf(want, at);
      assert.ok(found >= 0, `README.md:${b.line}: expected a line '${want}' (after line ${at}) in:\n${r.stdout}`);
      at = found + 1;
    }
  });
}

/** A transcript: the commands and, after each, the lines it is shown to print. */
function transcript(body: string): { command: string; output: string[] }[] {
  const steps: { command: string; output: string[] }[] = [];
  for (const line of body.split('\n')) {
    if (line.startsWith('$ ')) steps.push({ command: line.slice(2), output: [] });
    else {
      assert.ok(steps.length > 0, `output before any command: ${line}`);
      steps.at(-1)!.output.push(line);
    }
  }
  return steps;
}

/** The command as bash runs it: `protostack` is the clone's built CLI, as `npm link` would make it. */
function bashCommand(command: string): string {
  return command.replace(/(^|[;&|]\s*)protostack\b/g, `$1node ${MAIN}`);
}

const consoles = all.filter((b) => b.tag === 'console');
for (const b of consoles) {
  const steps = transcript(b.body);
  test(`README.md:${b.line}: the transcript's commands print what it shows (${steps.map((s) => s.command.split(' ').slice(0, 2).join(' ')).join('; ')})`, async () => {
    const background: ChildProcess[] = [];
    try {
      for (const step of steps) {
        const where = `README.md:${b.line} \`${step.command}\``;
        if (step.command.endsWith('&')) {
          // A server: started, and shown to print its first line; stopped when the block ends.
          const child = spawn('bash', ['-c', `exec ${bashCommand(step.command.slice(0, -1).trim())}`], { cwd: ROOT, stdio: ['ignore', 'pipe', 'pipe'] });
          background.push(child);
          let out = '';
          child.stdout!.on('data', (d) => (out += d));
          child.stderr!.on('data', (d) => (out += d));
          const want = step.output.filter((l) => l.trim() !== '' && l.trim() !== '...').length;
          for (let i = 0; i < 200 && out.split('\n').length <= want; i++) await new Promise((r) => setTimeout(r, 50));
          assertShown(step.output, out, where);
          continue;
        }
        const r = await shell('bash', ['-c', bashCommand(step.command)], { timeout: 60_000 });
        assert.equal(r.code, 0, `${where} exited ${r.code}:\n${r.stderr}`);
        assert.doesNotMatch(r.stderr, /^\s+at /m, `${where}: no stack trace`);
        assertShown(step.output, r.stdout + r.stderr, where);
      }
    } finally {
      for (const child of background) child.kill('SIGTERM');
      await Promise.all(background.map((c) => (c.exitCode !== null ? undefined : new Promise((r) => c.once('exit', r)))));
    }
  });
}

test('the mermaid block is what demo --mermaid draws', async () => {
  const diagrams = all.filter((b) => b.tag === 'mermaid');
  assert.equal(diagrams.length, 1);
  const r = await cli(['demo', '--mermaid']);
  assert.equal(r.code, 0, r.stderr);
  assertShown(diagrams[0]!.body.split('\n'), r.stdout, `README.md:${diagrams[0]!.line}`);
});
