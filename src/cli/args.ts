/** Option parsing shared by the subcommands: a bad option is a usage error (exit 2), never a stack trace. */

/** The parsed options, or the exit code when the command is already answered (--help: 0, bad usage: 2). */
export function parseCommand<T extends { values: { help?: unknown } }>(command: string, usage: string, parse: () => T): T | number {
  let parsed: T;
  try {
    parsed = parse();
  } catch (e) {
    process.stderr.write(`protostack ${command}: ${(e as Error).message}\n\n${usage}`);
    return 2;
  }
  if (parsed.values.help) {
    process.stdout.write(usage);
    return 0;
  }
  return parsed;
}
