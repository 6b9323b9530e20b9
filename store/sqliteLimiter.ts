import type Database from 'better-sqlite3';
import type { Limiter } from '../engine/types.js';
import type { Store } from './store.js';

/** How many `record`s between two sweeps of the log's expired rows. */
const SWEEP_EVERY = 1000;

/** One counter key: its kept times (non-decreasing) and the log rows they came from. */
interface Line {
  times: number[];
  ids: number[];
  /** Entries before `head` are expired. */
  head: number;
  /** Longest window any limit asked of this key: how long times must be kept. */
  keepMs: number;
}

/**
 * The engine's sliding-window limiter over the recordings db, for the live gateway: the times of
 * allowed calls are rows, so a restart keeps every budget, and processes sharing the db file
 * share the counters. Same semantics as `MemoryLimiter`: a call at `now` fits when fewer than
 * `max` recorded calls lie in (now - window, now].
 *
 * The db holds an append-only log of allowed calls (`limiter_log`: key, time, retention), in
 * commit order. Each process keeps every key's times in memory and, at the start of each write
 * transaction, applies the rows other processes appended since it last looked (usually none: one
 * indexed read). Deciding is then in memory, and consuming is one INSERT per counter: a check-and-
 * consume costs one small commit, not a query per limit.
 *
 * A call recorded at a time earlier than the key's latest (another process whose clock runs
 * behind) is recorded at that latest time, and a recorded time later than `now` counts as inside
 * the window: clock skew can only throttle more, never allow more. On a non-decreasing stream of
 * times the two limiters answer identically.
 *
 * Exactness across processes needs check-and-consume in one write transaction:
 *
 *     limiter.atomically(() => decide(policy, limiter, call, now))
 *
 * (`decide` calls `atomically` itself; nested calls join the outer transaction). The gateway runs
 * a whole batch of calls in one: `limiter.batch(() => ...)`.
 */
export class SqliteLimiter implements Limiter {
  private readonly db: Database.Database;
  private readonly stmts;
  private readonly lines = new Map<string, Line>();
  /** The highest log id applied to `lines`. */
  private seen = 0;
  private recordsSinceSweep = 0;
  private inBatch = false;

  constructor(store: Store) {
    const db = (this.db = store.db);
    this.stmts = {
      since: db.prepare(`SELECT id, key, t, keep_ms FROM limiter_log WHERE id > ? ORDER BY id`).raw(true),
      insert: db.prepare(`INSERT INTO limiter_log (key, t, keep_ms) VALUES (?, ?, ?)`),
      // The newest row always stays: rowids then never go back below what a process has seen.
      prune: db.prepare(`DELETE FROM limiter_log WHERE id < min(?, (SELECT max(id) FROM limiter_log))`),
      count: db.prepare(`SELECT count(*) FROM limiter_log`).pluck(),
      begin: db.prepare('BEGIN IMMEDIATE'),
      commit: db.prepare('COMMIT'),
      rollback: db.prepare('ROLLBACK'),
    };
    this.sync();
  }

  wait(key: string, windowMs: number, max: number, now: number): number {
    if (max <= 0) return Infinity;
    if (!this.db.inTransaction) this.sync();
    const line = this.line(key, windowMs);
    // The max-th most recent call, if it is still kept.
    const i = line.times.length - max;
    if (i < line.head) return 0;
    const nth = line.times[i]!;
    return nth > now - windowMs ? nth + windowMs - now : 0;
  }

  record(key: string, now: number, windowMs: number): void {
    this.atomically(() => {
      const line = this.line(key, windowMs);
      const last = line.times.length > line.head ? line.times[line.times.length - 1]! : -Infinity;
      const t = Math.max(now, last);
      const { lastInsertRowid } = this.stmts.insert.run(key, t, line.keepMs);
      this.seen = Number(lastInsertRowid);
      this.push(line, Number(lastInsertRowid), t, line.keepMs);
      if (++this.recordsSinceSweep >= SWEEP_EVERY) this.prune(now);
    });
  }

  /**
   * One IMMEDIATE transaction (the write lock is taken at BEGIN, so no other process can check
   * between our check and our consume) that starts by reading what other processes recorded;
   * inside a transaction already, `fn` joins it. In a `batch`, the transaction opens at the first
   * call and commits when the batch ends.
   */
  atomically<T>(fn: () => T): T {
    if (this.db.inTransaction) return fn();
    this.stmts.begin.run();
    try {
      this.sync();
    } catch (err) {
      this.abort();
      throw err;
    }
    // In a batch, a call that fails leaves the batch's other calls (and their consumption) alone.
    if (this.inBatch) return fn();
    try {
      const result = fn();
      this.stmts.commit.run();
      return result;
    } catch (err) {
      this.abort();
      throw err;
    }
  }

  /**
   * Runs a batch of calls: the first check of a counter opens one transaction, the batch's other
   * calls join it, and it commits when `fn` returns (rolls back if it throws). A batch with no
   * counter to check takes no lock.
   */
  batch(fn: () => void): void {
    this.inBatch = true;
    try {
      fn();
      if (this.db.inTransaction) this.stmts.commit.run();
    } catch (err) {
      this.abort();
      throw err;
    } finally {
      this.inBatch = false;
    }
  }

  /** Rolls back; what memory holds may not be in the db then: it is read again from the log. */
  private abort(): void {
    if (this.db.inTransaction) this.stmts.rollback.run();
    this.lines.clear();
    this.seen = 0;
  }

  /**
   * Forgets the times no window can reach any more, on every key, and deletes the log rows
   * before the oldest time still needed (inside a transaction, or in one of its own).
   */
  prune(now: number): void {
    this.recordsSinceSweep = 0;
    this.atomically(() => {
      let oldest = Infinity;
      for (const [key, line] of this.lines) {
        const horizon = Math.max(now, line.times[line.times.length - 1] ?? now) - line.keepMs;
        while (line.head < line.times.length && line.times[line.head]! <= horizon) line.head++;
        if (line.head === line.times.length) this.lines.delete(key);
        else oldest = Math.min(oldest, line.ids[line.head]!);
      }
      this.stmts.prune.run(oldest === Infinity ? this.seen + 1 : oldest);
    });
  }

  /** Number of stored call times (for tests and size checks). */
  get size(): number {
    return this.stmts.count.get() as number;
  }

  /** Applies the log rows appended since the last look (by any process). */
  private sync(): void {
    for (const [id, key, t, keep] of this.stmts.since.iterate(this.seen) as IterableIterator<
      [number, string, number, number]
    >) {
      this.push(this.line(key, keep), id, t, keep);
      this.seen = id;
    }
  }

  private line(key: string, windowMs: number): Line {
    let line = this.lines.get(key);
    if (!line) this.lines.set(key, (line = { times: [], ids: [], head: 0, keepMs: windowMs }));
    else if (windowMs > line.keepMs) line.keepMs = windowMs;
    return line;
  }

  private push(line: Line, id: number, t: number, keepMs: number): void {
    if (keepMs > line.keepMs) line.keepMs = keepMs;
    line.times.push(t);
    line.ids.push(id);
    // Forget, in memory, what no window can reach any more (relative to the newest time).
    const horizon = t - line.keepMs;
    while (line.head < line.times.length && line.times[line.head]! <= horizon) line.head++;
    if (line.head > 1024 && line.head * 2 > line.times.length) {
      line.times = line.times.slice(line.head);
      line.ids = line.ids.slice(line.head);
      line.head = 0;
    }
  }
}
