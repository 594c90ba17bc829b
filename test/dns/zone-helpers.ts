/** Shared by the zone tests: a zone's head, a parser call, records as lines, and a rejection check. */
import assert from 'node:assert/strict';
import { parseZone } from '../../src/dns/zone-file.js';
import type { Zone } from '../../src/dns/zone.js';
import { TYPE, type DnsRecord } from '../../src/wire/dns/types.js';

export const HEAD = `$ORIGIN example.test.
$TTL 3600
@ SOA ns1 hostmaster 1 7200 900 1209600 300
  NS ns1
ns1 A 192.0.2.53
`;

export function zone(body: string, options: { origin?: string } = {}): Zone {
  return parseZone(body, { file: 'zone.db', ...options });
}

/** Records as one line each, the way a master file would say them. */
export function lines(records: readonly DnsRecord[]): string[] {
  return records.map((r) => `${r.name} ${r.ttl} ${r.type === TYPE.SOA ? 'SOA' : r.type} ${typeof r.data === 'string' ? r.data : r.data instanceof Uint8Array ? Buffer.from(r.data).toString('hex') : JSON.stringify(r.data)}`);
}

export function rejects(body: string, line: number | null, message: RegExp, options: { origin?: string } = {}): void {
  assert.throws(
    () => zone(body, options),
    (e: any) => {
      assert.equal(e.code, 'ERR_DNS_BAD_CONFIG');
      assert.match(e.message, new RegExp(line === null ? 'zone\\.db: ' : `zone\\.db:${line}: `));
      assert.match(e.message, message);
      return true;
    },
  );
}
