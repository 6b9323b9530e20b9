import { isAbsolute } from 'node:path';

/**
 * Bad input from the user (a policy, a JSONL file, a session id, a flag): the CLI prints the
 * message as one line and exits 2. Its message already names the file and the line or JSON path.
 */
export class InputError extends Error {
  override readonly name = 'InputError';
}

/**
 * The user interrupted a full-screen view (Ctrl-C): the CLI exits 130, as a shell reports a
 * command ended by SIGINT, and prints nothing more (`q` quits normally: the summary, exit 0 or 3).
 */
export class Interrupted extends Error {
  override readonly name = 'Interrupted';
  constructor() {
    super('interrupted');
  }
}

/**
 * "no such file", naming the folder a relative path was looked up in: a host (Claude Desktop,
 * Cursor) may start us in `/`, where `--policy policy.json` names a file nobody meant.
 */
export function noSuchFile(file: string): string {
  return isAbsolute(file) ? 'no such file' : `no such file (relative to the current folder ${process.cwd()})`;
}
