import type Database from 'better-sqlite3';
import type { Limiter } from '../../engine/types.js';

/**
 * A limiter for use inside the gateway's batch transaction: the pump runs each batch in one
 * IMMEDIATE transaction, which already makes check-and-consume atomic against other processes,
 * so `atomically` then just runs `fn` instead of opening a savepoint per call. Outside a
 * transaction it defers to the inner limiter's own.
 */
export class BatchLimiter implements Limiter {
  constructor(
    private readonly inner: Limiter,
    private readonly db: Database.Database,
  ) {}

  wait(key: string, windowMs: number, max: number, now: number): number {
    return this.inner.wait(key, windowMs, max, now);
  }

  record(key: string, now: number, windowMs: number): void {
    this.inner.record(key, now, windowMs);
  }

  atomically<T>(fn: () => T): T {
    return this.db.inTransaction ? fn() : this.inner.atomically(fn);
  }
}
