/**
 * Bad input from the user (a policy, a JSONL file, a session id, a flag): the CLI prints the
 * message as one line and exits 2. Its message already names the file and the line or JSON path.
 */
export class InputError extends Error {
  override readonly name = 'InputError';
}
