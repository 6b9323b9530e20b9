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
];
