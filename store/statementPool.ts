import type Database from 'better-sqlite3';

/**
 * Prepared statements of one query for readings that overlap (a timeline merges many sessions,
 * and one statement iterates one result at a time): a reading takes a free statement, or
 * prepares one, and gives it back when it ends. A db of 100,000 sessions read one after the
 * other prepares the query once, not 100,000 times.
 */
export class StatementPool {
  private readonly free: Database.Statement[] = [];

  constructor(
    private readonly db: Database.Database,
    private readonly sql: string,
    private readonly raw = false,
  ) {}

  *iterate<T>(...params: unknown[]): Generator<T> {
    const stmt = this.free.pop() ?? this.prepare();
    try {
      yield* stmt.iterate(...params) as IterableIterator<T>;
    } finally {
      // Ended, or left early (its iterator then closes the statement): free for the next reading.
      if (!stmt.busy) this.free.push(stmt);
    }
  }

  private prepare(): Database.Statement {
    const stmt = this.db.prepare(this.sql);
    return this.raw ? stmt.raw(true) : stmt;
  }
}
