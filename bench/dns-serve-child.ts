/**
 * The authoritative server that bench/dns.ts puts under load, in a process of
 * its own so the load generator (dnsperf) and the server do not share a thread.
 *
 *   node dist/bench/dns-serve-child.js ours   # the project's serveDns over the kernel stack
 *   node dist/bench/dns-serve-child.js dns2   # the dns2 package answering from an in-memory map
 *
 * Both serve the same data on 127.0.0.1, on a port the system picks, and print
 * `port N` on stdout once they answer. Both give the same answers: AA set, the
 * MX's in-zone target addresses as additionals, the SOA in the authority
 * section of NXDOMAIN and NODATA (negative TTL = the SOA minimum, RFC 2308).
 * They run until killed.
 */
import dns2 from 'dns2';
import { serveDns } from '../src/dns/server.js';
import { parseZone } from '../src/dns/zone-file.js';
import { SocketLibrary } from '../src/socket/library.js';
import { KernelStack } from '../src/stack/kernel/stack.js';
import { BENCH_ZONE } from './dns-zone.js';


async function ours(): Promise<number> {
  const lib = new SocketLibrary(new KernelStack(), { label: 'bench-dns-server' });
  const server = await serveDns(lib, [parseZone(BENCH_ZONE)], { address: '127.0.0.1', port: 0 });
  return server.port;
}

/** The same data as BENCH_ZONE, as a map from "name|type" to the response's sections. */
function dns2Map() {
  const { Packet } = dns2;
  const { A, AAAA, MX, SOA } = Packet.TYPE;
  const IN = Packet.CLASS.IN;
  const soa = {
    name: 'bench.test', type: SOA, class: IN, ttl: 60,
    primary: 'ns1.bench.test', admin: 'hostmaster.bench.test', serial: 1, refresh: 7200, retry: 900, expiration: 1209600, minimum: 60,
  };
  const mailA = { name: 'mail.bench.test', type: A, class: IN, ttl: 300, address: '192.0.2.25' };
  const rrsets = new Map<string, { answers: object[]; additionals: object[] }>([
    [`bench.test|${MX}`, { answers: [{ name: 'bench.test', type: MX, class: IN, ttl: 300, priority: 10, exchange: 'mail.bench.test' }], additionals: [mailA] }],
    [`ns1.bench.test|${A}`, { answers: [{ name: 'ns1.bench.test', type: A, class: IN, ttl: 300, address: '192.0.2.53' }], additionals: [] }],
    [`www.bench.test|${A}`, { answers: [{ name: 'www.bench.test', type: A, class: IN, ttl: 300, address: '192.0.2.80' }], additionals: [] }],
    [`www.bench.test|${AAAA}`, { answers: [{ name: 'www.bench.test', type: AAAA, class: IN, ttl: 300, address: '2001:db8::80' }], additionals: [] }],
    [`mail.bench.test|${A}`, { answers: [mailA], additionals: [] }],
  ]);
  const names = new Set(['bench.test', 'ns1.bench.test', 'www.bench.test', 'mail.bench.test']);
  return { rrsets, names, soa };
}

async function viaDns2(): Promise<number> {
  const { Packet } = dns2;
  const { rrsets, names, soa } = dns2Map();
  const server = dns2.createServer({
    udp: true,
    handle: (request, send) => {
      const response = Packet.createResponseFromRequest(request);
      const q = request.questions[0];
      if (!q) return void send(response);
      const name = q.name.toLowerCase();
      response.header.aa = 1;
      const found = rrsets.get(`${name}|${q.type}`);
      if (found) {
        response.answers.push(...(found.answers as typeof response.answers));
        response.additionals.push(...(found.additionals as typeof response.additionals));
      } else {
        if (!names.has(name)) response.header.rcode = 3; // NXDOMAIN; else NODATA
        response.authorities.push(soa as (typeof response.authorities)[number]);
      }
      void send(response);
    },
  });
  const addresses = await server.listen({ udp: { port: 0, address: '127.0.0.1' } });
  return addresses.udp!.port;
}

const which = process.argv[2];
if (which !== 'ours' && which !== 'dns2') {
  process.stderr.write('usage: node dist/bench/dns-serve-child.js ours|dns2\n');
  process.exit(2);
}
const port = await (which === 'ours' ? ours() : viaDns2());
process.stdout.write(`port ${port}\n`);
