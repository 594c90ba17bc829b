/**
 * DNS messages as values (RFC 1035 §4, RFC 6891 for EDNS). Types and classes
 * are the numbers on the wire; TYPE and CLASS name them. Names are in
 * presentation form without the final dot ("www.example.test", "" for the
 * root), with "\." and "\DDD" escapes for bytes that are not plain.
 */

export const TYPE = {
  A: 1,
  NS: 2,
  CNAME: 5,
  SOA: 6,
  PTR: 12,
  MX: 15,
  TXT: 16,
  AAAA: 28,
  SRV: 33,
  OPT: 41,
  ANY: 255,
} as const;

export const CLASS = { IN: 1, CH: 3, ANY: 255 } as const;

export const RCODE = {
  NOERROR: 0,
  FORMERR: 1,
  SERVFAIL: 2,
  NXDOMAIN: 3,
  NOTIMP: 4,
  REFUSED: 5,
  BADVERS: 16,
} as const;

export const OPCODE = { QUERY: 0, IQUERY: 1, STATUS: 2, NOTIFY: 4, UPDATE: 5 } as const;

export interface Question {
  name: string;
  type: number;
  class: number;
}

export interface SoaData {
  mname: string;
  rname: string;
  serial: number;
  refresh: number;
  retry: number;
  expire: number;
  minimum: number;
}

export interface MxData {
  preference: number;
  exchange: string;
}

export interface SrvData {
  priority: number;
  weight: number;
  port: number;
  target: string;
}

interface RecordBase {
  name: string;
  class: number;
  /** Seconds; 0 to 2^31-1 (RFC 2181 §8: a larger value on the wire reads as 0). */
  ttl: number;
}

export interface AddressRecord extends RecordBase {
  type: typeof TYPE.A | typeof TYPE.AAAA;
  /** "192.0.2.1" or "2001:db8::1". */
  data: string;
}
export interface NameRecord extends RecordBase {
  type: typeof TYPE.CNAME | typeof TYPE.NS | typeof TYPE.PTR;
  data: string;
}
export interface MxRecord extends RecordBase {
  type: typeof TYPE.MX;
  data: MxData;
}
export interface TxtRecord extends RecordBase {
  type: typeof TYPE.TXT;
  /** The character-strings, each at most 255 bytes once UTF-8 encoded. */
  data: string[];
}
export interface SoaRecord extends RecordBase {
  type: typeof TYPE.SOA;
  data: SoaData;
}
export interface SrvRecord extends RecordBase {
  type: typeof TYPE.SRV;
  data: SrvData;
}
/** Any other type, kept as raw RDATA (RFC 3597). */
export interface OpaqueRecord extends RecordBase {
  type: number;
  data: Uint8Array;
}

export type DnsRecord = AddressRecord | NameRecord | MxRecord | TxtRecord | SoaRecord | SrvRecord | OpaqueRecord;

export interface EdnsOption {
  code: number;
  data: Uint8Array;
}

/** The OPT pseudo-record, lifted out of the additional section. */
export interface Edns {
  /** The largest UDP payload the sender can take (RFC 6891 §6.2.3); below 512 reads as 512. */
  udpSize: number;
  version: number;
  dnssecOk: boolean;
  options: EdnsOption[];
}

export interface DnsMessage {
  id: number;
  /** true in responses. */
  qr: boolean;
  opcode: number;
  /** Authoritative answer. */
  aa: boolean;
  /** Truncated: the answer did not fit. */
  tc: boolean;
  /** Recursion desired. */
  rd: boolean;
  /** Recursion available. */
  ra: boolean;
  /** Authentic data (RFC 4035). */
  ad: boolean;
  /** Checking disabled (RFC 4035). */
  cd: boolean;
  /** The full response code: the header's 4 bits plus EDNS's upper 8 (RFC 6891 §6.1.3). */
  rcode: number;
  questions: Question[];
  answers: DnsRecord[];
  authorities: DnsRecord[];
  /** Additional records, without OPT. */
  additionals: DnsRecord[];
  /** The OPT record, or null when the message has none. */
  edns: Edns | null;
}

export function typeName(type: number): string {
  for (const [name, code] of Object.entries(TYPE)) if (code === type) return name;
  return `TYPE${type}`;
}

export function className(cls: number): string {
  for (const [name, code] of Object.entries(CLASS)) if (code === cls) return name;
  return `CLASS${cls}`;
}

export function rcodeName(rcode: number): string {
  for (const [name, code] of Object.entries(RCODE)) if (code === rcode) return name;
  return `RCODE${rcode}`;
}

/** Parses "A", "aaaa", "TYPE65" into a type number; null if unknown. */
export function parseType(text: string): number | null {
  const upper = text.toUpperCase();
  if (upper in TYPE) return TYPE[upper as keyof typeof TYPE];
  const m = /^TYPE(\d{1,5})$/.exec(upper);
  if (m && Number(m[1]) <= 65_535) return Number(m[1]);
  return null;
}

/** A message with every field at its default: a query with RD set. */
export function emptyMessage(fields: Partial<DnsMessage> = {}): DnsMessage {
  return {
    id: 0,
    qr: false,
    opcode: OPCODE.QUERY,
    aa: false,
    tc: false,
    rd: true,
    ra: false,
    ad: false,
    cd: false,
    rcode: RCODE.NOERROR,
    questions: [],
    answers: [],
    authorities: [],
    additionals: [],
    edns: null,
    ...fields,
  };
}
