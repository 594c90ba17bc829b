/**
 * The hosts file (hosts(5)): "address name [alias...]", '#' comments. Looked
 * up before DNS, as the NSS "files" source is; a hit never sends a packet.
 */
import { readTextFile } from '#read-file';
import { ipFamily } from '../wire/ip-address.js';

export class HostsTable {
  private readonly byName = new Map<string, { v4: string[]; v6: string[] }>();

  add(name: string, address: string): void {
    const family = ipFamily(address);
    if (family === 0) return;
    const key = name.toLowerCase().replace(/\.$/, '');
    let entry = this.byName.get(key);
    if (!entry) this.byName.set(key, (entry = { v4: [], v6: [] }));
    const list = family === 4 ? entry.v4 : entry.v6;
    if (!list.includes(address)) list.push(address);
  }

  /** Addresses for a name in file order; an empty list when the file does not know it. */
  lookup(name: string, family: 4 | 6): string[] {
    const entry = this.byName.get(name.toLowerCase().replace(/\.$/, ''));
    if (!entry) return [];
    return family === 4 ? entry.v4 : entry.v6;
  }

  has(name: string): boolean {
    return this.byName.has(name.toLowerCase().replace(/\.$/, ''));
  }

  get size(): number {
    return this.byName.size;
  }
}

/** Lines longer than this are skipped, as glibc skips what does not fit its line buffer. */
const MAX_LINE = 4096;

export function parseHosts(text: string): HostsTable {
  const table = new HostsTable();
  for (const raw of text.split('\n')) {
    if (raw.length > MAX_LINE) continue;
    const line = raw.replace(/#.*/, '').trim();
    if (!line) continue;
    const [address, ...names] = line.split(/\s+/);
    // Zone indexes ("fe80::1%eth0") are not for names; skip the entry.
    if (!address || address.includes('%')) continue;
    for (const name of names) table.add(name, address);
  }
  return table;
}

/** Reads a hosts file; a missing or unreadable file is an empty table, as for glibc. */
export async function loadHosts(path: string): Promise<HostsTable> {
  try {
    return parseHosts(await readTextFile(path));
  } catch {
    return new HostsTable();
  }
}
