/**
 * RFC 6761's special-use names that a resolver answers itself, never asking
 * DNS: "localhost" and the names below it are the loopback addresses (§6.3),
 * "invalid" and the names below it do not exist (§6.4). "test" and "example"
 * are ordinary names (§6.2, §6.5): they go to the servers like any other.
 */
import { normalizeName } from '../wire/dns/name.js';
import { CLASS, RCODE, TYPE, emptyMessage, type DnsMessage, type DnsRecord } from '../wire/dns/types.js';

export type SpecialName = 'localhost' | 'invalid';

/** Which special-use name `name` is under, or null for an ordinary name. */
export function specialName(name: string): SpecialName | null {
  const n = normalizeName(name);
  if (n === 'localhost' || n.endsWith('.localhost')) return 'localhost';
  if (n === 'invalid' || n.endsWith('.invalid')) return 'invalid';
  return null;
}

/** The loopback addresses for a localhost name, IPv6 first as glibc's /etc/hosts order usually gives. */
export function localhostAddresses(family: 0 | 4 | 6): { address: string; family: 4 | 6 }[] {
  const out: { address: string; family: 4 | 6 }[] = [];
  if (family !== 4) out.push({ address: '::1', family: 6 });
  if (family !== 6) out.push({ address: '127.0.0.1', family: 4 });
  return out;
}

/**
 * The response a server would give for a special-use name, built locally:
 * NXDOMAIN for invalid names, the loopback address for localhost A/AAAA,
 * and no records (NODATA) for any other type of a localhost name.
 */
export function specialAnswer(name: string, type: number): DnsMessage | null {
  const kind = specialName(name);
  if (kind === null) return null;
  const question = { name: normalizeName(name), type, class: CLASS.IN };
  const answers: DnsRecord[] = [];
  if (kind === 'localhost') {
    const family = type === TYPE.A ? 4 : type === TYPE.AAAA ? 6 : null;
    if (family !== null) for (const a of localhostAddresses(family)) answers.push({ name: question.name, type: family === 4 ? TYPE.A : TYPE.AAAA, class: CLASS.IN, ttl: 0, data: a.address });
  }
  return emptyMessage({ qr: true, aa: true, rd: true, ra: true, rcode: kind === 'invalid' ? RCODE.NXDOMAIN : RCODE.NOERROR, questions: [question], answers });
}
