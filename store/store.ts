import Database from 'better-sqlite3';
import {
  accessSync,
  chmodSync,
  constants,
  copyFileSync,
  existsSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  realpathSync,
  rmSync,
  statSync,
  unlinkSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { InputError } from '../engine/errors.js';
import { ApprovalQueue, type Approval, type ApprovalRequest } from './approvalQueue.js';
import { DecisionLog, decisionValues, type DecisionRecord } from './decisionLog.js';
import { MIGRATIONS } from './migrations.js';
import {
  decodeSpool,
  listSpools,
  liveSessionIds,
  nonJsonData,
  rawFacts,
  readSpool,
  spoolDir,
  type SpoolRow,
} from './spool.js';
import { StatementPool } from './statementPool.js';
import type { Direction, MessageRecord, ReplayMessage, SessionInfo, SessionRecord, SessionSummary } from './types.js';

type Db = Database.Database;

/**
 * Every session with its number of messages and of `tools/call` requests from the client: a
 * message's method is its first member's, so a JSON-RPC batch (a line starting with `[`) is
 * counted by its members. One scan of `messages` in key order, reading a server's message no
 * further than its `dir`: a lookup of a session's rows (`WHERE session_id = ?`) compared each
 * row's whole key, and a WITHOUT ROWID row's key is the row, `msg` and its overflow pages
 * included, so counting read every byte recorded (38 s for a 2 GB db of 40 sessions).
 */
const LIST_SESSIONS_SQL = `WITH counts AS MATERIALIZED (
    SELECT session_id, count(*) AS n_messages, sum(
      CASE WHEN dir <> 'c2s' THEN 0
        WHEN ltrim(substr(msg, 1, 16)) NOT LIKE '[%' THEN method = 'tools/call'
        ELSE (SELECT count(*) FROM json_each(CASE WHEN json_valid(msg) THEN msg ELSE '[]' END) j
              WHERE json_extract(j.value, '$.method') = 'tools/call')
      END) AS n_calls
    FROM messages GROUP BY session_id)
  SELECT s.*, coalesce(c.n_messages, 0) AS n_messages, coalesce(c.n_calls, 0) AS n_calls
  FROM sessions s LEFT JOIN counts c ON c.session_id = s.id ORDER BY s.started_at, s.id`;

// Only the client's messages that can hold a tools/call or an initialize, or are requests (batches
// are kept: their method column is the first element's). Like RECORDS_SQL, a statement per reading at
// once (StatementPool): the timeline merges several sessions, and one better-sqlite3 statement
// cannot iterate twice at once.
const REPLAY_MESSAGES_SQL = `SELECT seq, t, method, msg FROM messages WHERE session_id = ? AND dir = 'c2s'
  AND (method IN ('tools/call', 'initialize') OR method IS NULL OR rpc_id IS NOT NULL OR substr(msg, 1, 1) = '[')
  ORDER BY seq`;

// The server's answers (a message with an id and no method) and batches, between two messages.
const ANSWERS_SQL = `SELECT seq, t, method, rpc_id, CASE WHEN substr(msg, 1, 1) = '[' THEN msg END FROM messages
  WHERE session_id = ? AND seq > ? AND seq < ? AND dir = 's2c'
  AND ((method IS NULL AND rpc_id IS NOT NULL) OR substr(msg, 1, 1) = '[')
  ORDER BY seq`;

const RECORDS_SQL = `SELECT 'message' AS type, seq, t, dir, msg AS body, NULL AS event FROM messages WHERE session_id = @id
  UNION ALL
  SELECT 'event' AS type, seq, t, NULL AS dir, data AS body, event FROM events WHERE session_id = @id
  ORDER BY seq`;

// A read-only store's copy of the spools' rows (Store.showSpools), as the db's tables hold them.
const SPOOLED_SQL = `
  CREATE TEMP TABLE spooled_messages (
    session_id TEXT NOT NULL, seq INTEGER NOT NULL, t INTEGER NOT NULL, dir TEXT NOT NULL, method TEXT,
    rpc_id TEXT, size INTEGER NOT NULL, msg TEXT NOT NULL, PRIMARY KEY (session_id, seq)
  ) WITHOUT ROWID;
  CREATE TEMP TABLE spooled_events (
    session_id TEXT NOT NULL, seq INTEGER NOT NULL, t INTEGER NOT NULL, event TEXT NOT NULL, data TEXT,
    PRIMARY KEY (session_id, seq)
  ) WITHOUT ROWID;
  CREATE TEMP TABLE spooled_decisions (
    id INTEGER PRIMARY KEY, session_id TEXT NOT NULL, seq INTEGER NOT NULL, rpc_id TEXT, tool TEXT NOT NULL,
    decision TEXT NOT NULL, reason TEXT NOT NULL, rule TEXT NOT NULL, retry_after_ms INTEGER,
    policy_sha256 TEXT NOT NULL, at REAL NOT NULL, enforced INTEGER NOT NULL, n INTEGER, UNIQUE (session_id, n)
  );
  CREATE TEMP TABLE spooled_sessions (
    id TEXT PRIMARY KEY, name TEXT, started_at TEXT NOT NULL, transport TEXT NOT NULL, server TEXT, grant_id TEXT,
    ended_at TEXT, exit_code INTEGER, extra TEXT
  );
  CREATE TEMP TABLE spooled_ends (session_id TEXT PRIMARY KEY, ended_at TEXT NOT NULL, exit_code INTEGER);`;

// What the db's tables hold and the rows of the spools they lack (a live recorder may copy its
// rows meanwhile). A decision without n (older spools) is never known again, as in a copy.
const SPOOLED_VIEWS_SQL = `
  CREATE TEMP VIEW messages AS
    SELECT session_id, seq, t, dir, method, rpc_id, size, msg FROM main.messages
    UNION ALL
    SELECT session_id, seq, t, dir, method, rpc_id, size, msg FROM temp.spooled_messages s
    WHERE NOT EXISTS (SELECT 1 FROM main.messages m WHERE m.session_id = s.session_id AND m.seq = s.seq);
  CREATE TEMP VIEW events AS
    SELECT session_id, seq, t, event, data FROM main.events
    UNION ALL
    SELECT session_id, seq, t, event, data FROM temp.spooled_events s
    WHERE NOT EXISTS (SELECT 1 FROM main.events e WHERE e.session_id = s.session_id AND e.seq = s.seq);
  CREATE TEMP VIEW decisions AS
    SELECT id, session_id, seq, rpc_id, tool, decision, reason, rule, retry_after_ms, policy_sha256, at, enforced, n
    FROM main.decisions
    UNION ALL
    SELECT id, session_id, seq, rpc_id, tool, decision, reason, rule, retry_after_ms, policy_sha256, at, enforced, n
    FROM temp.spooled_decisions s
    WHERE s.n IS NULL OR NOT EXISTS (SELECT 1 FROM main.decisions d WHERE d.session_id = s.session_id AND d.n = s.n);`;

// The sessions of recorders that started while the db was locked, and the ends that only a spool
// holds (the db was locked when its recorder finished): only when a spool has such rows.
const SPOOLED_SESSIONS_SQL = `
  CREATE TEMP VIEW sessions AS
    SELECT s.id, s.name, s.started_at, s.transport, s.server, s.grant_id,
      CASE WHEN s.ended_at IS NULL AND e.session_id IS NOT NULL THEN e.ended_at ELSE s.ended_at END AS ended_at,
      CASE WHEN s.ended_at IS NULL AND e.session_id IS NOT NULL THEN e.exit_code ELSE s.exit_code END AS exit_code,
      s.extra
    FROM (
      SELECT id, name, started_at, transport, server, grant_id, ended_at, exit_code, extra FROM main.sessions
      UNION ALL
      SELECT id, name, started_at, transport, server, grant_id, ended_at, exit_code, extra FROM temp.spooled_sessions
      WHERE id NOT IN (SELECT id FROM main.sessions)
    ) s LEFT JOIN temp.spooled_ends e ON e.session_id = s.id;`;

interface SessionRow {
  id: string;
  name: string | null;
  started_at: string;
  transport: string;
  server: string | null;
  grant_id: string | null;
  ended_at: string | null;
  exit_code: number | null;
  extra: string | null;
}

export interface OpenOptions {
  /** A db that is not there is an error. */
  mustExist?: boolean;
  /**
   * The command only reads (lists, replays): it creates nothing, and a db it may not write (a
   * read-only file, folder or mount, another user's file) is opened read-only (see openReadOnly).
   */
  readOnly?: boolean;
  /**
   * False: create nothing, though the command writes (`sessions rm`, answering an approval): a db
   * that is not there reads as an empty one. Default: not `readOnly`.
   */
  create?: boolean;
  /**
   * A recorder or gateway about to serve traffic: copying the spools other recorders left waits
   * for no lock another process holds (the next opener copies them), so that a busy db does not
   * delay the server's start by seconds.
   */
  live?: boolean;
}

/**
 * Opens (creating with mode 0700/0600 and migrating) the recordings db. A command that creates
 * nothing (`readOnly`, `create: false`) reads a db that is not there as an empty one (a typo in
 * `--db` must not leave folders and files behind).
 */
export function openStore(file: string, options: OpenOptions = {}): Store {
  if (file !== ':memory:') {
    if (!existsSync(file)) {
      if (options.mustExist) throw new InputError(`${file}: no such database`);
      if (options.readOnly || options.create === false) return new Store(new Database(':memory:'), file);
      try {
        makeDirs(dirname(file));
      } catch (err) {
        const e = err as NodeJS.ErrnoException;
        throw new InputError(`${file}: cannot create its folder${e.path ? ` ${e.path}` : ''}: ${errnoText(e)}`);
      }
      // SQLite would say only "unable to open database file". Relative, the folder is named as
      // the absolute one it is: a host may have started us anywhere (`/`).
      const folder = resolve(dirname(file));
      if (!mayWrite(folder))
        throw new InputError(`${file}: cannot create it: ${folder} is not writable (${whyNotWritable(folder)})`);
    } else if (options.readOnly && !writable(file)) return openReadOnly(file);
  }
  // Several processes opening one new db at once (gateways started together) race to create it,
  // switch it to WAL and migrate it: a step SQLite answers "locked" without waiting is tried
  // again (for up to OPEN_BUSY_MS), as the busy timeout does for the others.
  for (let waited = 0; ; waited += OPEN_RETRY_MS) {
    let db: Db | undefined;
    try {
      const fresh = file !== ':memory:' && !existsSync(file);
      db = new Database(file);
      if (fresh) chmodSync(file, 0o600);
      return new Store(db, file, { live: options.live });
    } catch (err) {
      db?.close();
      if (err instanceof InputError) throw err;
      // Refused a write that access(2) did not foresee (root on an NFS share that squashes root).
      if (options.readOnly && file !== ':memory:' && cannotWrite(err)) return openReadOnly(file);
      const busy = String((err as { code?: unknown }).code ?? '').startsWith('SQLITE_BUSY');
      if (busy && waited < OPEN_BUSY_MS) {
        Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, OPEN_RETRY_MS);
        continue;
      }
      throw new InputError(`${file}: cannot open database: ${(err as Error).message}`);
    }
  }
}

const OPEN_BUSY_MS = 5000;
/** How long a live store's start waits for another process's lock where it can do without (`live`). */
const LIVE_BUSY_MS = 100;
/** How long a statement waits for another connection's lock (SQLite's busy timeout). */
const BUSY_MS = 5000;
const OPEN_RETRY_MS = 50;

/**
 * `mkdir -p` with mode 0700, one level at a time (Node's recursive mkdir never returns for some
 * paths, e.g. under /proc).
 */
function makeDirs(dir: string): void {
  if (existsSync(dir)) return;
  const parent = dirname(dir);
  if (parent !== dir) makeDirs(parent);
  mkdirSync(dir, { mode: 0o700 });
}

/** Whether this process may write the db: the file, its folder (where SQLite creates `-wal` and `-shm`) and the `-wal` and `-shm` there are. */
function writable(file: string): boolean {
  let real: string;
  try {
    real = realpathSync(file);
  } catch {
    return true; // SQLite says what is wrong
  }
  return [real, dirname(real), `${real}-wal`, `${real}-shm`].every((f, i) => (i > 1 && !existsSync(f)) || mayWrite(f));
}

/** Why `access(W_OK)` refuses `path`, in words. */
function whyNotWritable(path: string): string {
  try {
    accessSync(path, constants.W_OK);
    return 'permission denied';
  } catch (err) {
    return errnoText(err as NodeJS.ErrnoException);
  }
}

/** A file system error's code in words (what `ls` or `mkdir` would say). */
function errnoText(err: NodeJS.ErrnoException): string {
  const words: Record<string, string> = {
    EACCES: 'permission denied',
    EPERM: 'permission denied',
    EROFS: 'read-only file system',
    ENOSPC: 'no space left on the device',
    ENOTDIR: 'a part of the path is a file, not a folder',
  };
  return (err.code && words[err.code]) ?? err.code ?? err.message;
}

function mayWrite(path: string): boolean {
  try {
    accessSync(path, constants.W_OK);
    return true;
  } catch {
    return false;
  }
}

function cannotWrite(err: unknown): boolean {
  const code = String((err as { code?: unknown }).code ?? '');
  return code.startsWith('SQLITE_READONLY') || code.startsWith('SQLITE_CANTOPEN') || code === 'SQLITE_PERM';
}

/**
 * Opens a db this process may not write, for a command that only reads: nothing is migrated,
 * switched to WAL, copied from the spools (their rows are read into memory: see Store.showSpools),
 * deleted or created beside it. SQLite reads a WAL db through its `-shm` (the index of the `-wal`),
 * which it cannot create in a read-only folder ("unable to open database file", or "attempt to
 * write a readonly database"), and in a writable one it would leave a `-shm` and a `-wal` of this
 * user's there (which can lock the db's owner out of it). So, in order:
 * 1. both there (a db in use, or left by a process killed): read through them, read-only ones too;
 * 2. no `-wal`, or an empty one: the db file holds every commit; `immutable=1` reads it as a plain
 *    file (no `-shm`, no locks);
 * 3. a `-wal` without its `-shm` (a copy made without it): a private copy of the two, in a
 *    temporary folder deleted on close (as `immutable=1` ignores the `-wal`: its commits would be lost);
 * 4. a `-wal` that cannot be read: `immutable=1`, saying on stderr that its commits are not shown.
 */
function openReadOnly(file: string): Store {
  enableUris();
  let real: string;
  try {
    real = realpathSync(file);
  } catch (err) {
    throw new InputError(
      `${file}: cannot open database: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}`,
    );
  }
  const wal = sizeOf(`${real}-wal`);
  const attempts: (() => { db: Db; scratch?: string; note?: string })[] = [];
  if (wal !== undefined && existsSync(`${real}-shm`))
    attempts.push(() => ({ db: new Database(real, { readonly: true }) }));
  if (!wal) attempts.push(() => ({ db: immutable(real) }));
  else {
    attempts.push(() => privateCopy(real));
    attempts.push(() => ({
      db: immutable(real),
      note: `${file}: cannot read its -wal file (${reason(last)}): what was committed since its last checkpoint is not shown`,
    }));
  }
  let first: unknown;
  let last: unknown;
  for (const attempt of attempts) {
    let opened: ReturnType<(typeof attempts)[number]> | undefined;
    try {
      opened = attempt();
      const version = opened.db.pragma('user_version', { simple: true }) as number;
      const tables = opened.db.prepare(`SELECT count(*) FROM sqlite_master`).pluck().get() as number;
      if (version === 0 && tables === 0) {
        // An empty file (a db created and never opened by mcp-replay): an empty db, as a missing one.
        dispose(opened);
        return new Store(new Database(':memory:'), file);
      }
      if (version > MIGRATIONS.length) {
        throw new InputError(
          `${file}: database schema v${version} is newer than this mcp-replay (v${MIGRATIONS.length})`,
        );
      }
      if (version < MIGRATIONS.length) {
        throw new InputError(
          `${file}: database schema v${version} is older than this mcp-replay (v${MIGRATIONS.length}) and cannot be upgraded by a user who may not write it: run any mcp-replay command on it once as one who may (the file and its folder), or read a writable copy`,
        );
      }
      if (opened.note) process.stderr.write(`mcp-replay: ${opened.note}\n`);
      return new Store(opened.db, file, { readOnly: true, scratch: opened.scratch });
    } catch (err) {
      if (opened) dispose(opened);
      if (err instanceof InputError) throw err;
      first ??= err;
      last = err;
    }
  }
  throw new InputError(`${file}: cannot open database: ${(first as Error).message}`);
}

function reason(err: unknown): string {
  return (err as NodeJS.ErrnoException | undefined)?.code ?? (err as Error | undefined)?.message ?? 'unknown';
}

function dispose({ db, scratch }: { db: Db; scratch?: string | undefined }): void {
  db.close();
  if (scratch) rmSync(scratch, { recursive: true, force: true });
}

/** The db file as SQLite's `immutable=1` reads it: never changing, so without locks, `-wal` or `-shm`. */
function immutable(real: string): Db {
  return new Database(`${pathToFileURL(real).href}?immutable=1`, { readonly: true });
}

/** A copy of the db and its `-wal` in a new private folder (the Store deletes it on close). */
function privateCopy(real: string): { db: Db; scratch: string } {
  const scratch = mkdtempSync(join(tmpdir(), 'mcp-replay-read-'));
  try {
    const copy = join(scratch, 'r.db');
    copyFileSync(real, copy);
    copyFileSync(`${real}-wal`, `${copy}-wal`);
    return { db: new Database(copy, { readonly: true }), scratch };
  } catch (err) {
    rmSync(scratch, { recursive: true, force: true });
    throw err;
  }
}

function sizeOf(file: string): number | undefined {
  try {
    return statSync(file).size;
  } catch {
    return undefined;
  }
}

let urisEnabled = false;

/**
 * Lets SQLite take `file:` URIs (for `immutable=1`): better-sqlite3 builds SQLite without them
 * (SQLITE_USE_URI=0) and turns them on only if SQLITE_USE_URI=1 is in the environment when its
 * addon loads, at the first Database of the process (no effect after: a URI is then taken for a
 * file name that does not exist, and openReadOnly reads a private copy instead). Done only by a
 * reader of a db it cannot write, before it opens any: a writer's `--db file:x` stays a file
 * name. The environment is put back (the processes we start must not inherit it).
 */
function enableUris(): void {
  if (urisEnabled) return;
  urisEnabled = true;
  const before = process.env.SQLITE_USE_URI;
  process.env.SQLITE_USE_URI = '1';
  try {
    new Database(':memory:').close();
  } finally {
    if (before === undefined) delete process.env.SQLITE_USE_URI;
    else process.env.SQLITE_USE_URI = before;
  }
}

/** The only place that knows SQL. Statements are prepared once; reads of sessions stream. */
export class Store {
  private readonly stmts;
  /** The file opened (device and inode), if it is one. */
  private readonly identity: string | undefined;
  private readonly recordsPool: StatementPool;
  private readonly replayPool: StatementPool;

  /**
   * Opened read-only (openReadOnly: a db this process may not write, for a command that only
   * reads): a write fails.
   */
  readonly readOnly: boolean;
  /** The private folder of a copy read instead of the db (see openReadOnly), deleted on close. */
  private readonly scratch: string | undefined;

  constructor(
    readonly db: Db,
    readonly file: string,
    mode: { readOnly?: boolean; scratch?: string | undefined; live?: boolean | undefined } = {},
  ) {
    this.readOnly = mode.readOnly ?? false;
    this.scratch = mode.scratch;
    this.identity = db.memory ? undefined : fileIdentity(file);
    // First, so that the pragmas and migrations below wait for another process opening the db.
    db.pragma(`busy_timeout = ${BUSY_MS}`);
    // Read-only, the schema was checked by openReadOnly, and the journal mode is the db's.
    if (!this.readOnly) db.pragma('journal_mode = WAL');
    db.pragma('synchronous = NORMAL');
    db.pragma('foreign_keys = ON');
    // Replay and diff scan sessions of millions of rows: read pages through a memory map, not read().
    db.pragma('mmap_size = 268435456');
    if (!this.readOnly) migrate(db, file);
    // Before the statements are prepared: they then read the spooled rows too.
    else this.showSpools();
    this.stmts = this.prepare(db);
    this.recordsPool = new StatementPool(db, RECORDS_SQL);
    this.replayPool = new StatementPool(db, REPLAY_MESSAGES_SQL, true);
    // The inserts of rows are prepared when first used, but for a writer: read-only, `messages`
    // and `events` may be views (showSpools), which an INSERT cannot even be prepared against.
    if (!this.readOnly) void this.rowWrites;
    const copyRows = db.transaction((sessionId: string, rows: readonly SpoolRow[]) => {
      const { getSession } = this.stmts;
      const { spoolMessage, spoolEvent, spoolLimit } = this.rowWrites;
      // A session deleted meanwhile (`sessions rm`) takes its rows with it; the counted calls of
      // a gateway are not the session's: they stay in the counters.
      let session = getSession.get(sessionId) !== undefined;
      for (const r of rows) {
        if (r.kind === 'limit') spoolLimit.run(r.id, r.key, r.t, r.keepMs);
        else if (r.kind === 'session') {
          // The session of a recorder that started while the db was locked: its first row.
          if (!session) this.stmts.insertSession.run(sessionValues(r.info));
          session = true;
        } else if (session) {
          writeSpoolRow(sessionId, r, {
            message: spoolMessage,
            event: spoolEvent,
            decision: (d) => this.decisions.record(d),
            end: (e) => this.stmts.endSession.run(e.endedAt, e.exitCode, sessionId),
          });
        }
      }
    });
    // The copy looks the session up itself, once, so the per-row foreign-key lookups are skipped:
    // they cost a third of each row (ON DELETE CASCADE is the deleting connection's, unaffected).
    // Inside another transaction the pragma is a no-op and the checks simply run.
    this.spoolRows = (sessionId, rows) => {
      if (db.inTransaction) return copyRows(sessionId, rows);
      db.pragma('foreign_keys = OFF');
      try {
        // IMMEDIATE: the copy reads the session, then writes. Deferred, a commit by another
        // process in between failed it at once (SQLITE_BUSY_SNAPSHOT), whatever busy_timeout.
        copyRows.immediate(sessionId, rows);
      } finally {
        db.pragma('foreign_keys = ON');
      }
    };
    if (file !== ':memory:' && !this.readOnly) {
      if (mode.live) this.briefly(LIVE_BUSY_MS, () => this.recoverSpools(true));
      else this.recoverSpools();
    }
  }

  private rowStmts?: ReturnType<Store['prepareRowWrites']>;
  private get rowWrites(): ReturnType<Store['prepareRowWrites']> {
    return (this.rowStmts ??= this.prepareRowWrites(this.db));
  }

  private prepareRowWrites(db: Db) {
    return {
      insertMessage: db.prepare(
        `INSERT INTO messages (session_id, seq, t, dir, method, rpc_id, size, msg) VALUES (?, ?, ?, ?, ?, ?, ?, ?)`,
      ),
      insertEvent: db.prepare(`INSERT INTO events (session_id, seq, t, event, data) VALUES (?, ?, ?, ?, ?)`),
      // From a spool: a row may already be there (copied by a reader that recovered the spool).
      spoolMessage: db.prepare(
        `INSERT INTO messages (session_id, seq, t, dir, method, rpc_id, size, msg) VALUES (?, ?, ?, ?, ?, ?, ?, ?)
         ON CONFLICT DO NOTHING`,
      ),
      spoolEvent: db.prepare(
        `INSERT INTO events (session_id, seq, t, event, data) VALUES (?, ?, ?, ?, ?) ON CONFLICT DO NOTHING`,
      ),
      spoolLimit: db.prepare(
        `INSERT INTO limiter_log (id, key, t, keep_ms) VALUES (?, ?, ?, ?) ON CONFLICT DO NOTHING`,
      ),
    };
  }

  private prepare(db: Db) {
    return {
      // The writes name `main.`: read-only, `sessions` may be a view of the spools' (showSpools).
      insertSession: db.prepare(
        `INSERT INTO main.sessions (id, name, started_at, transport, server, grant_id, ended_at, exit_code, extra)
         VALUES (@id, @name, @started_at, @transport, @server, @grant_id, @ended_at, @exit_code, @extra)`,
      ),
      endSession: db.prepare(`UPDATE main.sessions SET ended_at = ?, exit_code = ? WHERE id = ?`),
      getSession: db.prepare(`SELECT * FROM sessions WHERE id = ?`),
      answers: db.prepare(ANSWERS_SQL).raw(true),
      // A literal, case-sensitive prefix: LIKE would read `_` and `%` in it as wildcards (and
      // `sessions rm %` would delete a session nobody named).
      sessionIdsWithPrefix: db.prepare(
        `SELECT id FROM sessions WHERE substr(id, 1, length($prefix)) = $prefix ORDER BY id LIMIT 3`,
      ),
      sessionIdsNamed: db.prepare(`SELECT id FROM sessions WHERE name = ? ORDER BY started_at, id LIMIT 3`),
      listSessions: db.prepare(LIST_SESSIONS_SQL),
      allSessions: db.prepare(`SELECT * FROM sessions ORDER BY started_at, id`),
      messageAt: db.prepare(`SELECT t, dir, msg FROM messages WHERE session_id = ? AND seq = ?`),
      lastSeq: db
        .prepare(
          `SELECT max(coalesce((SELECT max(seq) FROM messages WHERE session_id = @id), -1),
                      coalesce((SELECT max(seq) FROM events WHERE session_id = @id), -1))`,
        )
        .pluck(),
      deleteSession: db.prepare(`DELETE FROM main.sessions WHERE id = ?`),
    };
  }

  /**
   * Copies rows of a recorder's spool into the db, in one transaction; rows already there are
   * left as they are (see store/spool.ts).
   */
  readonly spoolRows: (sessionId: string, rows: readonly SpoolRow[]) => void;

  /**
   * Copies into the db what the spools of recorders hold (those that died before copying it, or
   * live ones a few ms ahead of the db), then deletes the spools of dead recorders. A spool that
   * cannot be copied is kept and reported.
   */
  recoverSpools(busyIsQuiet = false): number {
    let copied = 0;
    for (const { path, live } of listSpools(this.file)) {
      // One spool that cannot be read, copied or deleted is reported; it never stops the command.
      try {
        const spool = readSpool(path);
        if (!spool) continue;
        if (spool.sessionId !== undefined && spool.rows.length > 0) {
          this.spoolRows(spool.sessionId, spool.rows);
          copied += spool.rows.length;
        }
      } catch (err) {
        const busy = String((err as { code?: unknown }).code ?? '').startsWith('SQLITE_BUSY');
        if (!(busy && busyIsQuiet)) {
          process.stderr.write(`mcp-replay: ${path}: cannot copy into ${this.file}: ${(err as Error).message}\n`);
        }
        continue;
      }
      // A spool of a recorder that is gone has nothing more to give.
      if (!live) {
        try {
          unlinkSync(path);
        } catch (err) {
          const code = (err as NodeJS.ErrnoException).code;
          if (code !== 'ENOENT') process.stderr.write(`mcp-replay: ${path}: copied, but cannot delete it: ${code}\n`);
        }
      }
    }
    return copied;
  }

  /**
   * Read-only, the spools can be neither copied into the db nor deleted: the rows they hold are
   * read into temporary tables, and `messages`, `events` and `decisions` are read through
   * temporary views of the db's rows and those it lacks (a temporary view hides the table of its
   * name). A spool that cannot be read is said once on stderr.
   */
  private showSpools(): void {
    const dir = spoolDir(this.file);
    const unread: { path: string; code: string }[] = [];
    const failed = (path: string, err: unknown) =>
      unread.push({ path, code: (err as NodeJS.ErrnoException).code ?? (err as Error).message });
    const spools: { sessionId: string; rows: SpoolRow[] }[] = [];
    let names: string[] = [];
    try {
      names = readdirSync(dir).filter((n) => n.endsWith('.spool'));
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'ENOENT') failed(dir, err);
    }
    for (const name of names) {
      const path = join(dir, name);
      try {
        const { sessionId, rows } = decodeSpool(readFileSync(path));
        if (sessionId !== undefined && rows.length > 0) spools.push({ sessionId, rows });
      } catch (err) {
        if ((err as NodeJS.ErrnoException).code !== 'ENOENT') failed(path, err); // ENOENT: its recorder finished
      }
    }
    if (unread.length > 0) {
      const [{ path, code }] = unread as [(typeof unread)[number]];
      const more = unread.length > 1 ? ` and ${unread.length - 1} more` : '';
      process.stderr.write(
        `mcp-replay: ${this.file}: cannot read ${path} (${code})${more}: the last rows a live or killed recorder left there, if any, are not shown\n`,
      );
    }
    if (spools.length === 0) return;
    const db = this.db;
    db.exec(SPOOLED_SQL);
    const hasSession = db.prepare(`SELECT 1 FROM main.sessions WHERE id = ?`).pluck();
    const message = db.prepare(
      `INSERT INTO temp.spooled_messages VALUES (?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT DO NOTHING`,
    );
    const event = db.prepare(`INSERT INTO temp.spooled_events VALUES (?, ?, ?, ?, ?) ON CONFLICT DO NOTHING`);
    const decision = db.prepare(
      `INSERT INTO temp.spooled_decisions VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT DO NOTHING`,
    );
    // After the db's own: a message's decisions are read in `id` order (the verdict, then the outcome).
    const spooledSession = db.prepare(
      `INSERT INTO temp.spooled_sessions VALUES (@id, @name, @started_at, @transport, @server, @grant_id, @ended_at, @exit_code, @extra)
       ON CONFLICT DO NOTHING`,
    );
    const end = db.prepare(`INSERT OR REPLACE INTO temp.spooled_ends VALUES (?, ?, ?)`);
    let id = db.prepare(`SELECT coalesce(max(id), 0) FROM main.decisions`).pluck().get() as number;
    let sessions = false;
    db.transaction(() => {
      for (const { sessionId, rows } of spools) {
        // As a copy does: the rows of a session deleted meanwhile are gone; counted calls (`limit`
        // rows) are the live gateways' business.
        let session = hasSession.get(sessionId) !== undefined;
        for (const r of rows) {
          if (r.kind === 'limit') continue;
          if (r.kind === 'session') {
            if (!session) spooledSession.run(sessionValues(r.info));
            session = sessions = true;
          } else if (session) {
            writeSpoolRow(sessionId, r, {
              message,
              event,
              decision: (d) => decision.run(++id, ...decisionValues(d)),
              end: (e) => {
                end.run(sessionId, e.endedAt, e.exitCode);
                sessions = true;
              },
            });
          }
        }
      }
    })();
    db.exec(SPOOLED_VIEWS_SQL);
    if (sessions) db.exec(SPOOLED_SESSIONS_SQL);
  }

  close(): void {
    this.db.close();
    if (this.scratch) rmSync(this.scratch, { recursive: true, force: true });
  }

  /**
   * Whether `file` no longer names the db this store writes (deleted, or replaced by another):
   * SQLite goes on writing into the old file, which nobody will read.
   */
  replaced(): boolean {
    return this.identity !== undefined && fileIdentity(this.file) !== this.identity;
  }

  /**
   * Runs `fn` waiting at most `ms` for another connection's lock, not BUSY_MS: for work that can
   * be tried again later, on the thread that forwards the traffic (a db locked for seconds by
   * another process held every message up for as long).
   */
  briefly<T>(ms: number, fn: () => T): T {
    this.db.pragma(`busy_timeout = ${ms}`);
    try {
      return fn();
    } finally {
      this.db.pragma(`busy_timeout = ${BUSY_MS}`);
    }
  }

  transaction<T>(fn: () => T): T {
    return this.db.transaction(fn)();
  }

  insertSession(s: SessionInfo): void {
    try {
      this.stmts.insertSession.run(sessionValues(s));
    } catch (err) {
      if ((err as { code?: string }).code === 'SQLITE_CONSTRAINT_PRIMARYKEY') {
        throw new InputError(
          `session ${s.id} already exists in ${this.file} (to import it again, first: mcp-replay sessions rm --db ${this.file} ${s.id})`,
        );
      }
      throw err;
    }
  }

  endSession(id: string, endedAt: string, exitCode: number | null): void {
    this.stmts.endSession.run(endedAt, exitCode, id);
  }

  /**
   * Appends one JSON-RPC message. `raw` is the message text as it crossed the wire (after
   * redaction); method and id are indexed for `show` and replay.
   */
  appendMessage(
    sessionId: string,
    seq: number,
    t: number,
    dir: Direction,
    raw: string,
    method: string | null,
    rpcId: string | null,
  ): void {
    this.rowWrites.insertMessage.run(sessionId, seq, t, dir, method, rpcId, Buffer.byteLength(raw), raw);
  }

  appendEvent(sessionId: string, seq: number, t: number, event: string, data: unknown): void {
    this.rowWrites.insertEvent.run(sessionId, seq, t, event, data === undefined ? null : JSON.stringify(data));
  }

  getSession(id: string): SessionInfo | undefined {
    const row = this.stmts.getSession.get(id) as SessionRow | undefined;
    return row ? toInfo(row) : undefined;
  }

  /** Resolves a session id or a unique prefix of one; unknown → InputError. */
  resolveSession(idOrPrefix: string): SessionInfo {
    const exact = this.getSession(idOrPrefix);
    if (exact) return exact;
    if (idOrPrefix === '') throw new InputError(`empty session id (see 'mcp-replay sessions list')`);
    const ids = (this.stmts.sessionIdsWithPrefix.all({ prefix: idOrPrefix }) as { id: string }[]).map((r) => r.id);
    if (ids.length === 1) return this.getSession(ids[0]!)!;
    if (ids.length > 1)
      throw new InputError(
        `session id ${idOrPrefix} is ambiguous in ${this.file}: ${ids.slice(0, 2).join(', ')}${ids.length > 2 ? ', …' : ''} (give more of the id)`,
      );
    // A newcomer reads the NAME column of `sessions list` as a handle: say which ids it names.
    const named = (this.stmts.sessionIdsNamed.all(idOrPrefix) as { id: string }[]).map((r) => r.id);
    if (named.length > 0)
      throw new InputError(
        `unknown session ${idOrPrefix} in ${this.file}: it is the name of ${named.slice(0, 2).join(', ')}` +
          `${named.length > 2 ? ', …' : ''} (give a session id or a prefix of one)`,
      );
    throw new InputError(`unknown session ${idOrPrefix} in ${this.file} (see 'mcp-replay sessions list')`);
  }

  /** The sessions a recorder may still be recording (see liveSessionIds). */
  liveSessions(): Set<string> {
    return this.file === ':memory:' ? new Set() : liveSessionIds(this.file);
  }

  listSessions(): SessionSummary[] {
    return (this.stmts.listSessions.all() as (SessionRow & { n_messages: number; n_calls: number })[]).map((row) => ({
      ...toInfo(row),
      messages: row.n_messages,
      calls: row.n_calls,
    }));
  }

  allSessions(): SessionInfo[] {
    return (this.stmts.allSessions.all() as SessionRow[]).map(toInfo);
  }

  /** Messages and events of a session in `seq` order, streamed from the db. */
  *records(sessionId: string): Generator<SessionRecord> {
    // A statement of its own (from a pool): a statement streams one result at a time, and
    // replay merges several sessions of one db at once.
    const rows = this.recordsPool.iterate({ id: sessionId }) as IterableIterator<{
      type: 'message' | 'event';
      seq: number;
      t: number;
      dir: Direction | null;
      body: string | null;
      event: string | null;
    }>;
    for (const r of rows) {
      if (r.type === 'message') yield { type: 'message', seq: r.seq, t: r.t, dir: r.dir!, raw: r.body! };
      else
        yield {
          type: 'event',
          seq: r.seq,
          t: r.t,
          event: r.event!,
          data: r.body === null ? undefined : JSON.parse(r.body),
        };
    }
  }

  /**
   * The client messages of a session replay reads, in `seq` order: those that can be a
   * `tools/call` or an `initialize`, and every request (its id may be reused while in flight).
   */
  *replayMessages(sessionId: string): Generator<ReplayMessage> {
    const rows = this.replayPool.iterate(sessionId);
    for (const [seq, t, method, raw] of rows as IterableIterator<[number, number, string | null, string]>) {
      yield { seq, t, dir: 'c2s', method, rpcId: null, raw };
    }
  }

  /**
   * The answers the client received between two messages of a session (exclusive), in order:
   * the server's messages with an id and no method (known by their id alone), and batches (with
   * their text). Read to the end before the next call: one statement serves every session.
   */
  *answersBetween(sessionId: string, afterSeq: number, beforeSeq: number): Generator<ReplayMessage> {
    const rows = this.stmts.answers.iterate(sessionId, Math.max(afterSeq, -1), beforeSeq);
    for (const [seq, t, method, rpcId, batch] of rows as IterableIterator<
      [number, number, string | null, string | null, string | null]
    >) {
      yield { seq, t, dir: 's2c', method, rpcId, raw: batch };
    }
  }

  /** One message of a session by its `seq` (the diff view re-reads a call's arguments). */
  messageAt(sessionId: string, seq: number): MessageRecord | undefined {
    const row = this.stmts.messageAt.get(sessionId, seq) as { t: number; dir: Direction; msg: string } | undefined;
    return row && { type: 'message', seq, t: row.t, dir: row.dir, raw: row.msg };
  }

  /** The `seq` of a session's last record (-1 for none): how far a reading in `seq` order has to go. */
  lastSeq(sessionId: string): number {
    return this.stmts.lastSeq.get({ id: sessionId }) as number;
  }

  deleteSession(id: string): boolean {
    return this.stmts.deleteSession.run(id).changes > 0;
  }

  // Audit and approvals (enforce): the SQL is in decisionLog.ts and approvalQueue.ts.
  private decisionLog?: DecisionLog;
  private approvalQueue?: ApprovalQueue;
  private get decisions(): DecisionLog {
    return (this.decisionLog ??= new DecisionLog(this.db));
  }
  private get approvals(): ApprovalQueue {
    return (this.approvalQueue ??= new ApprovalQueue(this.db, this.readOnly));
  }

  /** Stores one live decision beside the message it decided (the session must exist). */
  recordDecision(d: DecisionRecord): void {
    this.decisions.record(d);
  }

  /** A session's stored decisions in message order (several rows for one message: verdict, then outcome). */
  sessionDecisions(sessionId: string): DecisionRecord[] {
    return this.decisions.ofSession(sessionId);
  }

  /** The same, streamed: read to the end or closed (`return()`) before the db is closed. */
  streamDecisions(sessionId: string): Generator<DecisionRecord> {
    return this.decisions.streamSession(sessionId);
  }

  /** The kinds of decision path of a session's calls (see DecisionLog.pathShapes): none if nothing was decided. */
  decisionPathShapes(sessionId: string): { count: number; chars: number; shadow: boolean }[] {
    return this.decisions.pathShapes(sessionId);
  }

  /** Queues a call for a human; returns it with its id. */
  enqueueApproval(req: ApprovalRequest): Approval {
    return this.approvals.enqueue(req);
  }

  getApproval(id: number): Approval | undefined {
    return this.approvals.get(id);
  }

  /** Pending requests still within their deadline at `now` (ms since the epoch), oldest first. */
  pendingApprovals(now: number): Approval[] {
    return this.approvals.pending(now);
  }

  /** Approves or rejects atomically: false unless the request was pending and within its deadline. */
  resolveApproval(id: number, status: 'approved' | 'rejected', by: string, at: number): boolean {
    return this.approvals.resolve(id, status, by, at);
  }

  /** Marks one pending request expired (the gateway stopped waiting); false if already answered. */
  expireApproval(id: number, at: number, by?: string, token?: string): boolean {
    return this.approvals.expire(id, at, by, token);
  }

  /** Marks every pending request past its deadline expired; returns how many. */
  expireDueApprovals(now: number): number {
    return this.approvals.expireDue(now);
  }
}

function migrate(db: Db, file: string): void {
  const version = db.pragma('user_version', { simple: true }) as number;
  if (version > MIGRATIONS.length) {
    throw new InputError(`${file}: database schema v${version} is newer than this mcp-replay (v${MIGRATIONS.length})`);
  }
  if (version === MIGRATIONS.length) return;
  db.transaction(() => {
    // Read again under the write lock: another process opening the same new db may have
    // migrated it between our first look and our BEGIN IMMEDIATE.
    const current = db.pragma('user_version', { simple: true }) as number;
    for (let v = current; v < MIGRATIONS.length; v++) db.exec(MIGRATIONS[v]!);
    db.pragma(`user_version = ${MIGRATIONS.length}`);
  }).immediate();
}

function fileIdentity(file: string): string | undefined {
  try {
    const s = statSync(file);
    return `${s.dev}:${s.ino}`;
  } catch {
    return undefined;
  }
}

function toInfo(row: SessionRow): SessionInfo {
  const info: SessionInfo = { id: row.id, startedAt: row.started_at, transport: row.transport };
  if (row.name !== null) info.name = row.name;
  if (row.server !== null) info.server = JSON.parse(row.server);
  if (row.grant_id !== null) info.grant = row.grant_id;
  if (row.ended_at !== null) info.endedAt = row.ended_at;
  if (row.exit_code !== null) info.exitCode = row.exit_code;
  if (row.extra !== null) info.extra = JSON.parse(row.extra) as Record<string, unknown>;
  return info;
}

/** A session's row in `sessions` (the named parameters of `insertSession`). */
function sessionValues(s: SessionInfo): Record<string, string | number | null> {
  return {
    id: s.id,
    name: s.name ?? null,
    started_at: s.startedAt,
    transport: s.transport,
    server: s.server === undefined ? null : JSON.stringify(s.server),
    grant_id: s.grant ?? null,
    ended_at: s.endedAt ?? null,
    exit_code: s.exitCode ?? null,
    extra: s.extra && Object.keys(s.extra).length > 0 ? JSON.stringify(s.extra) : null,
  };
}

/**
 * Writes a spooled row of a session (not a counted call, nor the session itself) through `to`: a message with its
 * method, id and size, a raw line as a message if it is one (else a `non-json` event), an event,
 * a decision. The copy into the db and a read-only store's view of the spools write alike.
 */
function writeSpoolRow(
  sessionId: string,
  r: Exclude<SpoolRow, { kind: 'limit' } | { kind: 'session' }>,
  to: {
    message: Database.Statement;
    event: Database.Statement;
    decision: (d: DecisionRecord) => void;
    end: (e: { endedAt: string; exitCode: number | null }) => void;
  },
): void {
  if (r.kind === 'message') {
    to.message.run(sessionId, r.seq, r.t, r.dir, r.method, r.id, Buffer.byteLength(r.raw), r.raw);
  } else if (r.kind === 'raw') {
    const facts = rawFacts(r);
    if (facts) to.message.run(sessionId, r.seq, r.t, r.dir, facts.method, facts.id, Buffer.byteLength(r.raw), r.raw);
    else to.event.run(sessionId, r.seq, r.t, 'non-json', nonJsonData(r.dir, r.raw));
  } else if (r.kind === 'event') to.event.run(sessionId, r.seq, r.t, r.event, r.data);
  else if (r.kind === 'end') to.end(r);
  else to.decision(r.record);
}
