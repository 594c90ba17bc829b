/**
 * Usage mistakes, in every subcommand: protostack's own one line (prefixed
 * with the subcommand, pointing at --help), exit 2, never Node's
 * argument-parser text. An option that takes a value takes the next argument
 * as getopt does, so `--port -1` is checked as the value -1.
 */
import { test } from 'node:test';
import { assertOneLineError, cli } from './run.js';

const cases: [string[], string, RegExp][] = [
  [['serve', '--port', '-1'], 'serve', /^protostack serve: --port must be 0-65535, not '-1' \(see protostack serve --help\)$/],
  [['serve', '-p', '-1'], 'serve', /--port must be 0-65535, not '-1'/],
  [['serve', '--bogus'], 'serve', /^protostack serve: unknown option '--bogus' \(see protostack serve --help\)$/],
  [['serve', '--port'], 'serve', /--port wants a value/],
  [['serve', '--no-listing=yes'], 'serve', /--no-listing takes no value/],
  [['dns-serve', 'zone', '--port', '-1'], 'dns-serve', /--port must be 0-65535, not '-1'/],
  [['dns-serve'], 'dns-serve', /no zone file given/],
  [['dns-serve', 'zone', '-z'], 'dns-serve', /unknown option '-z'/],
  [['demo', '--objects', '0'], 'demo', /--objects wants a whole number from 1 to 1000/],
  [['demo', '--loss', '-1', '--stack', 'user'], 'demo', /--loss wants a probability/],
  [['demo', '--frobnicate'], 'demo', /unknown option '--frobnicate'/],
  [['resolve', 'x.test', '--timeout'], 'resolve', /--timeout wants a value/],
  [['get', '--max-redirs', '-3', 'http://127.0.0.1/'], 'get', /--max-redirs wants a whole number, not '-3'/],
  [['get', '-X'], 'get', /--request wants a value/],
];

for (const [args, command, pattern] of cases) {
  test(`protostack ${args.join(' ')}: one line, exit 2`, async () => {
    assertOneLineError(await cli(args), 2, command, pattern);
  });
}

test('an unknown subcommand is one line too', async () => {
  const r = await cli(['frobnicate']);
  if (r.code !== 2 || r.stderr !== "protostack: unknown command 'frobnicate' (see protostack --help)\n") throw new Error(`got ${r.code}: ${r.stderr}`);
});
