import { readFileSync, statSync } from 'node:fs';
import { InvalidArgumentError, type Command } from 'commander';
import { compilePolicy, formatProblem, type Policy } from '../engine/compilePolicy.js';
import { InputError, noSuchFile } from '../engine/errors.js';
import { parseJson, utf8Text } from '../engine/sourceLocation.js';
import { defaultDbPath } from '../store/dbPath.js';
import { openStore, type OpenOptions, type Store } from '../store/store.js';

export interface CommonOptions {
  db?: string;
  json?: boolean;
}

/** Adds the options every command takes (SPEC §1): `--db FILE` and `--json`. */
export function withCommon(cmd: Command, { json = true } = {}): Command {
  cmd.option(
    '--db <file>',
    'recordings database (default: $MCP_REPLAY_DB, else $XDG_DATA_HOME/mcp-replay/recordings.db, else ~/.local/share/mcp-replay/recordings.db)',
    dbFileArgument,
  );
  if (json) cmd.option('--json', 'JSON Lines on stdout instead of human output');
  return cmd;
}

/**
 * `--db ""` (an unset shell variable) names no file, and `:memory:` is SQLite's db in memory:
 * either way nothing would be kept (a recorder would record nothing, silently).
 */
function dbFileArgument(value: string): string {
  if (value === '') throw new InvalidArgumentError('expects a file path (leave --db out for the default db)');
  if (value === ':memory:')
    throw new InvalidArgumentError("is SQLite's in-memory db, which keeps nothing (a file of that name: ./:memory:)");
  return value;
}

/** `-o ""` / `--out ""` (an unset shell variable): export wrote to stdout, simulate failed after the run. */
export function outputFileArgument(leaveOut: string) {
  return (value: string): string => {
    if (value === '') throw new InvalidArgumentError(`expects a file path (${leaveOut})`);
    return value;
  };
}

/** `--grant`: an empty identity would silently merge every grant's budget into one (replay: fall back to the recorded names). */
export function grantId(value: string): string {
  if (value.trim() === '') throw new InvalidArgumentError('expects a non-empty id');
  return value;
}

/** The default db (SPEC §1); `MCP_REPLAY_DB` is held to what `--db` is (see dbFileArgument). */
function envDbPath(): string {
  const file = defaultDbPath();
  if (file === ':memory:')
    throw new InputError(
      "MCP_REPLAY_DB=:memory: is SQLite's in-memory db, which keeps nothing (a file of that name: ./:memory:)",
    );
  return file;
}

/** Collects a repeatable option's values (`previous` is the default: none, or an array). */
export function collect(value: string, previous: unknown): string[] {
  return [...(Array.isArray(previous) ? (previous as string[]) : []), value];
}

/** The db the command opened (its errors name it: see cli/main.ts). */
let dbFile: string | undefined;

export function openedDb(): string | undefined {
  return dbFile;
}

/**
 * A lazily opened store, closed at exit. `readOnly` for commands that only read: they create
 * nothing, and read a db they may not write read-only; `create: false` for commands that write
 * but create nothing (see openStore).
 */
export function lazyStore(
  options: CommonOptions,
  mode: Pick<OpenOptions, 'readOnly' | 'create' | 'live'> = {},
): { get: () => Store; close: () => void } {
  let store: Store | undefined;
  return {
    get: () => (store ??= openStore((dbFile = options.db ?? envDbPath()), mode)),
    close: () => store?.close(),
  };
}

export function readText(file: string): string {
  let bytes: Buffer;
  try {
    bytes = readFileSync(file);
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    const why =
      code === 'ENOENT' ? noSuchFile(file) : code === 'EISDIR' ? 'is a directory' : (code ?? (err as Error).message);
    throw new InputError(`${file}: cannot read: ${why}`);
  }
  const decoded = utf8Text(bytes);
  if (!decoded.ok)
    throw new InputError(`${file}:${decoded.location.line}:${decoded.location.column}: ${decoded.message}`);
  return decoded.text;
}

/** Reads and compiles a policy file; the first error becomes a one-line InputError. */
export function loadPolicy(file: string): Policy {
  return loadPolicyFile(file).policy;
}

/**
 * A policy file compiled, and its JSON as written (what `simulate` draws names and values from),
 * from one read: a pipe (`<(…)`, `/dev/stdin`) can be read only once; the JSON after a byte
 * order mark, as the policy was compiled.
 */
export function loadPolicyFile(file: string): { policy: Policy; doc: unknown } {
  const text = readText(file);
  const result = compilePolicy(text);
  if (!result.ok) {
    const more =
      result.errors.length > 1 ? ` (+${result.errors.length - 1} more: mcp-replay policy check ${file})` : '';
    throw new InputError(formatProblem(file, result.errors[0]!) + more);
  }
  for (const w of result.warnings) process.stderr.write(`warning: ${formatProblem(file, w)}\n`);
  const parsed = parseJson(text);
  return { policy: result.policy, doc: parsed.ok ? parsed.value : undefined };
}

/**
 * Why an output file must not be written, when it is the db or one of SQLite's files beside it:
 * opening it for writing truncates every recording under SQLite (`-o recordings.db` typed for
 * `.jsonl`). Compared by inode, so another path to the same file (a link, `./`, `..`) counts too.
 */
export function dbOutputClash(file: string, db: string): string | undefined {
  const out = inode(file);
  if (!out) return undefined;
  for (const f of [db, `${db}-wal`, `${db}-shm`, `${db}-journal`]) {
    const id = inode(f);
    if (id && id.dev === out.dev && id.ino === out.ino) return `it is the database ${db} (--db)`;
  }
  return undefined;
}

function inode(file: string): { dev: number; ino: number } | undefined {
  try {
    const st = statSync(file);
    return st.isFile() ? { dev: st.dev, ino: st.ino } : undefined;
  } catch {
    return undefined;
  }
}
