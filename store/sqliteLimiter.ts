import type Database from 'better-sqlite3';
import type { Limiter } from '../engine/types.js';
import type { Store } from './store.js';

/** How many `record`s between two sweeps of every key's expired times. */
const SWEEP_EVERY = 1000;
/** Expired times deleted from the front of a key on each record (it adds one). */
const PRUNE_PER_RECORD = 4;

/**
 * The engine's sliding-window limiter over the recordings db, for the live gateway: the times of
 * allowed calls are rows, so a restart keeps every budget, and processes sharing the db file
 * share the counters. Same semantics as `MemoryLimiter`: a call at `now` fits when fewer than
 * `max` recorded calls lie in (now - window, now].
 *
 * Each key numbers its calls (n = 1, 2, …) and keeps their times non-decreasing in n, so the
 * max-th most recent call is a single lookup (n = last - max + 1), however large `max` is.
 * A call recorded at a time earlier than the key's latest (another process whose clock runs
 * behind) is recorded at that latest time, and a recorded time later than `now` counts as inside
 * the window: clock skew can only throttle more, never allow more. On a non-decreasing stream of
 * times the two limiters answer identically.
 *
 * Exactness across processes needs check-and-consume in one write transaction:
 *
 *     limiter.atomically(() => decide(policy, limiter, call, now))
 *
 * (`decide` calls `atomically` itself; nested calls become savepoints of the outer transaction).
 */
export class SqliteLimiter implements Limiter {
  private readonly tx: Database.Transaction<(fn: () => unknown) => unknown>;
  private readonly stmts;
  /** Per key, the longest window this instance has written to `limiter_keys` (a lower bound of the db's). */
  private readonly kept = new Map<string, number>();
  private recordsSinceSweep = 0;

  constructor(store: Store) {
    const db = store.db;
    this.tx = db.transaction((fn: () => unknown) => fn());
    this.stmts = {
      // The time of the max-th most recent call of the key, if it is still kept.
      nth: db
        .prepare(
          `SELECT c.t FROM limiter_keys k JOIN limiter_calls c ON c.key = k.key AND c.n = k.last_n - @back
           WHERE k.key = @key`,
        )
        .pluck(),
      keep: db.prepare(
        `INSERT INTO limiter_keys (key, keep_ms) VALUES (?, ?)
         ON CONFLICT (key) DO UPDATE SET keep_ms = excluded.keep_ms WHERE excluded.keep_ms > keep_ms`,
      ),
      next: db.prepare(
        `INSERT INTO limiter_keys (key, keep_ms, last_n, last_t) VALUES (@key, @keep, 1, @now)
         ON CONFLICT (key) DO UPDATE SET
           keep_ms = max(keep_ms, excluded.keep_ms),
           last_n = last_n + 1,
           last_t = max(coalesce(last_t, excluded.last_t), excluded.last_t)
         RETURNING last_n AS n, last_t AS t, keep_ms AS keep`,
      ),
      insert: db.prepare(`INSERT INTO limiter_calls (key, n, t) VALUES (?, ?, ?)`),
      pruneFront: db.prepare(
        `DELETE FROM limiter_calls WHERE key = @key AND t <= @horizon
           AND n IN (SELECT n FROM limiter_calls WHERE key = @key ORDER BY n LIMIT ${PRUNE_PER_RECORD})`,
      ),
      pruneAll: db.prepare(
        `DELETE FROM limiter_calls AS c WHERE c.t <= @now - (SELECT k.keep_ms FROM limiter_keys k WHERE k.key = c.key)`,
      ),
      dropIdleKeys: db.prepare(
        `DELETE FROM limiter_keys WHERE NOT EXISTS (SELECT 1 FROM limiter_calls c WHERE c.key = limiter_keys.key)`,
      ),
      count: db.prepare(`SELECT count(*) FROM limiter_calls`).pluck(),
    };
  }

  wait(key: string, windowMs: number, max: number, now: number): number {
    if (max <= 0) return Infinity;
    this.keepAtLeast(key, windowMs);
    const nth = this.stmts.nth.get({ key, back: max - 1 }) as number | undefined;
    return nth !== undefined && nth > now - windowMs ? nth + windowMs - now : 0;
  }

  record(key: string, now: number, windowMs: number): void {
    this.atomically(() => {
      // `keep` always written: another process's sweep may have dropped the key while it had no times.
      const row = this.stmts.next.get({ key, keep: Math.max(windowMs, this.kept.get(key) ?? 0), now }) as {
        n: number;
        t: number;
        keep: number;
      };
      this.kept.set(key, row.keep);
      this.stmts.insert.run(key, row.n, row.t);
      this.stmts.pruneFront.run({ key, horizon: row.t - row.keep });
      if (++this.recordsSinceSweep >= SWEEP_EVERY) this.prune(now);
    });
  }

  /**
   * One IMMEDIATE transaction (the write lock is taken at BEGIN, so no other process can check
   * between our check and our consume); inside a transaction already, a savepoint of it.
   */
  atomically<T>(fn: () => T): T {
    return this.tx.immediate(fn) as T;
  }

  /** Deletes the times no window can reach any more, on every key, and keys with no times left. */
  prune(now: number): void {
    this.recordsSinceSweep = 0;
    this.atomically(() => {
      this.stmts.pruneAll.run({ now });
      this.stmts.dropIdleKeys.run();
    });
  }

  /** Number of stored call times (for tests and size checks). */
  get size(): number {
    return this.stmts.count.get() as number;
  }

  private keepAtLeast(key: string, windowMs: number): void {
    if (windowMs <= (this.kept.get(key) ?? 0)) return;
    this.stmts.keep.run(key, windowMs);
    this.kept.set(key, windowMs);
  }
}
