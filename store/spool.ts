import {
  closeSync,
  existsSync,
  fstatSync,
  ftruncateSync,
  mkdirSync,
  openSync,
  readdirSync,
  readFileSync,
  readlinkSync,
  rmSync,
  writeSync,
} from 'node:fs';
import { createHash } from 'node:crypto';
import { hostname } from 'node:os';
import { dirname, join } from 'node:path';
import type { DecisionRecord } from './decisionLog.js';
import type { Direction, SessionInfo } from './types.js';

/**
 * The recorder's spool: an append-only file per live session, beside the db, that makes each
 * batch of rows durable with one `write` before the batch is forwarded. The rows are copied into
 * the db a few milliseconds later, in transactions of many batches, and the spool is emptied.
 * If the recorder dies first, whoever opens the db next copies what the spool holds (`openStore`
 * does it): every reader of the db sees every message that crossed the proxy.
 *
 * A spool is the db's write-ahead log for recordings, like SQLite's own `-wal` file: a commit
 * through SQLite costs ~35 µs (locks, a 4 KiB page per table touched, checkpoints), a `write`
 * ~3 µs. Same durability class as the db's (`synchronous = NORMAL`): it survives the process, not
 * the machine losing power.
 *
 * Format: a header line per row, a JSON array whose last element is the byte length of the
 * payload that follows, then the payload and `\n`. A torn last row (the process killed in the
 * middle of a write) is incomplete and ignored: it had not been forwarded.
 *   ["s", sessionId]                                    the first row: whose rows these are
 *   ["m", seq, t, dir, method, rpcId, length] raw       a message (its raw text)
 *   ["r", seq, t, dir, length] raw                      a line not parsed before it was forwarded: a
 *                                                       message, or a `non-json` event if it is not JSON
 *   ["e", seq, t, event, length] data                   an event (its data as JSON, or empty)
 *   ["a", seq, rpcId, tool, decision, reason, rule,     a decision of the spool's session
 *    retryAfterMs, policySha256, at, enforced, n, 0]
 *   ["d", length] record                                a decision (DecisionRecord as JSON; older spools)
 *   ["l", id, t, keepMs, length] key                    a call a sole gateway counted (store/sqliteLimiter.ts)
 *   ["n", length] info                                  the session itself (SessionInfo as JSON): the db was
 *                                                       locked when the recorder started (before its rows)
 *   ["x", endedAt, exitCode, 0]                         the session's end (after its last rows)
 */
export type SpoolRow =
  | { kind: 'message'; seq: number; t: number; dir: Direction; raw: string; method: string | null; id: string | null }
  | RawRow
  | { kind: 'event'; seq: number; t: number; event: string; data: string | null }
  | { kind: 'decision'; record: DecisionRecord }
  | { kind: 'limit'; id: number; key: string; t: number; keepMs: number }
  | { kind: 'session'; info: SessionInfo }
  | { kind: 'end'; endedAt: string; exitCode: number | null };

/**
 * A line spooled as it arrived, before anyone parsed it (nothing in it needed redacting, so the
 * stored text is the line whatever it holds). `facts` is filled in once it is parsed, after it was
 * forwarded; a row without them is parsed when it is copied into the db.
 */
export interface RawRow {
  kind: 'raw';
  seq: number;
  t: number;
  dir: Direction;
  raw: string;
  /** The message's method and id (`messageFacts`), or null: not JSON. */
  facts?: MessageFacts | null;
}

/** The columns of a message row besides its text. */
export interface MessageFacts {
  /** The method (of a batch's first element), if a string. */
  method: string | null;
  /** The JSON-RPC id (of a batch's first element) as JSON text, if any. */
  id: string | null;
}

/** The method and id of a parsed message (a batch is known by its first element). */
export function messageFacts(json: unknown): MessageFacts {
  const first = (Array.isArray(json) ? json[0] : json) as { method?: unknown; id?: unknown } | null | undefined;
  return {
    method: typeof first?.method === 'string' ? first.method : null,
    id: first?.id === undefined || first.id === null ? null : JSON.stringify(first.id),
  };
}

/** The facts of a raw line: parsed now if they were not yet; null if it is not JSON. */
export function rawFacts(row: RawRow): MessageFacts | null {
  if (row.facts !== undefined) return row.facts;
  try {
    return messageFacts(JSON.parse(row.raw));
  } catch {
    return null;
  }
}

/** A raw row's `non-json` event data: as the recorder writes it for a line it parsed (`{ dir, text }`). */
export function nonJsonData(dir: Direction, text: string): string {
  return JSON.stringify({ dir, text });
}

/**
 * This machine and pid namespace. A pid can only be checked by a process that shares both; a
 * spool or a gateway from elsewhere (another container on a shared volume) is assumed alive.
 */
export const HOST = (() => {
  try {
    return `${hostname()}/${readlinkSync('/proc/self/ns/pid')}`;
  } catch {
    return hostname();
  }
})();
const HOST_TAG = createHash('sha256').update(HOST).digest('hex').slice(0, 8);

/** The folder of a db's spools: `<db>.spool`. */
export function spoolDir(dbFile: string): string {
  return `${dbFile}.spool`;
}

export function encodeRow(row: SpoolRow): string {
  switch (row.kind) {
    case 'message': {
      // The header by hand (the hot path): method and id are JSON strings or null.
      const method = row.method === null ? 'null' : JSON.stringify(row.method);
      const id = row.id === null ? 'null' : JSON.stringify(row.id);
      return `["m",${row.seq},${row.t},"${row.dir}",${method},${id},${Buffer.byteLength(row.raw)}]\n${row.raw}\n`;
    }
    case 'raw':
      return `["r",${row.seq},${row.t},"${row.dir}",${Buffer.byteLength(row.raw)}]\n${row.raw}\n`;
    case 'event': {
      const data = row.data ?? '';
      return `${JSON.stringify(['e', row.seq, row.t, row.event, row.data === null ? -1 : Buffer.byteLength(data)])}\n${data}\n`;
    }
    case 'decision': {
      // An array, not the record's JSON: no key names to write (twice as fast, on the forwarding path).
      const r = row.record;
      const header = JSON.stringify([
        'a',
        r.seq,
        r.rpcId ?? null,
        r.tool,
        r.decision,
        r.reason,
        r.rule,
        r.retryAfterMs ?? null,
        r.policySha256,
        r.at,
        r.enforced ? 1 : 0,
        r.n ?? null,
        0,
      ]);
      return `${header}\n\n`;
    }
    case 'limit':
      return `["l",${row.id},${row.t},${row.keepMs},${Buffer.byteLength(row.key)}]\n${row.key}\n`;
    case 'session': {
      const info = JSON.stringify(row.info);
      return `["n",${Buffer.byteLength(info)}]\n${info}\n`;
    }
    case 'end':
      return `${JSON.stringify(['x', row.endedAt, row.exitCode, 0])}\n\n`;
  }
}

/** A spool's complete rows; `torn` counts the bytes after the last complete row (a cut-off write). */
export function decodeSpool(bytes: Buffer): { sessionId: string | undefined; rows: SpoolRow[]; torn: number } {
  const rows: SpoolRow[] = [];
  let sessionId: string | undefined;
  let pos = 0;
  while (pos < bytes.length) {
    const nl = bytes.indexOf(10, pos);
    if (nl < 0) break;
    let header: unknown[];
    try {
      header = JSON.parse(bytes.toString('utf8', pos, nl)) as unknown[];
    } catch {
      break;
    }
    if (!Array.isArray(header)) break;
    if (header[0] === 's') {
      sessionId = String(header[1]);
      pos = nl + 1;
      continue;
    }
    const length = header[header.length - 1] as number;
    const start = nl + 1;
    const end = start + Math.max(length, 0);
    if (!Number.isInteger(length) || end >= bytes.length || bytes[end] !== 10) break;
    const payload = bytes.toString('utf8', start, end);
    const [kind] = header;
    if (kind === 'm') {
      const [, seq, t, dir, method, id] = header as [string, number, number, Direction, string | null, string | null];
      rows.push({ kind: 'message', seq, t, dir, raw: payload, method, id });
    } else if (kind === 'r') {
      const [, seq, t, dir] = header as [string, number, number, Direction];
      rows.push({ kind: 'raw', seq, t, dir, raw: payload });
    } else if (kind === 'e') {
      const [, seq, t, event] = header as [string, number, number, string];
      rows.push({ kind: 'event', seq, t, event, data: length < 0 ? null : payload });
    } else if (kind === 'a') {
      const [, seq, rpcId, tool, decision, reason, rule, retryAfterMs, policySha256, at, enforced, n] = header as [
        string,
        number,
        string | null,
        string,
        DecisionRecord['decision'],
        string,
        string,
        number | null,
        string,
        number,
        number,
        number | null,
      ];
      const record: DecisionRecord = {
        sessionId: sessionId ?? '',
        seq,
        rpcId,
        tool,
        decision,
        reason,
        rule,
        policySha256,
        at,
        enforced: enforced === 1,
      };
      if (retryAfterMs !== null) record.retryAfterMs = retryAfterMs;
      if (n !== null) record.n = n;
      rows.push({ kind: 'decision', record });
    } else if (kind === 'd') {
      rows.push({ kind: 'decision', record: JSON.parse(payload) as DecisionRecord });
    } else if (kind === 'l') {
      const [, id, t, keepMs] = header as [string, number, number, number];
      rows.push({ kind: 'limit', id, key: payload, t, keepMs });
    } else if (kind === 'n') {
      rows.push({ kind: 'session', info: JSON.parse(payload) as SessionInfo });
    } else if (kind === 'x') {
      const [, endedAt, exitCode] = header as [string, string, number | null];
      rows.push({ kind: 'end', endedAt, exitCode });
    } else break;
    pos = end + 1;
  }
  return { sessionId, rows, torn: bytes.length - pos };
}

/** The live side: one session's spool file, written by the recorder that owns it. */
export class SpoolFile {
  private fd: number | undefined;
  /** Bytes of whole rows in the file. */
  private length = 0;

  private constructor(
    readonly path: string,
    private readonly sessionId: string,
  ) {
    this.fd = openSync(path, 'a', 0o600);
    this.reset();
  }

  /** Creates `<db>.spool/<session>.<host tag>.<pid>.spool` (folder 0700, file 0600). */
  static create(dbFile: string, sessionId: string): SpoolFile {
    const dir = spoolDir(dbFile);
    if (!existsSync(dir)) mkdirSync(dir, { mode: 0o700 });
    return new SpoolFile(join(dir, `${sessionId}.${HOST_TAG}.${process.pid}.spool`), sessionId);
  }

  /**
   * Appends encoded rows; when this returns they survive the process. A write that fails (a full
   * disk) is cut off again, so that the rows after it stay readable.
   */
  append(text: string): void {
    if (this.fd === undefined) throw new Error(`spool ${this.path} is closed`);
    const fd = this.fd;
    // Written as a string (no Buffer of our own); a short write is finished from bytes.
    const length = Buffer.byteLength(text);
    try {
      let done = writeSync(fd, text);
      if (done < length) {
        const bytes = Buffer.from(text);
        while (done < length) done += writeSync(fd, bytes, done);
      }
    } catch (err) {
      try {
        ftruncateSync(fd, this.length);
      } catch {
        // the rows after a torn one are then lost to a recovery; the db copy still has them
      }
      throw err;
    }
    this.length += length;
  }

  /**
   * Everything written so far is in the db: start again from an empty file. A spool deleted
   * meanwhile (its folder cleaned up by hand, a tmp reaper) is made anew, and true returned: the
   * rows written since were only in the deleted file, which no recovery can find, and readers
   * took the session for one whose recorder is gone.
   */
  reset(): boolean {
    if (this.fd === undefined) return false;
    const deleted = fstatSync(this.fd).nlink === 0;
    if (deleted) {
      const dir = dirname(this.path);
      if (!existsSync(dir)) mkdirSync(dir, { mode: 0o700 });
      const fd = openSync(this.path, 'a', 0o600);
      closeSync(this.fd);
      this.fd = fd;
    }
    ftruncateSync(this.fd);
    this.length = 0;
    this.append(JSON.stringify(['s', this.sessionId]) + '\n');
    return deleted;
  }

  /** Closes and deletes the file (call once everything is in the db). */
  remove(): void {
    if (this.fd === undefined) return;
    closeSync(this.fd);
    this.fd = undefined;
    rmSync(this.path, { force: true });
  }
}

/**
 * Spool files left in a db's spool folder, with whether the process that writes each may be
 * alive (always, for one of another host or pid namespace: it cannot be checked from here).
 */
export function listSpools(dbFile: string): { path: string; live: boolean }[] {
  const dir = spoolDir(dbFile);
  let names: string[];
  try {
    names = readdirSync(dir);
  } catch {
    return [];
  }
  return names
    .filter((n) => n.endsWith('.spool'))
    .map((n) => {
      const parts = n.split('.');
      const pid = Number(parts.at(-2));
      const here = parts.length < 4 || parts.at(-3) === HOST_TAG;
      return { path: join(dir, n), live: !here || !Number.isInteger(pid) || alive(pid) };
    });
}

/**
 * The sessions whose recorder may be running: those with a live spool (every recorder keeps one
 * until its session ends). A session without an end and without one was cut off (`kill -9`, a
 * lost machine) or imported so.
 */
export function liveSessionIds(dbFile: string): Set<string> {
  const ids = new Set<string>();
  for (const { path, live } of listSpools(dbFile)) {
    if (!live) continue;
    // <session>.<host tag>.<pid>.spool (older: <session>.<pid>.spool)
    const parts = path.slice(spoolDir(dbFile).length + 1).split('.');
    ids.add(parts.slice(0, parts.length >= 4 ? -3 : -2).join('.'));
  }
  return ids;
}

export function readSpool(path: string): ReturnType<typeof decodeSpool> | undefined {
  try {
    return decodeSpool(readFileSync(path));
  } catch {
    return undefined; // gone meanwhile (its recorder finished)
  }
}

/** Whether a process of this pid namespace is running (EPERM: it is, someone else's). */
export function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}
