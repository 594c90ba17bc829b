#!/usr/bin/env node
/** The `protostack` command. */
import { readFileSync } from 'node:fs';
import { parseArgs } from 'node:util';
import { demoCommand } from './demo-command.js';
import { playgroundCommand } from './playground.js';
import { dnsServeCommand } from './dns-serve.js';
import { getCommand } from './get.js';
import { packetdrillCommand } from './packetdrill.js';
import { serveCommand } from './serve.js';
import { resolveCommand } from './resolve.js';

const HELP = `protostack: a protocol stack you can see through

Usage:
  protostack demo [--objects N] [--http 1.0|1.1] [--url URL] [--mermaid|--json] [--har F] [--html F]
        the whole flow on loopback: gethostbyname over UDP to the project's DNS server,
        then socket, connect, write, read, close against its web server; every call of every side
  protostack demo --stack user [--loss P] [--corrupt P] [--pcap FILE] [--seed N] [...]
        the same on protostack's own TCP/IP: three hosts on a simulated link, on virtual time
  protostack resolve NAME [TYPE] [@SERVER[:PORT]] [--tcp] [--short] [--timeout MS]
        one DNS question through the resolver, printed as dig prints it
  protostack dns-serve ZONEFILE [--port N] [--address A] [--origin NAME]
        an authoritative DNS server for a zone file (default 127.0.0.1:5353)
  protostack get URL [-v] [-o FILE] [-H 'N: V'] [-X M] [-d DATA] [-L] [-I] [-f] [-w FMT] [-m SECS] [...]
        fetch a URL as curl does, with curl's exit codes; -v shows every head and socket call
  protostack serve [DIR] [--port N] [--host H] [--no-listing] [--workers N|auto] [--quiet]
        serve DIR's files over HTTP/1.1 (default . on 127.0.0.1:8080)
  protostack packetdrill [-v] [--markdown] PATH...
        run packetdrill scripts against the user-space TCP: PASS, FAIL (line, expected, got) or SKIP
  protostack playground [--out FILE.html]
        write one offline page that runs demo --stack user in the browser (loss, seed, objects, HTTP, latency)
  protostack COMMAND --help   a command's options
  protostack --version        the version

Every socket call is traced: descriptor, arguments, result, and how long
control stayed inside the socket library.
`;

function version(): string {
  const pkg = JSON.parse(readFileSync(new URL('../../../package.json', import.meta.url), 'utf8')) as { version: string };
  return pkg.version;
}

export async function main(argv: string[]): Promise<number> {
  const [first, ...rest] = argv;
  // Subcommands parse their own options.
  if (first === 'demo') return demoCommand(rest);
  if (first === 'resolve') return resolveCommand(rest);
  if (first === 'dns-serve') return dnsServeCommand(rest);
  if (first === 'get') return getCommand(rest);
  if (first === 'serve') return serveCommand(rest);
  if (first === 'packetdrill') return packetdrillCommand(rest);
  if (first === 'playground') return playgroundCommand(rest);
  const { values, positionals } = parseArgs({
    args: argv,
    allowPositionals: true,
    strict: false,
    options: { help: { type: 'boolean', short: 'h' }, version: { type: 'boolean', short: 'V' } },
  });
  if (values.version) {
    process.stdout.write(`${version()}\n`);
    return 0;
  }
  const [command] = positionals;
  if (values.help || command === undefined || command === 'help') {
    process.stdout.write(HELP);
    return 0;
  }
  switch (command) {
    default:
      process.stderr.write(`protostack: unknown command '${command}' (see protostack --help)\n`);
      return 2;
  }
}

// A reader that goes away (`protostack demo --json | head`) is not an error worth a stack trace: stop
// quietly, with the status a shell reports for a program a closed pipe ended (128 + SIGPIPE). `get`
// handles its own standard output (curl's exit code 23).
process.stderr.on('error', () => {});
if (process.argv[2] !== 'get') {
  process.stdout.on('error', (e: NodeJS.ErrnoException) => {
    if (e.code !== 'EPIPE') process.stderr.write(`protostack: cannot write standard output: ${e.code ?? e.message}\n`);
    process.exit(e.code === 'EPIPE' ? 141 : 1);
  });
}

const SUBCOMMANDS = new Set(['demo', 'resolve', 'dns-serve', 'get', 'serve', 'packetdrill', 'playground']);
main(process.argv.slice(2)).then(
  (code) => {
    process.exitCode = code;
  },
  (err: Error) => {
    // A failure no command turned into its own message: still one line, under the command's name.
    const command = process.argv[2];
    const who = command && SUBCOMMANDS.has(command) ? `protostack ${command}` : 'protostack';
    process.stderr.write(`${who}: ${err.message.split('\n')[0]}\n`);
    process.exitCode = 1;
  },
);
