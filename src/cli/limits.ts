/**
 * The server commands' limit flags: durations in seconds (decimals allowed,
 * as curl's -m) and whole counts, checked here so a bad value is a usage
 * error that names the flag.
 */

export class FlagError extends Error {}

/** Milliseconds for a flag given in seconds; undefined when absent. */
export function secondsFlag(value: string | undefined, flag: string): number | undefined {
  if (value === undefined) return undefined;
  const ms = /^(\d+(\.\d*)?|\.\d+)$/.test(value) ? Math.round(Number(value) * 1000) : NaN;
  // Timers cannot wait longer than 2^31-1 ms (about 24.8 days).
  if (!(ms >= 1 && ms <= 2 ** 31 - 1)) throw new FlagError(`${flag} must be a number of seconds from 0.001 to 2147483, not '${value}'`);
  return ms;
}

/** A whole number from `min` to `max`; undefined when absent. */
export function countFlag(value: string | undefined, flag: string, min: number, max: number): number | undefined {
  if (value === undefined) return undefined;
  if (!/^\d{1,10}$/.test(value) || Number(value) < min || Number(value) > max) throw new FlagError(`${flag} must be a whole number from ${min} to ${max}, not '${value}'`);
  return Number(value);
}
