/**
 * `protostack resolve NAME [TYPE] [@SERVER[:PORT]]`: one DNS question through
 * the project's resolver and socket library, printed the way dig prints it.
 */
import { parseArgs } from 'node:util';
import { parseCommand } from './args.js';
import { parseServer } from '../dns/config.js';
import { formatMessage } from '../dns/present.js';
import { Resolver } from '../dns/resolver.js';
import { show } from '../dns/transport.js';
import { parseType } from '../wire/dns/types.js';

export const RESOLVE_USAGE = `Usage: protostack resolve NAME [TYPE] [@SERVER[:PORT]] [--tcp] [--timeout MS] [--short]
  TYPE      A (default), AAAA, MX, TXT, NS, SOA, CNAME, PTR, SRV, ANY or TYPEnnn
  @SERVER   ask this server (127.0.0.1, 127.0.0.1:5353, [::1]:53) instead of resolv.conf's
  --tcp     ask over TCP
  --short   print only the answers' data
`;

export async function resolveCommand(args: string[]): Promise<number> {
  const parsed = parseCommand('resolve', RESOLVE_USAGE, () =>
    parseArgs({
      args,
      allowPositionals: true,
      strict: true,
      options: { help: { type: 'boolean', short: 'h' }, tcp: { type: 'boolean' }, timeout: { type: 'string' }, short: { type: 'boolean' } },
    }),
  );
  if (typeof parsed === 'number') return parsed;
  const { values, positionals } = parsed;
  const server = positionals.find((p) => p.startsWith('@'));
  const rest = positionals.filter((p) => !p.startsWith('@'));
  const [name, typeText = 'A'] = rest;
  if (!name || rest.length > 2) {
    process.stderr.write(RESOLVE_USAGE);
    return 2;
  }
  const type = parseType(typeText);
  if (type === null) {
    process.stderr.write(`protostack resolve: unknown type ${typeText}\n`);
    return 2;
  }
  const timeout = values.timeout ? Number(values.timeout) : undefined;
  const resolver = new Resolver({
    hosts: false,
    ...(server ? { servers: [parseServer(server.slice(1))], resolvConf: false } : {}),
    ...(values.tcp ? { tcp: true } : {}),
    ...(timeout ? { timeout } : {}),
    attempts: 1,
  });
  try {
    const when = new Date();
    const r = await resolver.query(name.replace(/\.$/, ''), type);
    if (values.short) {
      const { formatRdata } = await import('../dns/present.js');
      for (const rec of r.response.answers) process.stdout.write(`${formatRdata(rec)}\n`);
      return 0;
    }
    process.stdout.write(
      [
        `; <<>> protostack resolve <<>> ${name} ${typeText.toUpperCase()}${server ? ` ${server}` : ''}`,
        formatMessage(r.response),
        '',
        `;; Query time: ${Math.round(r.elapsed)} msec`,
        `;; SERVER: ${show(r.server)} (${r.via.toUpperCase()})`,
        `;; WHEN: ${when.toUTCString()}`,
        `;; MSG SIZE  rcvd: ${r.size}`,
        '',
      ].join('\n'),
    );
    return 0;
  } finally {
    await resolver.close();
  }
}
