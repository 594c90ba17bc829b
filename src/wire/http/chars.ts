/**
 * The character classes of HTTP/1.x (RFC 9110 §5.6.2, §5.5; RFC 9112 §3.2),
 * as 256-entry tables a byte indexes: one definition for the parser, the
 * serializers, and the server's checks of the fields a handler sets, so what
 * one side writes the other accepts.
 */

export function byteSet(test: (b: number) => boolean): Uint8Array {
  const t = new Uint8Array(256);
  for (let b = 0; b < 256; b++) t[b] = test(b) ? 1 : 0;
  return t;
}

export const isAlnum = (b: number): boolean => (b >= 0x30 && b <= 0x39) || (b >= 0x41 && b <= 0x5a) || (b >= 0x61 && b <= 0x7a);
/** tchar (RFC 9110 §5.6.2): methods and field names are tokens. */
export const TCHAR = byteSet((b) => isAlnum(b) || "!#$%&'*+-.^_`|~".includes(String.fromCharCode(b)));
/** field-vchar, SP, HTAB, obs-text (RFC 9110 §5.5): what a field value, reason phrase or quoted-string may hold; node:http's rule too. */
export const FIELD = byteSet((b) => b === 0x09 || (b >= 0x20 && b !== 0x7f));
/** Visible ASCII: the request-target is a URI reference, percent-encoded beyond that. */
export const TARGET = byteSet((b) => b > 0x20 && b < 0x7f);

/** Whether every character of `s` is in `allowed` (a character above 0xff never is). */
export function allIn(s: string, allowed: Uint8Array): boolean {
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (c > 0xff || allowed[c] === 0) return false;
  }
  return true;
}

/** A token: one or more tchar. */
export function isToken(s: string): boolean {
  return typeof s === 'string' && s.length > 0 && allIn(s, TCHAR);
}

/** A field value (or reason phrase): field-vchar, SP, HTAB and obs-text, possibly empty; never CR or LF. */
export function isFieldValue(s: string): boolean {
  return typeof s === 'string' && allIn(s, FIELD);
}
