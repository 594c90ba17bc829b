/**
 * The server's response start lines and its Date field, made once and
 * reused: a status line per status code, and the Date line at most once a
 * second (RFC 9110 §6.6.1 asks for a second's precision).
 */
import { STATUS_REASONS } from '../wire/http/serialize.js';

let dateLine = '';
let dateUntil = 0;
export function currentDateLine(): string {
  const now = Date.now();
  if (now >= dateUntil) {
    dateLine = `Date: ${new Date(now).toUTCString()}\r\n`;
    dateUntil = now - (now % 1000) + 1000;
  }
  return dateLine;
}

const statusLines = new Map<number, string>();
export function statusLine(status: number, reason: string | undefined): string {
  if (reason !== undefined) return `HTTP/1.1 ${status} ${reason}\r\n`;
  if (status === 200) return 'HTTP/1.1 200 OK\r\n';
  let line = statusLines.get(status);
  if (line === undefined) {
    line = `HTTP/1.1 ${status} ${reasonFor(status)}\r\n`;
    if (statusLines.size < 1000) statusLines.set(status, line);
  }
  return line;
}

export function reasonFor(status: number): string {
  return STATUS_REASONS[status] ?? '';
}
