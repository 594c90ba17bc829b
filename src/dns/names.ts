/** Checks on names a program asks for, and the search list (resolv.conf(5): ndots, search). */
import { DnsError } from '../wire/dns/errors.js';

/** A name a stub should ask about: 1–253 characters, labels of 1–63, no spaces or control characters. */
export function checkName(name: string): void {
  if (typeof name !== 'string') throw new DnsError('ERR_DNS_BAD_NAME', 'the name must be a string');
  const bare = name.endsWith('.') ? name.slice(0, -1) : name;
  if (bare.length === 0 || bare.length > 253) throw new DnsError('ERR_DNS_BAD_NAME', `"${name}" must have 1 to 253 characters`);
  // eslint-disable-next-line no-control-regex
  if (/[\s\x00-\x1f\x7f]/.test(bare)) throw new DnsError('ERR_DNS_BAD_NAME', `"${name}" has a space or control character`);
  for (const label of bare.split('.')) {
    if (label.length === 0 || label.length > 63) throw new DnsError('ERR_DNS_BAD_NAME', `"${name}" has an empty label or one over 63 characters`);
  }
}

/**
 * The names to try, in order. A name ending in a dot is absolute: only itself.
 * One with at least `ndots` dots is tried as given first, then with each
 * search domain; one with fewer dots gets the search domains first.
 */
export function candidates(name: string, search: string[], ndots: number): string[] {
  if (name.endsWith('.')) return [name.slice(0, -1)];
  const dots = name.split('.').length - 1;
  const searched = search.map((domain) => `${name}.${domain}`);
  return dots >= ndots ? [name, ...searched] : [...searched, name];
}
