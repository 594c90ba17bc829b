/**
 * A tap at a host's device: a Device decorator that records one PacketEvent
 * for every packet the host sends or receives through it, decoded into
 * fields (flags, numbers, options, the DNS question or answer), and passes
 * the packet on untouched. It is the tcpdump of the trace: it sees what the
 * stack put on the wire and what the wire gave back, not the stack's insides.
 *
 * A stack with no tap pays nothing; a tap records at most its budget's limit
 * of packets (shared by every tap of a run) and counts the rest.
 */
import { decodeMessage } from '../wire/dns/message.js';
import { TYPE, typeName, rcodeName, type DnsRecord } from '../wire/dns/types.js';
import { parseIcmp, type IcmpMessage } from '../wire/icmp.js';
import { formatIPv4 } from '../wire/ip-address.js';
import { parseIpv4, PROTOCOL } from '../wire/ipv4.js';
import { parseTcp, type TcpOptions } from '../wire/tcp.js';
import { parseUdp } from '../wire/udp.js';
import type { PacketEvent, TraceSink } from '../trace-events.js';
import type { Clock, Device } from './types.js';

/** How many packets a run may record, and how many it could not. */
export class PacketBudget {
  recorded = 0;
  notShown = 0;
  constructor(readonly limit = 20_000) {}
}

export interface PacketTapOptions {
  sink: TraceSink;
  clock: Clock;
  /** The host's label, the same its socket library records calls under. */
  who: string;
  /** The stack's name for the events ("user"). */
  stack?: string;
  budget?: PacketBudget;
}

export class PacketTap implements Device {
  receive: ((packet: Uint8Array) => void) | null = null;
  readonly budget: PacketBudget;

  constructor(
    private readonly inner: Device,
    private readonly options: PacketTapOptions,
  ) {
    this.budget = options.budget ?? new PacketBudget();
    inner.receive = (packet) => {
      this.tap('in', packet);
      this.receive?.(packet);
    };
  }

  get mtu(): number {
    return this.inner.mtu;
  }

  send(packet: Uint8Array): void {
    this.tap('out', packet);
    this.inner.send(packet);
  }

  private tap(direction: 'out' | 'in', packet: Uint8Array): void {
    const b = this.budget;
    if (b.recorded >= b.limit) {
      b.notShown++;
      return;
    }
    const event = describePacket(packet, direction, this.options.clock.now(), this.options.who, this.options.stack ?? 'user');
    if (!event) return;
    b.recorded++;
    this.options.sink.record(event);
  }
}

/** A packet as fields; null when it is not even an IPv4 header (nothing a host would send). */
export function describePacket(packet: Uint8Array, direction: 'out' | 'in', time: number, who: string, stack: string): PacketEvent | null {
  const ip = parseIpv4(packet);
  if ('drop' in ip) return null;
  const h = ip.header;
  const base = { kind: 'packet' as const, seq: 0, who, stack, direction, start: time, src: formatIPv4(h.src), dst: formatIPv4(h.dst), ipId: h.identification, length: h.totalLength };
  if (h.fragmentOffset > 0 || h.moreFragments) return { ...base, proto: 'fragment' };
  if (h.protocol === PROTOCOL.TCP) {
    const s = parseTcp(ip.payload, h.src, h.dst);
    if ('drop' in s) return { ...base, proto: 'tcp', malformed: s.drop };
    return {
      ...base,
      proto: 'tcp',
      srcPort: s.srcPort,
      dstPort: s.dstPort,
      tcp: { flags: s.flags, seq: s.seq, ack: s.ack, window: s.window, payload: s.payload.length, options: tcpOptions(s.options) },
    };
  }
  if (h.protocol === PROTOCOL.UDP) {
    const d = parseUdp(ip.payload, h.src, h.dst);
    if ('drop' in d) return { ...base, proto: 'udp', malformed: d.drop };
    const dns = d.srcPort === 53 || d.dstPort === 53 ? dnsLine(d.payload) : undefined;
    return { ...base, proto: 'udp', srcPort: d.srcPort, dstPort: d.dstPort, udp: dns ? { payload: d.payload.length, dns } : { payload: d.payload.length } };
  }
  if (h.protocol === PROTOCOL.ICMP) {
    const m = parseIcmp(ip.payload);
    if ('drop' in m) return { ...base, proto: 'icmp', malformed: m.drop };
    const text = icmpLine(m);
    return { ...base, proto: 'icmp', icmp: text };
  }
  return { ...base, proto: 'other' };
}

function icmpLine(m: IcmpMessage): string {
  switch (m.kind) {
    case 'echo-request':
    case 'echo-reply':
      return `echo ${m.kind === 'echo-request' ? 'request' : 'reply'} id ${m.id} seq ${m.seq}`;
    case 'unreachable':
      return `unreachable code ${m.code}${m.mtu !== undefined ? ` mtu ${m.mtu}` : ''}`;
    case 'time-exceeded':
      return `time exceeded code ${m.code}`;
    default:
      return `type ${m.type} code ${m.code}`;
  }
}

/** tcpdump's names for the options, in the order they came. */
function tcpOptions(o: TcpOptions): string[] {
  const out: string[] = [];
  if (o.mss !== undefined) out.push(`mss ${o.mss}`);
  if (o.sackPermitted) out.push('sackOK');
  if (o.timestamp) out.push(`TS val ${o.timestamp.value} ecr ${o.timestamp.echo}`);
  if (o.windowScale !== undefined) out.push(`wscale ${o.windowScale}`);
  if (o.sack) out.push(`sack ${o.sack.length} ${o.sack.map(([l, r]) => `{${l >>> 0}:${r >>> 0}}`).join('')}`);
  return out;
}

/** A DNS message in tcpdump's words: "1234+ A? www.example.test." or "1234* 1/0/0 A 10.0.0.80"; undefined if it is not one. */
function dnsLine(payload: Uint8Array): string | undefined {
  let m;
  try {
    m = decodeMessage(payload);
  } catch {
    return undefined;
  }
  const q = m.questions[0];
  const question = q ? `${typeName(q.type)}? ${q.name}.` : '';
  if (!m.qr) return `${m.id}${m.rd ? '+' : ''} ${question}`.trim();
  const rcode = m.rcode !== 0 ? ` ${rcodeName(m.rcode)}` : '';
  const answers = m.answers.map(record).join(', ');
  return `${m.id}${m.aa ? '*' : ''}${rcode} ${m.answers.length}/${m.authorities.length}/${m.additionals.length}${answers ? ` ${answers}` : ''}`;
}

function record(r: DnsRecord): string {
  return r.type === TYPE.A || r.type === TYPE.AAAA ? `${typeName(r.type)} ${String(r.data)}` : typeName(r.type);
}
