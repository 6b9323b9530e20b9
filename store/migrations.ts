/**
 * Numbered schema migrations. The db's `user_version` is the number of migrations applied;
 * add new ones at the end, never edit a released one.
 */
export const MIGRATIONS: readonly string[] = [
  `
  CREATE TABLE sessions (
    id         TEXT PRIMARY KEY,
    name       TEXT,
    started_at TEXT NOT NULL,
    transport  TEXT NOT NULL DEFAULT 'stdio',
    server     TEXT,
    grant_id   TEXT,
    ended_at   TEXT,
    exit_code  INTEGER,
    extra      TEXT
  );
  CREATE TABLE messages (
    session_id TEXT NOT NULL REFERENCES sessions(id) ON DELETE CASCADE,
    seq        INTEGER NOT NULL,
    t          INTEGER NOT NULL,
    dir        TEXT NOT NULL CHECK (dir IN ('c2s', 's2c')),
    method     TEXT,
    rpc_id     TEXT,
    size       INTEGER NOT NULL,
    msg        TEXT NOT NULL,
    PRIMARY KEY (session_id, seq)
  ) WITHOUT ROWID;
  CREATE INDEX messages_by_method ON messages(session_id, method);
  CREATE TABLE events (
    session_id TEXT NOT NULL REFERENCES sessions(id) ON DELETE CASCADE,
    seq        INTEGER NOT NULL,
    t          INTEGER NOT NULL,
    event      TEXT NOT NULL,
    data       TEXT,
    PRIMARY KEY (session_id, seq)
  ) WITHOUT ROWID;
  `,
  // 2: sliding-window counters of the live gateway (store/sqliteLimiter.ts). One row per allowed
  // call: its counter key and time (ms since the epoch); per key, how long times must be kept.
  `
  CREATE TABLE limiter_calls (
    key TEXT NOT NULL,
    t   REAL NOT NULL
  );
  CREATE INDEX limiter_calls_by_key ON limiter_calls(key, t);
  CREATE TABLE limiter_keys (
    key     TEXT PRIMARY KEY,
    keep_ms REAL NOT NULL
  ) WITHOUT ROWID;
  `,
  // 3: the audit of live decisions (store/decisionLog.ts) and the approvals queue
  // (store/approvalQueue.ts). Times are ms since the epoch.
  `
  CREATE TABLE decisions (
    id             INTEGER PRIMARY KEY,
    session_id     TEXT NOT NULL REFERENCES sessions(id) ON DELETE CASCADE,
    seq            INTEGER NOT NULL,
    rpc_id         TEXT,
    tool           TEXT NOT NULL,
    decision       TEXT NOT NULL CHECK (decision IN ('allow', 'deny', 'throttle', 'approval')),
    reason         TEXT NOT NULL,
    rule           TEXT NOT NULL,
    retry_after_ms INTEGER,
    policy_sha256  TEXT NOT NULL,
    at             REAL NOT NULL,
    enforced       INTEGER NOT NULL DEFAULT 1
  );
  CREATE INDEX decisions_by_message ON decisions(session_id, seq);
  CREATE TABLE approvals (
    id           INTEGER PRIMARY KEY AUTOINCREMENT,
    session_id   TEXT,
    seq          INTEGER,
    grant_id     TEXT NOT NULL,
    tool         TEXT NOT NULL,
    args         TEXT NOT NULL,
    reason       TEXT NOT NULL,
    rule         TEXT NOT NULL,
    requested_at REAL NOT NULL,
    expires_at   REAL,
    status       TEXT NOT NULL DEFAULT 'pending' CHECK (status IN ('pending', 'approved', 'rejected', 'expired')),
    decided_at   REAL,
    decided_by   TEXT
  );
  CREATE INDEX approvals_by_status ON approvals(status, requested_at);
  `,
  // 4: counters v2: each key numbers its calls (n = 1, 2, …, times non-decreasing in n), so the
  // max-th most recent call is one lookup, whatever `max` is. Counters of v2 are not carried over.
  `
  DROP TABLE limiter_calls;
  DROP TABLE limiter_keys;
  CREATE TABLE limiter_keys (
    key     TEXT PRIMARY KEY,
    keep_ms REAL NOT NULL,
    last_n  INTEGER NOT NULL DEFAULT 0,
    last_t  REAL
  ) WITHOUT ROWID;
  CREATE TABLE limiter_calls (
    key TEXT NOT NULL,
    n   INTEGER NOT NULL,
    t   REAL NOT NULL,
    PRIMARY KEY (key, n)
  ) WITHOUT ROWID;
  `,
  // 5: no index on messages(method): every recorded message paid for it (a second B-tree page in
  // each commit), and the only readers scan one session's rows by primary key anyway.
  `
  DROP INDEX IF EXISTS messages_by_method;
  `,
  // 6: audit rows reach the db through the recorder's spool (store/spool.ts), possibly twice (the
  // recorder and a reader recovering its spool): `n` numbers a session's decisions, so a copy is
  // recognised. Rows written before have none (NULLs never conflict).
  `
  ALTER TABLE decisions ADD COLUMN n INTEGER;
  CREATE UNIQUE INDEX decisions_by_n ON decisions(session_id, n);
  `,
  // 7: counters v3 (store/sqliteLimiter.ts): an append-only log of allowed calls in commit order,
  // which each gateway applies to the counters it keeps in memory. The v4 times are carried over.
  `
  CREATE TABLE limiter_log (
    id      INTEGER PRIMARY KEY,
    key     TEXT NOT NULL,
    t       REAL NOT NULL,
    keep_ms REAL NOT NULL
  );
  INSERT INTO limiter_log (key, t, keep_ms)
    SELECT c.key, c.t, k.keep_ms FROM limiter_calls c JOIN limiter_keys k ON k.key = c.key ORDER BY c.t, c.key, c.n;
  DROP TABLE limiter_calls;
  DROP TABLE limiter_keys;
  `,
  // 8: the gateways deciding on this db (store/sqliteLimiter.ts): one alone may count in memory
  // ("sole"), its calls made durable in its spool; a newcomer waits until it stops being sole.
  `
  CREATE TABLE limiter_gateways (
    token TEXT PRIMARY KEY,
    pid   INTEGER NOT NULL,
    host  TEXT NOT NULL,
    sole  INTEGER NOT NULL DEFAULT 0
  ) WITHOUT ROWID;
  `,
  // 9: decisions are found by session through decisions_by_n (session_id, n); the second index
  // cost every audit row a third B-tree.
  `
  DROP INDEX IF EXISTS decisions_by_message;
  `,
  // 10: gateways refresh their registration every second; one not refreshed for 15 s is gone
  // (the only test for a gateway of another pid namespace, whose pid means nothing here).
  `
  ALTER TABLE limiter_gateways ADD COLUMN seen_at REAL;
  `,
  // 11: the gateway that queued an approval (pid and host, as spools and gateways carry them): a
  // request whose gateway died (kill -9) can no longer be answered, and leaves the list.
  `
  ALTER TABLE approvals ADD COLUMN gateway_pid INTEGER;
  ALTER TABLE approvals ADD COLUMN gateway_host TEXT;
  `,
  // 12: a random token per approval request: the gateway waits for its own request, not for
  // whichever has its id (a rolled-back insert gives the next request the same id).
  `
  ALTER TABLE approvals ADD COLUMN token TEXT;
  `,
];
