import { statSync } from 'node:fs';
import { basename } from 'node:path';
import { z } from 'zod';
import { InputError } from '../engine/errors.js';
import { jsonPath } from '../engine/jsonPath.js';
import type { SessionInfo, SessionRecord } from '../store/types.js';
import { readLines } from './lines.js';
import type { SessionSource } from './source.js';

const nonNegInt = z.int({ error: 'expected an integer ≥ 0' }).min(0, 'expected an integer ≥ 0');

const sessionLine = z.looseObject({
  type: z.literal('session'),
  id: z.string({ error: 'expected a string' }).min(1, 'must not be empty'),
  name: z.string({ error: 'expected a string' }).optional(),
  startedAt: z.iso.datetime({ offset: true, error: 'expected an ISO 8601 time like "2026-11-24T10:00:00.000Z"' }),
  transport: z.string({ error: 'expected a string' }).optional(),
  server: z.unknown().optional(),
  grant: z.string({ error: 'expected a string' }).optional(),
  endedAt: z.iso.datetime({ offset: true, error: 'expected an ISO 8601 time' }).optional(),
  exitCode: z.int({ error: 'expected an integer or null' }).nullable().optional(),
});

const messageLine = z.strictObject({
  type: z.literal('message'),
  seq: nonNegInt,
  t: nonNegInt,
  dir: z.enum(['c2s', 's2c'], { error: 'expected "c2s"|"s2c"' }),
  // Usually an object or a batch array; but the recorder keeps any JSON line a side sent (a
  // server printing `42`), and an export must import again.
  msg: z.unknown().refine((v) => v !== undefined, 'expected the message (JSON)'),
});

const eventLine = z.strictObject({
  type: z.literal('event'),
  seq: nonNegInt,
  t: nonNegInt,
  event: z.string({ error: 'expected a string' }),
  data: z.unknown().optional(),
});

const KNOWN_SESSION_FIELDS = new Set([
  'type',
  'id',
  'name',
  'startedAt',
  'transport',
  'server',
  'grant',
  'endedAt',
  'exitCode',
]);

type Parsed = { kind: 'session'; info: SessionInfo } | { kind: 'record'; record: SessionRecord } | { kind: 'blank' };

/** Parses one JSONL line (SPEC §4); errors name the file, the line and the JSON path. */
export function parseJsonlLine(file: string, line: number, text: string): Parsed {
  if (text.trim() === '') return { kind: 'blank' };
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (err) {
    const why = (err as Error).message.replace(/ in JSON at position \d+.*$/, '');
    throw new InputError(`${file}:${line}: not valid JSON: ${why}`);
  }
  const type = (value as { type?: unknown } | null)?.type;
  const schema =
    type === 'session' ? sessionLine : type === 'message' ? messageLine : type === 'event' ? eventLine : undefined;
  if (!schema) {
    throw new InputError(`${file}:${line}: type: expected "session"|"message"|"event"`);
  }
  const checked = schema.safeParse(value);
  if (!checked.success) {
    const issue = checked.error.issues[0]!;
    const path = issue.code === 'unrecognized_keys' ? jsonPath([...issue.path, issue.keys[0]!]) : jsonPath(issue.path);
    const message = issue.code === 'unrecognized_keys' ? 'unknown field' : issue.message;
    throw new InputError(`${file}:${line}: ${path}: ${message}`);
  }
  const v = checked.data as Record<string, unknown>;
  if (type === 'session') {
    const extra: Record<string, unknown> = {};
    for (const [k, x] of Object.entries(v)) if (!KNOWN_SESSION_FIELDS.has(k)) extra[k] = x;
    const info: SessionInfo = {
      id: v.id as string,
      startedAt: v.startedAt as string,
      transport: (v.transport as string | undefined) ?? 'stdio',
    };
    if (v.name !== undefined) info.name = v.name as string;
    if (v.server !== undefined) info.server = v.server;
    if (v.grant !== undefined) info.grant = v.grant as string;
    if (v.endedAt !== undefined) info.endedAt = v.endedAt as string;
    if (v.exitCode !== undefined) info.exitCode = v.exitCode as number | null;
    if (Object.keys(extra).length > 0) info.extra = extra;
    return { kind: 'session', info };
  }
  if (type === 'message') {
    return {
      kind: 'record',
      record: {
        type: 'message',
        seq: v.seq as number,
        t: v.t as number,
        dir: v.dir as 'c2s' | 's2c',
        raw: rawMessage(text, v.msg),
      },
    };
  }
  return {
    kind: 'record',
    record: { type: 'event', seq: v.seq as number, t: v.t as number, event: v.event as string, data: v.data },
  };
}

const EPOCH = new Date(0).toISOString();

/**
 * A `.jsonl` recording as a session source. The session line is read eagerly; the records
 * stream. A file without a session line gets an id derived from its name and starts at the epoch.
 * A file that is not a regular one (a pipe: `import /dev/stdin`, `<(...)`) cannot be read twice:
 * its records continue the reading of its session line, once.
 */
export function jsonlSource(file: string): SessionSource {
  let lines: Generator<{ line: number; text: string }> | undefined = isRegularFile(file) ? undefined : readLines(file);
  const head = lines ?? readLines(file);
  let info: SessionInfo | undefined;
  let first: { line: number; text: string } | undefined;
  try {
    for (let next = head.next(); !next.done; next = head.next()) {
      const parsed = parseJsonlLine(file, next.value.line, next.value.text);
      if (parsed.kind === 'blank') continue;
      if (parsed.kind === 'session') info = parsed.info;
      else first = next.value;
      break;
    }
  } finally {
    if (!lines) head.return(undefined);
  }
  info ??= { id: basename(file).replace(/\.jsonl$/i, ''), startedAt: EPOCH, transport: 'stdio' };
  const session = info;
  return {
    info: session,
    origin: file,
    records() {
      if (!lines) return recordsOf(file, readLines(file), false);
      const rest = lines;
      lines = EMPTY;
      if (rest === EMPTY)
        throw new InputError(`${file}: not a regular file, and already read (it cannot be read twice)`);
      return recordsOf(file, withFirst(first, rest), first === undefined);
    },
  };
}

const EMPTY: Generator<{ line: number; text: string }> = (function* () {})();

function isRegularFile(file: string): boolean {
  try {
    return statSync(file).isFile();
  } catch {
    return true; // readLines says why it cannot be read
  }
}

function* withFirst<T>(first: T | undefined, rest: Generator<T>): Generator<T> {
  if (first !== undefined) yield first;
  yield* rest;
}

/** The records of a JSONL file's lines; `seen`: its first line (the session line) was read already. */
function* recordsOf(file: string, lines: Iterable<{ line: number; text: string }>, seen: boolean) {
  let lastSeq = -1;
  for (const { line, text } of lines) {
    const parsed = parseJsonlLine(file, line, text);
    if (parsed.kind === 'blank') continue;
    if (parsed.kind === 'session') {
      if (seen) throw new InputError(`${file}:${line}: a session line must be the first line`);
      seen = true;
      continue;
    }
    seen = true;
    // The session's order: replay and import read the file alike.
    const { seq } = parsed.record;
    if (seq <= lastSeq)
      throw new InputError(`${file}:${line}: seq: ${seq} is not greater than the previous seq ${lastSeq}`);
    lastSeq = seq;
    yield parsed.record;
  }
}

/** The session line of SPEC §4, fields in a fixed order (so export is deterministic). */
export function sessionToJsonl(info: SessionInfo): string {
  const line: Record<string, unknown> = { type: 'session', id: info.id };
  if (info.name !== undefined) line.name = info.name;
  line.startedAt = info.startedAt;
  line.transport = info.transport;
  if (info.server !== undefined) line.server = info.server;
  if (info.grant !== undefined) line.grant = info.grant;
  if (info.endedAt !== undefined) line.endedAt = info.endedAt;
  if (info.exitCode !== undefined) line.exitCode = info.exitCode;
  for (const [k, v] of Object.entries(info.extra ?? {})) if (!(k in line)) line[k] = v;
  return JSON.stringify(line);
}

/**
 * One record as a JSONL line. A message is written as the text stored (the raw message: a
 * number too large for a double keeps its digits); text that is not one line of JSON is
 * re-serialized, so every line stays valid JSONL.
 */
export function recordToJsonl(r: SessionRecord): string {
  if (r.type === 'message') {
    const msg = isOneLineJson(r.raw) ? r.raw.trim() : canonical(r.raw);
    return `{"type":"message","seq":${r.seq},"t":${r.t},"dir":"${r.dir}","msg":${msg}}`;
  }
  const line: Record<string, unknown> = { type: 'event', seq: r.seq, t: r.t, event: r.event };
  if (r.data !== undefined) line.data = r.data;
  return JSON.stringify(line);
}

function isOneLineJson(raw: string): boolean {
  if (raw.includes('\n') || raw.includes('\r')) return false;
  try {
    JSON.parse(raw);
    return true;
  } catch {
    return false;
  }
}

/**
 * The `msg` of a message line as written: usually the canonical form (what `export` writes), else
 * the exact source text of the value (so import keeps, e.g., a large integer's digits).
 */
function rawMessage(line: string, msg: unknown): string {
  let canon: string | undefined;
  try {
    canon = JSON.stringify(msg);
  } catch {
    // Nested deeper than the stack (the recorder keeps such a message): its text, as written.
  }
  return canon !== undefined && line.includes(canon) ? canon : (memberText(line, 'msg') ?? canon!);
}

/** A key's colon, after it (whitespace allowed). */
const COLON_AFTER = /\s*:/y;

/**
 * The source text of a top-level member's value in a JSON object's text, found by a scan (no
 * recursion: a value may nest deeper than the stack); undefined if there is no such member.
 */
function memberText(text: string, key: string): string | undefined {
  let depth = 0;
  let valueStart = -1;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (c === 34) {
      const start = i;
      for (i++; i < text.length && text.charCodeAt(i) !== 34; i++) if (text.charCodeAt(i) === 92) i++;
      COLON_AFTER.lastIndex = i + 1;
      // A key of the top-level object (a string before a colon): the one asked for?
      if (depth === 1 && valueStart === -1 && COLON_AFTER.test(text) && JSON.parse(text.slice(start, i + 1)) === key)
        valueStart = COLON_AFTER.lastIndex;
      continue;
    }
    if (c === 123 || c === 91) depth++;
    else if (c === 125 || c === 93) depth--;
    if (valueStart !== -1 && ((depth === 1 && c === 44) || depth === 0)) return text.slice(valueStart, i).trim();
  }
  return undefined;
}

function canonical(raw: string): string {
  try {
    return JSON.stringify(JSON.parse(raw));
  } catch {
    return JSON.stringify(raw);
  }
}
