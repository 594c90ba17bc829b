/**
 * Option parsing shared by the subcommands. Options are read as getopt reads
 * them (an option that takes a value takes the next argument, even one that
 * starts with '-', so `--port -1` is the value -1, checked by the command),
 * and every mistake is one line of protostack's own, exit code 2, never
 * Node's argument-parser text or a stack trace.
 */
import { parseArgs as nodeParseArgs, type ParseArgsConfig } from 'node:util';

/** A mistake on the command line: the command prints it as one line and exits 2. */
export class UsageError extends Error {
  override readonly name = 'UsageError';
  readonly code = 'ERR_USAGE';
}

type Options = NonNullable<ParseArgsConfig['options']>;

/** node:util's parseArgs, with getopt's reading of option values and one-line errors (UsageError). */
export function parseArgs<T extends ParseArgsConfig>(config: T): ReturnType<typeof nodeParseArgs<T>> {
  const args = getoptValues(config.args ?? [], config.options ?? {});
  try {
    return nodeParseArgs<T>({ ...config, args });
  } catch (e) {
    throw new UsageError(describeParseError(e as Error & { code?: string }));
  }
}

/** `--port -1` and `-p -1` become `--port=-1`: a value option takes the next argument whatever it looks like. */
function getoptValues(args: readonly string[], options: Options): string[] {
  const out: string[] = [];
  for (let i = 0; i < args.length; i++) {
    const arg = args[i]!;
    if (arg === '--') {
      out.push(...args.slice(i));
      break;
    }
    const long = /^--([^=]+)$/.exec(arg)?.[1];
    const short = /^-([^-])$/.exec(arg)?.[1];
    const name = long !== undefined ? long : short !== undefined ? Object.keys(options).find((k) => options[k]!.short === short) : undefined;
    if (name !== undefined && options[name]?.type === 'string' && i + 1 < args.length) {
      out.push(`--${name}=${args[++i]}`);
      continue;
    }
    out.push(arg);
  }
  return out;
}

function describeParseError(e: Error & { code?: string }): string {
  const m = e.message;
  const option = /'(?:-\w, )?(--?[^' <]+)/.exec(m)?.[1];
  switch (e.code) {
    case 'ERR_PARSE_ARGS_UNKNOWN_OPTION':
      return `unknown option '${option ?? '?'}'`;
    case 'ERR_PARSE_ARGS_INVALID_OPTION_VALUE':
      return / does not take an argument/.test(m) ? `${option} takes no value` : `${option} wants a value`;
    case 'ERR_PARSE_ARGS_UNEXPECTED_POSITIONAL':
      return `unexpected argument '${/'([^']*)'/.exec(m)?.[1] ?? '?'}'`;
    default:
      return m.split('\n')[0]!;
  }
}

/** Prints a usage mistake as one line with a pointer to --help; returns the exit code, 2. */
export function usageError(command: string, message: string): number {
  process.stderr.write(`protostack ${command}: ${message} (see protostack ${command} --help)\n`);
  return 2;
}

/** The parsed options, or the exit code when the command is already answered (--help: 0, bad usage: 2). */
export function parseCommand<T extends { values: { help?: unknown } }>(command: string, usage: string, parse: () => T): T | number {
  let parsed: T;
  try {
    parsed = parse();
  } catch (e) {
    return usageError(command, e instanceof UsageError ? e.message : (e as Error).message.split('\n')[0]!);
  }
  if (parsed.values.help) {
    process.stdout.write(usage);
    return 0;
  }
  return parsed;
}
