/** Records and messages in presentation form, the way dig and master files show them. */
import { className, rcodeName, TYPE, typeName, type DnsMessage, type DnsRecord, type Question } from '../wire/dns/types.js';

const fqdn = (name: string) => (name === '' ? '.' : `${name}.`);

function quote(text: string): string {
  let out = '"';
  for (const ch of Buffer.from(text, 'utf8')) {
    if (ch === 0x22 || ch === 0x5c) out += `\\${String.fromCharCode(ch)}`;
    else if (ch < 0x20 || ch > 0x7e) out += `\\${String(ch).padStart(3, '0')}`;
    else out += String.fromCharCode(ch);
  }
  return `${out}"`;
}

export function formatRdata(r: DnsRecord): string {
  switch (r.type) {
    case TYPE.A:
    case TYPE.AAAA:
      return r.data as string;
    case TYPE.CNAME:
    case TYPE.NS:
    case TYPE.PTR:
      return fqdn(r.data as string);
    case TYPE.MX: {
      const d = r.data as { preference: number; exchange: string };
      return `${d.preference} ${fqdn(d.exchange)}`;
    }
    case TYPE.TXT:
      return (r.data as string[]).map(quote).join(' ');
    case TYPE.SOA: {
      const d = r.data as { mname: string; rname: string; serial: number; refresh: number; retry: number; expire: number; minimum: number };
      return `${fqdn(d.mname)} ${fqdn(d.rname)} ${d.serial} ${d.refresh} ${d.retry} ${d.expire} ${d.minimum}`;
    }
    case TYPE.SRV: {
      const d = r.data as { priority: number; weight: number; port: number; target: string };
      return `${d.priority} ${d.weight} ${d.port} ${fqdn(d.target)}`;
    }
    default: {
      const bytes = r.data as Uint8Array;
      return `\\# ${bytes.length}${bytes.length ? ' ' + Buffer.from(bytes).toString('hex').toUpperCase() : ''}`;
    }
  }
}

/** "www.example.test.	300	IN	A	192.0.2.1" */
export function formatRecord(r: DnsRecord): string {
  return `${fqdn(r.name)}\t${r.ttl}\t${className(r.class)}\t${typeName(r.type)}\t${formatRdata(r)}`;
}

function formatQuestion(q: Question): string {
  return `;${fqdn(q.name)}\t\t${className(q.class)}\t${typeName(q.type)}`;
}

/** The whole message in dig's layout: header, flags, OPT, and each section. */
export function formatMessage(m: DnsMessage): string {
  const flags = (['qr', 'aa', 'tc', 'rd', 'ra', 'ad', 'cd'] as const).filter((f) => m[f]).join(' ');
  const lines = [
    `;; ->>HEADER<<- opcode: ${m.opcode === 0 ? 'QUERY' : m.opcode}, status: ${rcodeName(m.rcode)}, id: ${m.id}`,
    `;; flags: ${flags}; QUERY: ${m.questions.length}, ANSWER: ${m.answers.length}, AUTHORITY: ${m.authorities.length}, ADDITIONAL: ${m.additionals.length + (m.edns ? 1 : 0)}`,
  ];
  if (m.edns) lines.push('', ';; OPT PSEUDOSECTION:', `; EDNS: version: ${m.edns.version}, flags:${m.edns.dnssecOk ? ' do' : ''}; udp: ${m.edns.udpSize}`);
  lines.push('', ';; QUESTION SECTION:', ...m.questions.map(formatQuestion));
  const section = (title: string, records: DnsRecord[]) => {
    if (records.length > 0) lines.push('', `;; ${title} SECTION:`, ...records.map(formatRecord));
  };
  section('ANSWER', m.answers);
  section('AUTHORITY', m.authorities);
  section('ADDITIONAL', m.additionals);
  return lines.join('\n');
}
