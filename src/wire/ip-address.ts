/** IP address text <-> bytes (IPv4 and IPv6), and map keys for address bytes. Pure; no I/O. */

/** Parses dotted-quad IPv4 ("10.0.0.1"); null if malformed. Leading zeros are refused, as inet_pton does. */
export function parseIPv4(text: string): Uint8Array | null {
  // One pass over the characters: this runs for every address a socket call names.
  const len = text.length;
  if (len < 7 || len > 15) return null;
  const out = new Uint8Array(4);
  let part = 0;
  let n = 0;
  let digits = 0;
  let first = 0;
  for (let i = 0; i <= len; i++) {
    const c = i < len ? text.charCodeAt(i) : 0x2e;
    if (c === 0x2e) {
      if (digits === 0 || (digits > 1 && first === 0x30) || n > 255 || part > 3) return null;
      out[part++] = n;
      n = 0;
      digits = 0;
    } else if (c >= 0x30 && c <= 0x39) {
      if (digits === 0) first = c;
      if (++digits > 3) return null;
      n = n * 10 + (c - 0x30);
    } else return null;
  }
  return part === 4 ? out : null;
}

export function formatIPv4(bytes: Uint8Array, offset = 0): string {
  return `${bytes[offset]}.${bytes[offset + 1]}.${bytes[offset + 2]}.${bytes[offset + 3]}`;
}

/** Parses IPv6 text (RFC 4291 §2.2, including "::" and an embedded IPv4 tail); null if malformed. */
export function parseIPv6(text: string): Uint8Array | null {
  if (text.length < 2 || text.length > 45) return null;
  const zone = text.indexOf('%');
  if (zone !== -1) text = text.slice(0, zone);
  const halves = text.split('::');
  if (halves.length > 2) return null;
  const groups = (s: string): string[] | null => (s === '' ? [] : s.split(':'));
  const head = groups(halves[0]!);
  const tail = halves.length === 2 ? groups(halves[1]!) : [];
  if (!head || !tail) return null;
  const words: number[] = [];
  const pushGroups = (list: string[], into: number[], allowV4Last: boolean): boolean => {
    for (let i = 0; i < list.length; i++) {
      const g = list[i]!;
      if (allowV4Last && i === list.length - 1 && g.includes('.')) {
        const v4 = parseIPv4(g);
        if (!v4) return false;
        into.push((v4[0]! << 8) | v4[1]!, (v4[2]! << 8) | v4[3]!);
        continue;
      }
      if (!/^[0-9a-fA-F]{1,4}$/.test(g)) return false;
      into.push(parseInt(g, 16));
    }
    return true;
  };
  const tailWords: number[] = [];
  if (!pushGroups(head, words, halves.length === 1)) return null;
  if (!pushGroups(tail, tailWords, true)) return null;
  const total = words.length + tailWords.length;
  if (halves.length === 1 ? total !== 8 : total > 7) return null;
  const out = new Uint8Array(16);
  const put = (w: number, i: number) => {
    out[i * 2] = w >> 8;
    out[i * 2 + 1] = w & 0xff;
  };
  words.forEach((w, i) => put(w, i));
  tailWords.forEach((w, i) => put(w, 8 - tailWords.length + i));
  return out;
}

/** Formats 16 bytes per RFC 5952: lower case, no leading zeros, the longest run of zero words as "::". */
export function formatIPv6(bytes: Uint8Array, offset = 0): string {
  const words: number[] = [];
  for (let i = 0; i < 8; i++) words.push((bytes[offset + i * 2]! << 8) | bytes[offset + i * 2 + 1]!);
  let bestStart = -1;
  let bestLen = 1;
  for (let i = 0; i < 8; ) {
    if (words[i] !== 0) {
      i++;
      continue;
    }
    let j = i;
    while (j < 8 && words[j] === 0) j++;
    if (j - i > bestLen) {
      bestStart = i;
      bestLen = j - i;
    }
    i = j;
  }
  const hex = (ws: number[]) => ws.map((w) => w.toString(16)).join(':');
  if (bestStart === -1) return hex(words);
  return `${hex(words.slice(0, bestStart))}::${hex(words.slice(bestStart + bestLen))}`;
}

/** 4 or 6 for a valid literal address, 0 otherwise. */
export function ipFamily(text: string): 0 | 4 | 6 {
  if (parseIPv4(text)) return 4;
  if (text.includes(':') && parseIPv6(text)) return 6;
  return 0;
}

export function isUnspecified(address: string): boolean {
  return address === '0.0.0.0' || address === '::';
}

/**
 * A map key for an address of either version, O(1) in its length: a 4-byte
 * IPv4 address is its 32-bit number (cheap, and what TCP's connection keys
 * were before IPv6 had room), a 16-byte IPv6 address its 32 hex digits.
 * The two never collide: a number has at most 10 digits.
 */
export function addressKey(bytes: Uint8Array): number | string {
  if (bytes.length === 4) return ((bytes[0]! << 24) | (bytes[1]! << 16) | (bytes[2]! << 8) | bytes[3]!) >>> 0;
  let key = '';
  for (let i = 0; i < bytes.length; i++) key += (bytes[i]! < 16 ? '0' : '') + bytes[i]!.toString(16);
  return key;
}
