/** Writing a report file (--har, --html) for a command: "wrote FILE (what)" on stderr, or one line saying why not. */
import { writeFile } from 'node:fs/promises';

/** True when the file was written; the message goes to stderr either way, so stdout stays the command's output. */
export async function writeReport(command: string, path: string, text: string, what: string): Promise<boolean> {
  try {
    await writeFile(path, text);
    process.stderr.write(`protostack ${command}: wrote ${path} (${what})\n`);
    return true;
  } catch (e) {
    process.stderr.write(`protostack ${command}: cannot write ${path}: ${(e as NodeJS.ErrnoException).code ?? (e as Error).message}\n`);
    return false;
  }
}
