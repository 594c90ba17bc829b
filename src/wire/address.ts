/**
 * Addresses as text, the way every layer prints them: "127.0.0.1:8080", and
 * an IPv6 address in brackets, "[::1]:53" (RFC 3986 §3.2.2), so its colons
 * are not read as the port's.
 */

/** "10.0.0.1:80", "[::1]:80". */
export function hostPort(address: string, port: number): string {
  return address.includes(':') ? `[${address}]:${port}` : `${address}:${port}`;
}
