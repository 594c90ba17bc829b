/**
 * An authoritative zone: its records, and the answer an authoritative server
 * gives for one question (RFC 1034 §4.3.2): exact matches, CNAME chains inside
 * the zone, NODATA and NXDOMAIN with the SOA for negative caching (RFC 2308),
 * referrals at delegations, wildcards (RFC 4592) and A/AAAA additionals for
 * in-zone targets. Master files are read into one by zone-file.ts.
 */
import { DnsError } from '../wire/dns/errors.js';
import { isSubdomain, normalizeName } from '../wire/dns/name.js';
import { RCODE, TYPE, type DnsRecord, type SoaRecord } from '../wire/dns/types.js';

export interface LookupResult {
  rcode: number;
  /** The AA bit: false for a referral and for a name outside the zone. */
  authoritative: boolean;
  answers: DnsRecord[];
  authorities: DnsRecord[];
  additionals: DnsRecord[];
}

/** How many CNAMEs one answer follows inside the zone before it stops. */
const MAX_CHAIN = 8;

// ---- the zone and its lookup ----

type RRsets = Map<number, DnsRecord[]>;

export class Zone {
  /** The apex as written in the file, without the final dot. */
  readonly origin: string;
  readonly soa: SoaRecord;
  readonly class: number;
  /** Every record once, in file order. */
  readonly records: readonly DnsRecord[];
  private readonly apex: string;
  private readonly nodes = new Map<string, RRsets>();
  /** Every owner and every name between it and the apex: the names that exist (RFC 4592 §2.2.2). */
  private readonly names = new Set<string>();

  /** `where(i)` names record i in error messages ("zone.db:12"). */
  constructor(records: readonly DnsRecord[], where: (index: number) => string = (i) => `record ${i + 1}`) {
    const fail = (i: number, message: string) => new DnsError('ERR_DNS_BAD_CONFIG', `${where(i)}: ${message}`);
    const soas = records.map((r, i) => [r, i] as const).filter(([r]) => r.type === TYPE.SOA);
    if (soas.length === 0) throw new DnsError('ERR_DNS_BAD_CONFIG', `${where(0).replace(/:\d+$/, '')}: the zone has no SOA record`);
    if (soas.length > 1) throw fail(soas[1]![1], `a second SOA record (the first is at ${soas[0]![0].name}); a zone has exactly one, at its apex`);
    this.soa = soas[0]![0] as SoaRecord;
    this.origin = this.soa.name;
    this.class = this.soa.class;
    this.apex = normalizeName(this.origin);

    const kept: DnsRecord[] = [];
    const cnameAt = new Map<string, number>();
    records.forEach((r, i) => {
      if (r.class !== this.class) throw fail(i, `class ${r.class} differs from the SOA's class ${this.class}`);
      if (!isSubdomain(r.name, this.origin)) throw fail(i, `${r.name || '.'} is outside the zone ${this.origin || '.'}`);
      const key = normalizeName(r.name);
      let node = this.nodes.get(key);
      if (!node) this.nodes.set(key, (node = new Map()));
      let set = node.get(r.type);
      if (!set) node.set(r.type, (set = []));
      // An RRset has no duplicates (RFC 2181 §5) and one TTL (§5.2): the first one given.
      if (set.some((s) => sameData(s, r))) return;
      const record = set.length > 0 && set[0]!.ttl !== r.ttl ? { ...r, ttl: set[0]!.ttl } : r;
      set.push(record);
      kept.push(record);
      if (r.type === TYPE.CNAME && !cnameAt.has(key)) cnameAt.set(key, i);
    });
    for (const [key, i] of cnameAt) {
      const node = this.nodes.get(key)!;
      // A CNAME is the only data its owner may have (RFC 1034 §3.6.2, RFC 2181 §10.1).
      if (node.get(TYPE.CNAME)!.length > 1) throw fail(i, `${records[i]!.name} has more than one CNAME`);
      if (node.size > 1) throw fail(i, `${records[i]!.name} has a CNAME and other records; a CNAME must be alone`);
    }
    if (!this.nodes.get(this.apex)!.has(TYPE.NS)) throw fail(soas[0]![1], `the zone ${this.origin || '.'} has no NS records at its apex`);
    for (const key of this.nodes.keys()) {
      for (let name = key; ; name = parentOf(name)) {
        if (this.names.has(name)) break;
        this.names.add(name);
        if (name === this.apex) break;
      }
    }
    this.records = kept;
  }

  /** How many records the zone holds. */
  get size(): number {
    return this.records.length;
  }

  /** True if `name` is the apex or below it. */
  contains(name: string): boolean {
    return isSubdomain(name, this.origin);
  }

  /** The answer to one question, as RFC 1034 §4.3.2 steps 3 and 4 build it. */
  lookup(qname: string, qtype: number): LookupResult {
    const result: LookupResult = { rcode: RCODE.NOERROR, authoritative: true, answers: [], authorities: [], additionals: [] };
    if (!this.contains(qname)) return { ...result, rcode: RCODE.REFUSED, authoritative: false };
    const followed = new Set<string>();
    let name = qname;
    for (;;) {
      const key = normalizeName(name);
      const cut = this.delegationAbove(key);
      if (cut) {
        // A referral: the child's servers, and their addresses as glue (AA stays on only for CNAMEs already answered).
        result.authoritative = result.answers.length > 0;
        result.authorities.push(...this.nodes.get(cut)!.get(TYPE.NS)!);
        break;
      }
      let node = this.nodes.get(key);
      if (!node) {
        if (this.names.has(key)) {
          // An empty non-terminal exists: NODATA, not NXDOMAIN (RFC 4592 §2.2.2, RFC 8020).
          this.negative(result, RCODE.NOERROR);
          break;
        }
        const wildcard = `*.${this.closestEncloser(key)}`.replace(/\.$/, '');
        node = this.nodes.get(wildcard);
        if (!node) {
          this.negative(result, this.names.has(wildcard) ? RCODE.NOERROR : RCODE.NXDOMAIN);
          break;
        }
      }
      if (qtype === TYPE.ANY) {
        for (const set of node.values()) result.answers.push(...renamed(set, name));
        break;
      }
      const exact = node.get(qtype);
      if (exact) {
        result.answers.push(...renamed(exact, name));
        break;
      }
      const cname = node.get(TYPE.CNAME);
      if (!cname) {
        this.negative(result, RCODE.NOERROR);
        break;
      }
      result.answers.push(...renamed(cname, name));
      followed.add(key);
      const target = cname[0]!.data as string;
      // Outside the zone, a loop, or a long chain: the resolver carries on from the last CNAME.
      if (!this.contains(target) || followed.has(normalizeName(target)) || followed.size >= MAX_CHAIN) break;
      name = target;
    }
    this.addAddresses(result);
    return result;
  }

  /** The highest delegation (NS below the apex) at or above `key`, or null (§4.3.2 step 3b). */
  private delegationAbove(key: string): string | null {
    let cut: string | null = null;
    for (let name = key; name !== this.apex && name !== ''; name = parentOf(name)) {
      if (this.nodes.get(name)?.has(TYPE.NS)) cut = name;
    }
    return cut;
  }

  /** The longest ancestor of `key` that exists (RFC 4592 §3.3.1); at worst the apex. */
  private closestEncloser(key: string): string {
    let name = key;
    while (name !== this.apex && name !== '' && !this.names.has(name)) name = parentOf(name);
    return name;
  }

  /** NODATA or NXDOMAIN: the SOA in authority, with the TTL negative answers are cached for (RFC 2308 §5). */
  private negative(result: LookupResult, rcode: number): void {
    result.rcode = rcode;
    result.authorities.push({ ...this.soa, ttl: Math.min(this.soa.ttl, this.soa.data.minimum) });
  }

  /**
   * A and AAAA for the targets of MX, SRV and NS records, when the zone holds them
   * (RFC 1035 §3.3.9, RFC 2782). Addresses below a delegation are glue: given for
   * NS targets (a referral's, or the apex's own servers inside a child), not for
   * MX and SRV, whose targets there are the child's to answer for.
   */
  private addAddresses(result: LookupResult): void {
    const targets = new Map<string, { name: string; glue: boolean }>();
    for (const r of [...result.answers, ...result.authorities]) {
      let name: string | null = null;
      if (r.type === TYPE.MX) name = (r.data as { exchange: string }).exchange;
      else if (r.type === TYPE.SRV) name = (r.data as { target: string }).target;
      else if (r.type === TYPE.NS) name = r.data as string;
      if (name === null || !this.contains(name)) continue;
      const key = normalizeName(name);
      targets.set(key, { name, glue: r.type === TYPE.NS || targets.get(key)?.glue === true });
    }
    for (const [key, { name, glue }] of targets) {
      if (!glue && this.delegationAbove(key)) continue;
      const node = this.nodes.get(key);
      if (!node) continue;
      for (const type of [TYPE.A, TYPE.AAAA]) result.additionals.push(...renamed(node.get(type) ?? [], name));
    }
  }
}

function renamed(set: readonly DnsRecord[], name: string): DnsRecord[] {
  return set.map((r) => ({ ...r, name }));
}

function sameData(a: DnsRecord, b: DnsRecord): boolean {
  const key = (r: DnsRecord) => {
    if (r.type === TYPE.NS || r.type === TYPE.CNAME || r.type === TYPE.PTR) return normalizeName(r.data as string);
    return r.data instanceof Uint8Array ? Array.from(r.data).join(',') : JSON.stringify(r.data);
  };
  return key(a) === key(b);
}

// ---- names in presentation form ----

/** The name one label up; "" (the root) stays "". Escaped dots ("\.") are not separators. */
function parentOf(name: string): string {
  for (let i = 0; i < name.length; i++) {
    if (name[i] === '\\') i++;
    else if (name[i] === '.') return name.slice(i + 1);
  }
  return '';
}
