import type Database from 'better-sqlite3';
import type { Limiter } from '../engine/types.js';
import type { Store } from './store.js';

/** How many `record`s between two sweeps of every key's expired times. */
const SWEEP_EVERY = 1000;

/**
 * The engine's sliding-window limiter over the recordings db, for the live gateway: the times of
 * allowed calls are rows, so a restart keeps every budget, and processes sharing the db file
 * share the counters. Same semantics as `MemoryLimiter`: a call at `now` fits when fewer than
 * `max` recorded calls lie in (now - window, now].
 *
 * One difference, on the safe side: a recorded call *later* than `now` (another process whose
 * clock ran ahead) counts as inside the window, so clock skew can only throttle more, never
 * allow more. On a non-decreasing stream of times the two limiters answer identically.
 *
 * Exactness across processes needs check-and-consume in one write transaction, and the time
 * taken inside it, so that commits happen in time order:
 *
 *     limiter.atomically(() => decide(policy, limiter, call, Date.now()))
 *
 * (`decide` calls `atomically` again; nested calls become savepoints of the outer transaction.)
 */
export class SqliteLimiter implements Limiter {
  private readonly db: Database.Database;
  private readonly tx: Database.Transaction<(fn: () => unknown) => unknown>;
  private readonly stmts;
  /** Per key, the longest window this instance has written to `limiter_keys` (a lower bound of the db's). */
  private readonly kept = new Map<string, number>();
  private recordsSinceSweep = 0;

  constructor(store: Store) {
    const db = (this.db = store.db);
    this.tx = db.transaction((fn: () => unknown) => fn());
    this.stmts = {
      // The max-th most recent call that can lie in the window; none → the call fits.
      nth: db.prepare(`SELECT t FROM limiter_calls WHERE key = ? AND t > ? ORDER BY t DESC LIMIT 1 OFFSET ?`).pluck(),
      insert: db.prepare(`INSERT INTO limiter_calls (key, t) VALUES (?, ?)`),
      keep: db.prepare(
        `INSERT INTO limiter_keys (key, keep_ms) VALUES (?, ?)
         ON CONFLICT (key) DO UPDATE SET keep_ms = excluded.keep_ms WHERE excluded.keep_ms > keep_ms`,
      ),
      pruneKey: db.prepare(
        `DELETE FROM limiter_calls WHERE key = @key AND t <= @now - (SELECT keep_ms FROM limiter_keys WHERE key = @key)`,
      ),
      pruneAll: db.prepare(
        `DELETE FROM limiter_calls WHERE rowid IN (
           SELECT c.rowid FROM limiter_calls c JOIN limiter_keys k ON k.key = c.key WHERE c.t <= ? - k.keep_ms)`,
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
    const nth = this.stmts.nth.get(key, now - windowMs, max - 1) as number | undefined;
    return nth === undefined ? 0 : nth + windowMs - now;
  }

  record(key: string, now: number, windowMs: number): void {
    this.atomically(() => {
      // Always written: another process's sweep may have dropped the key while it had no times.
      const keep = Math.max(windowMs, this.kept.get(key) ?? 0);
      this.stmts.keep.run(key, keep);
      this.kept.set(key, keep);
      this.stmts.insert.run(key, now);
      this.stmts.pruneKey.run({ key, now });
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
      this.stmts.pruneAll.run(now);
      this.stmts.dropIdleKeys.run();
    });
  }

  /** Number of stored call times (for tests and size checks). */
  get size(): number {
    return this.stmts.count.get() as number;
  }

  private keepAtLeast(key: string, windowMs: number): void {
    const kept = this.kept.get(key) ?? 0;
    if (windowMs <= kept) return;
    this.stmts.keep.run(key, windowMs);
    this.kept.set(key, windowMs);
  }
}
