/** Real DNS peers for the tests: dnsmasq serving a local zone on a loopback port, and dig. */
import { existsSync } from 'node:fs';
import { execFile, spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import net from 'node:net';
import { promisify } from 'node:util';

/** Debian installs it in /usr/sbin, which is not on every PATH. */
const DNSMASQ = existsSync('/usr/sbin/dnsmasq') ? '/usr/sbin/dnsmasq' : 'dnsmasq';

const run = promisify(execFile);

/** A port that was free a moment ago on 127.0.0.1 (TCP and UDP share the number for DNS). */
export async function freePort(): Promise<number> {
  const server = net.createServer();
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  const { port } = server.address() as net.AddressInfo;
  server.close();
  await once(server, 'close');
  return port;
}

export interface Dnsmasq {
  port: number;
  stop(): void;
}

/** The zone the resolver tests ask about, as dnsmasq options. */
export const DNSMASQ_ZONE = [
  '--local=/example.test/',
  '--local-ttl=60',
  '--host-record=www.example.test,192.0.2.10,2001:db8::10',
  '--host-record=v4only.example.test,192.0.2.11',
  '--txt-record=txt.example.test,hello world,second string',
  '--mx-host=example.test,mail.example.test,10',
  '--host-record=mail.example.test,192.0.2.25',
  '--cname=alias.example.test,www.example.test',
  '--cname=alias2.example.test,alias.example.test',
  '--srv-host=_http._tcp.example.test,www.example.test,80,0,5',
  // Sixty addresses: the answer needs more than 512 bytes, so without EDNS it arrives truncated.
  ...Array.from({ length: 60 }, (_, i) => `--host-record=big.example.test,198.51.100.${i + 1}`),
];

export async function startDnsmasq(extra: string[] = DNSMASQ_ZONE): Promise<Dnsmasq> {
  for (let tries = 0; tries < 5; tries++) {
    const port = await freePort();
    const child: ChildProcess = spawn(
      DNSMASQ,
      [
        '--keep-in-foreground',
        '--no-resolv',
        '--no-hosts',
        '--no-poll',
        '--conf-file=/dev/null',
        '--pid-file=',
        '--user=root',
        `--port=${port}`,
        '--listen-address=127.0.0.1',
        '--bind-interfaces',
        '--log-facility=-',
        ...extra,
      ],
      { stdio: ['ignore', 'ignore', 'pipe'] },
    );
    const started = await new Promise<boolean>((resolve, reject) => {
      let text = '';
      child.once('error', (e) => reject(new Error(`dnsmasq could not start (is the Debian package dnsmasq-base installed?): ${e.message}`)));
      child.stderr!.on('data', (d: Buffer) => {
        text += d.toString();
        if (text.includes('started')) resolve(true);
        if (text.includes('Address already in use')) resolve(false);
      });
      child.once('exit', () => resolve(false));
    });
    if (started) return { port, stop: () => child.kill() };
    child.kill();
  }
  throw new Error('dnsmasq did not start on any port');
}

/** dig's answer section, one presentation-form record per line. */
export async function dig(port: number, name: string, type: string, ...flags: string[]): Promise<string[]> {
  const { stdout } = await run('dig', [`@127.0.0.1`, '-p', String(port), name, type, '+noall', '+answer', '+time=2', '+tries=1', ...flags]);
  return stdout
    .split('\n')
    .filter((l) => l.trim() && !l.startsWith(';'))
    .map((l) => l.split(/\s+/).join(' '));
}
