/**
 * Named event counters of the user-space stack: packets in and out, and
 * every drop by its reason ("ipv4.bad-checksum", "tcp.no-socket", ...).
 * Malformed input is counted, never thrown, so a test or a person can see
 * why a packet went nowhere.
 */
export class Counters {
  private readonly counts = new Map<string, number>();

  add(name: string, n = 1): void {
    this.counts.set(name, (this.counts.get(name) ?? 0) + n);
  }

  get(name: string): number {
    return this.counts.get(name) ?? 0;
  }

  /** Every counter, sorted by name. */
  snapshot(): Record<string, number> {
    return Object.fromEntries([...this.counts].sort(([a], [b]) => (a < b ? -1 : 1)));
  }
}
