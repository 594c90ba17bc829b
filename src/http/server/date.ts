/**
 * The server's Date field, made at most once a second (RFC 9110 §6.6.1 asks
 * for a second's precision) and reused between responses.
 */

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
