/** `protostack demo`: options, then the trace in the form asked for. */
import { renderHar } from '../trace/har.js';
import { renderHtml } from '../trace/html.js';
import { renderJson } from '../trace/json.js';
import { renderMermaid } from '../trace/mermaid.js';
import { renderPacketMermaid } from '../trace/mermaid-packets.js';
import { renderTimeline } from '../trace/text.js';
import { PcapWriter } from '../link/pcap.js';
import { writePcapFile } from '../link/pcap-file-node.js';
import { KernelStack } from '../stack/kernel/stack.js';
import { formatSummary, runDemo, type DemoResult } from './demo.js';
import { formatUserSummary, MAX_LOSS, runUserDemo, USER_DEMO_ADDRESSES, type UserDemoResult } from './demo-user.js';
import { parseArgs, parseCommand, usageError } from './args.js';
import { writeReport } from './report.js';
import { FlagError } from './limits.js';
import { openTunStack, TUN_OPTIONS, TUN_USAGE, tunFailure, tunFlags, type TunFlags } from './tun.js';

export const DEMO_USAGE = `Usage: protostack demo [--objects N] [--http 1.0|1.1] [--url URL]
       protostack demo --stack user [--loss P] [--corrupt P] [--pcap FILE] [--seed N] [--objects N] [--http 1.0|1.1] [--no-packets]
  --objects N     fetch N objects (a page and N-1 pictures); default 1
  --http 1.0|1.1  1.0: a connect…close cycle per object (default);
                  1.1: one connection kept for all of them
  --url URL       the same flow against any http:// server (the system's resolver config applies)
  --stack S       kernel: the OS's TCP/IP on loopback (default);
                  user: protostack's own TCP/IP, the client, DNS server and web server being
                  three hosts on a simulated link (${USER_DEMO_ADDRESSES.client}, ${USER_DEMO_ADDRESSES.dns}, ${USER_DEMO_ADDRESSES.web}) on virtual time
  --loss P        (--stack user) the probability the link loses a packet, 0 to ${MAX_LOSS}; default 0
  --corrupt P     (--stack user) the probability the link flips a bit of a packet (the receiver's
                  checksum drops it), 0 to ${MAX_LOSS}; default 0
  --pcap FILE     (--stack user) write every packet on the link to FILE (tshark -r FILE, Wireshark)
  --seed N        (--stack user) the run's seed, 0 to 4294967295; a seed replays the run to the byte; default 1
  --packets       (--stack user, the default there) record every packet each host sends and receives:
                  the timeline shows them under the call they served, --mermaid draws them as arrows
                  between the hosts, --html offers both diagrams; --no-packets leaves them out
  --mermaid       print the trace as a Mermaid sequenceDiagram
  --json          print the trace as JSON
  --har FILE      write the HTTP exchanges as HAR 1.2 (dns/connect/send/wait/receive timings)
  --html FILE     write one self-contained page with the diagram and the timeline (works offline)
       protostack demo --url URL --tun NAME --address A.B.C.D/LEN [--mtu N] [--pcap FILE] [...]
        the client on protostack's own TCP/IP, against a server on Linux's side of the interface
${TUN_USAGE}`;

export async function demoCommand(args: string[]): Promise<number> {
  const parsed = parseCommand('demo', DEMO_USAGE, () =>
    parseArgs({
      args,
      allowPositionals: true,
      strict: true,
      options: {
        help: { type: 'boolean', short: 'h' },
        objects: { type: 'string' },
        http: { type: 'string' },
        url: { type: 'string' },
        mermaid: { type: 'boolean' },
        json: { type: 'boolean' },
        har: { type: 'string' },
        html: { type: 'string' },
        stack: { type: 'string' },
        // --loss, --corrupt and --seed come with TUN_OPTIONS; here they apply to the simulated network too.
        ...TUN_OPTIONS,
        packets: { type: 'boolean' },
        'no-packets': { type: 'boolean' },
      },
    }),
  );
  if (typeof parsed === 'number') return parsed;
  const { values } = parsed;
  const objects = values.objects === undefined ? 1 : Number(values.objects);
  if (!Number.isInteger(objects) || objects < 1 || objects > 1000) {
    return usage('--objects wants a whole number from 1 to 1000');
  }
  const http = values.http ?? '1.0';
  if (http !== '1.0' && http !== '1.1') {
    return usage('--http is 1.0 or 1.1');
  }
  const stack = values.stack ?? 'kernel';
  if (stack !== 'kernel' && stack !== 'user') return usage('--stack is kernel or user');
  const user = stack === 'user';
  let tun: TunFlags | null;
  try {
    tun = tunFlags(values, ['loss', 'corrupt', 'seed', 'pcap']);
  } catch (e) {
    if (e instanceof FlagError) return usage(e.message);
    throw e;
  }
  if (tun && (user || values.stack !== undefined)) return usage('--tun is a stack of its own: leave out --stack');
  if (tun && !values.url) return usage('--tun needs --url: the client runs on the interface, against a server on Linux\'s side');
  for (const option of ['loss', 'corrupt', 'pcap', 'seed'] as const) if (values[option] !== undefined && !user && !tun) return usage(`--${option} needs --stack user (it applies to the simulated network)`);
  if (user && values.url) return usage('--url needs --stack kernel: the simulated network reaches no other server');
  const loss = values.loss === undefined ? 0 : Number(values.loss);
  if (values.loss !== undefined && (values.loss.trim() === '' || !(loss >= 0 && loss <= MAX_LOSS))) return usage(`--loss wants a probability from 0 to ${MAX_LOSS}`);
  const corrupt = values.corrupt === undefined ? 0 : Number(values.corrupt);
  if (values.corrupt !== undefined && (values.corrupt.trim() === '' || !(corrupt >= 0 && corrupt <= MAX_LOSS))) return usage(`--corrupt wants a probability from 0 to ${MAX_LOSS}`);
  const seed = values.seed === undefined ? 1 : Number(values.seed);
  if (values.seed !== undefined && (!/^\d+$/.test(values.seed) || seed > 0xffff_ffff)) return usage('--seed wants a whole number from 0 to 4294967295');
  if (values.pcap === '') return usage('--pcap wants a file name');
  if (values.packets && !user) return usage('--packets needs --stack user (only protostack\'s own stack has packet taps)');
  if (values.packets && values['no-packets']) return usage('--packets and --no-packets contradict each other');
  const packets = user && !values['no-packets'];

  let result: DemoResult | UserDemoResult;
  if (user) {
    const capture = new PcapWriter();
    try {
      result = await runUserDemo({ objects, http, seed, loss, corrupt, packets, capture });
    } finally {
      // Even a failed run's capture is written: it shows why it failed.
      if (values.pcap) writePcapFile(capture, values.pcap);
    }
  }
  else if (tun) {
    let attached;
    try {
      attached = await openTunStack(tun, 'client');
    } catch (e) {
      process.stderr.write(`protostack demo: ${tunFailure(e) ?? (e as Error).message}\n`);
      return 1;
    }
    try {
      result = await runDemo({ objects, http, url: values.url!, stack: attached.stack });
    } finally {
      await attached.close();
    }
  } else result = await runDemo({ objects, http, stack: new KernelStack(), ...(values.url ? { url: values.url } : {}) });
  const simulated = 'capture' in result ? result : null;
  const events = result.trace.events;
  const notShown = simulated && simulated.packetBudget.notShown > 0 ? { packetsNotShown: simulated.packetBudget.notShown } : {};
  const title = `protostack demo: ${objects} object${objects === 1 ? '' : 's'} over HTTP/${http}${simulated ? `, user-space stack, loss ${simulated.link.loss}, seed ${simulated.seed}` : ''}`;
  if (values.har && !(await writeReport('demo', values.har, JSON.stringify(renderHar(events, { creator: { name: 'protostack', version: '0.1.0' }, ...(simulated ? { wallClockAt0: simulated.wallClockAt0 } : {}) }), null, 2), 'HAR 1.2'))) return 1;
  if (values.html && !(await writeReport('demo', values.html, renderHtml(events, { title, packets, ...notShown }), 'HTML report'))) return 1;
  if (values.mermaid) {
    process.stdout.write(packets ? renderPacketMermaid(events, { title, ...notShown }) : renderMermaid(events, { title }));
    return 0;
  }
  if (values.json) {
    const meta = simulated
      ? { command: 'demo', objects, http, stack: 'user', seed: simulated.seed, loss: simulated.link.loss, hosts: Object.fromEntries(simulated.hosts.map((h) => [h.who, { address: h.address, counters: h.stack.counters.snapshot() }])), link: simulated.linkStats }
      : { command: 'demo', objects, http };
    process.stdout.write(renderJson(events, meta));
    return 0;
  }
  const where = simulated
    ? ` on a simulated link (${USER_DEMO_ADDRESSES.client} → DNS ${USER_DEMO_ADDRESSES.dns}, web ${USER_DEMO_ADDRESSES.web}),\nthrough the socket library over protostack's user-space stack.`
    : `${values.url ? ` against ${values.url}` : ' on loopback'},\nthrough the socket library over ${tun ? `protostack's user-space stack on ${tun.name}` : 'the kernel stack'}.`;
  process.stdout.write(
    [
      `protostack demo: gethostbyname, then socket, connect, write, read, close${where}`,
      '',
      formatSummary(result.summary),
      ...(simulated ? [formatUserSummary(simulated)] : []),
      ...(simulated && values.pcap ? [`  ${simulated.linkStats.sent} packets captured in ${values.pcap} (tshark -r ${values.pcap}, or open it in Wireshark)`] : []),
      '',
      `Every socket call of every side, in the order it began; "waited" is how long control stayed in the socket library${simulated ? ' (virtual time)' : ''}.`,
      'A call still waiting when its side began another is shown twice: "… waits until +T" where it began, its result where it returned.',
      '"stopped waiting: fd N was closed" is a server\'s accept or read that was still waiting when the server shut down and closed it.',
      '',
      renderTimeline(result.trace.events, notShown),
    ].join('\n'),
  );
  return 0;
}

function usage(message: string): number {
  return usageError('demo', message);
}
