import type Database from 'better-sqlite3';
import { randomUUID } from 'node:crypto';
import type { Limiter } from '../engine/types.js';
import { alive, HOST } from './spool.js';
import type { Store } from './store.js';

export interface SqliteLimiterOptions {
  /**
   * Lets this gateway count in memory while it is the only one on the db ("sole"): each call it
   * counts is handed here with its log id, and must be durable before the call is forwarded
   * (the gateway's session spool). Without it, every check is a db transaction.
   */
  spool?: (id: number, key: string, t: number, keepMs: number) => void;
  /** Copies what `spool` holds into the db (before this gateway stops being sole); true once all is there. */
  copy?: () => boolean;
  /** How often a gateway looks for others joining or leaving (ms). */
  pollMs?: number;
  /** How long a newcomer waits for a sole gateway to hand its counters over (ms). */
  handoverMs?: number;
  /**
   * Counters of their own, apart from those of other gateways on the db: every key is prefixed
   * with it. `--shadow` gateways count in `NUL shadow NUL` (cli/commands/enforce.ts), so a live
   * dry-run never spends the budgets that enforcing gateways share.
   */
  namespace?: string;
  /**
   * Keep every counted time at least this long (ms), whatever the windows asked, so that a
   * policy reloaded with a wider window counts the calls made before the reload (the gateway
   * keeps a day: `enforce`). Default 0: as long as the longest window asked of the key.
   */
  retainMs?: number;
}

/**
 * A registration not refreshed for this long (ms) is taken for a gateway that is gone, wherever it
 * ran (one of another pid namespace cannot be checked by pid; a pid may also be reused).
 */
const STALE_MS = 15_000;
/** How often a gateway refreshes its registration (ms). */
const HEARTBEAT_MS = 1000;

/**
 * A gateway whose last refresh is this old (ms) was stalled (its event loop, the process, the
 * machine): before it decides again it refreshes, since others may have taken it for gone and
 * one may count alone. On waking, a process sees its pending input before its timers.
 */
const OVERDUE_MS = 3 * HEARTBEAT_MS;

/**
 * How long a poll's own writes (heartbeat, becoming sole) wait for another process's lock (ms):
 * they are tried again at the next poll; waiting SQLite's 5 s held up every call that long.
 */
const POLL_BUSY_MS = 100;

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
 *
 * A sole gateway. Every limiter registers in `limiter_gateways` (and `close` removes it). One
 * given a `spool` that finds itself alone on the db becomes sole: it decides in memory with no
 * transaction, and the log rows of its calls go to its spool (durable before forwarding, copied
 * into the log later; a killed gateway's spool is copied by the next to open the db). It checks
 * every `pollMs` whether another gateway registered; if so it copies its spool into the db and
 * turns shared, in one step under the write lock. A newcomer registers, then waits (at most
 * `handoverMs`, else it fails closed) until no other gateway is sole: from then on everyone
 * checks in transactions, and nobody becomes sole while another gateway is registered. A
 * registration whose process is gone (same host and pid namespace, pid not running) is removed,
 * after its spool is copied.
 */
export class SqliteLimiter implements Limiter {
  private readonly db: Database.Database;
  private readonly stmts;
  private readonly lines = new Map<string, Line>();
  /** The highest log id applied to `lines`. */
  private seen = 0;
  private recordsSinceSweep = 0;
  private inBatch = false;
  /** The db file was deleted or replaced under us (see assertSameFile); for good. */
  private fileGone = false;
  /** `atomically` calls under way (a decision's nested ones join the outer one). */
  private nesting = 0;
  private sole = false;
  private readonly token = randomUUID();
  private registered = false;
  private beatAt = 0;
  private timer: NodeJS.Timeout | undefined;
  /** Why this limiter cannot decide (a sole gateway did not hand over): every check throws it. */
  private blocked: Error | undefined;
  private readonly namespace: string;

  constructor(
    private readonly store: Store,
    private readonly options: SqliteLimiterOptions = {},
  ) {
    this.namespace = options.namespace ?? '';
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
      register: db.prepare(`INSERT INTO limiter_gateways (token, pid, host, seen_at) VALUES (?, ?, ?, ?)`),
      unregister: db.prepare(`DELETE FROM limiter_gateways WHERE token = ?`),
      others: db.prepare(`SELECT token, pid, host, sole, seen_at FROM limiter_gateways WHERE token != ?`),
      heartbeat: db.prepare(`UPDATE limiter_gateways SET seen_at = ? WHERE token = ?`),
      setSole: db.prepare(`UPDATE limiter_gateways SET sole = ? WHERE token = ?`),
    };
    this.sync();
    this.register();
  }

  /** Whether this gateway counts in memory now (alone on the db). */
  get isSole(): boolean {
    return this.sole;
  }

  /**
   * Unregisters. A sole gateway first copies its spool; if it cannot, it stays registered: once
   * its process is gone, the next gateway copies the spool and clears the registration.
   */
  close(): void {
    clearInterval(this.timer);
    if (!this.registered) return;
    if (this.sole && !this.options.copy?.()) return;
    this.registered = false;
    this.sole = false;
    this.stmts.unregister.run(this.token);
  }

  /** Registers; waits until no other gateway is sole; becomes sole if alone and allowed to. */
  private register(): void {
    this.writing(() => this.stmts.register.run(this.token, process.pid, HOST, Date.now()));
    this.beatAt = Date.now();
    this.registered = true;
    this.awaitHandover();
    this.poll();
    this.timer = setInterval(() => this.poll(), this.options.pollMs ?? 20).unref();
  }

  /**
   * Waits (at most `handoverMs`) until no other gateway counts alone; else (or if the db fails
   * while we look) fails closed until none does (`poll` looks again).
   */
  private awaitHandover(): void {
    this.blocked = new Error('another gateway on this db counts alone and did not hand its counters over');
    // Monotonic: a wall clock stepped back must not stretch the wait.
    const deadline = performance.now() + (this.options.handoverMs ?? 5000);
    const pause = new Int32Array(new SharedArrayBuffer(4));
    while (this.othersSole()) {
      if (performance.now() > deadline) return;
      Atomics.wait(pause, 0, 0, 2);
    }
    this.blocked = undefined;
  }

  /** Whether a live gateway other than this one is sole (dead ones are cleared on the way). */
  private othersSole(): boolean {
    return this.othersAlive().some((g) => g.sole === 1);
  }

  /**
   * The other registered gateways still running; registrations of gone processes are removed,
   * after whatever their spools hold is copied into the db (and into our counters).
   */
  private othersAlive(): { token: string; sole: number }[] {
    const rows = this.stmts.others.all(this.token) as {
      token: string;
      pid: number;
      host: string;
      sole: number;
      seen_at: number | null;
    }[];
    const now = Date.now();
    const gone = rows.filter(
      (g) => (g.host === HOST && !alive(g.pid)) || g.seen_at === null || now - g.seen_at > STALE_MS,
    );
    if (gone.length > 0) {
      this.store.recoverSpools();
      this.writing(() => {
        for (const g of gone) this.stmts.unregister.run(g.token);
      });
    }
    return rows.filter((g) => !gone.includes(g));
  }

  /** Sole and someone joined: hand over. Shared and alone (and allowed): become sole. */
  private poll(): void {
    if (!this.fileGone && this.store.replaced()) this.fileGone = true;
    if (!this.registered || this.db.inTransaction) return;
    try {
      if (Date.now() - this.beatAt >= HEARTBEAT_MS) this.store.briefly(POLL_BUSY_MS, () => this.heartbeat());
      if (this.blocked) {
        if (!this.othersSole()) this.blocked = undefined;
      } else if (this.sole) {
        if ((this.stmts.others.all(this.token) as unknown[]).length === 0) return;
        // Everything counted so far goes into the log, then we count in transactions like the others.
        if (!this.options.copy?.()) return;
        this.writing(() => {
          this.stmts.setSole.run(0, this.token);
          this.sole = false;
        });
      } else if (this.options.spool && this.othersAlive().length === 0) {
        this.store.briefly(POLL_BUSY_MS, () =>
          this.writing(() => {
            if ((this.stmts.others.all(this.token) as unknown[]).length > 0) return;
            this.sync();
            this.stmts.setSole.run(1, this.token);
            this.sole = true;
          }),
        );
      }
    } catch {
      // The db is busy or failing: try again at the next poll (a sole gateway stays sole).
    }
  }

  /**
   * Refreshes our registration. If another gateway took us for gone (we stalled past STALE_MS)
   * and removed it, we may no longer count alone: hand over, and register again; it may count
   * alone now, so we wait for its handover as a newcomer does.
   */
  private heartbeat(): void {
    this.beatAt = Date.now();
    if (this.stmts.heartbeat.run(this.beatAt, this.token).changes > 0) return;
    if (this.sole && !this.options.copy?.()) return;
    this.sole = false;
    this.writing(() => this.stmts.register.run(this.token, process.pid, HOST, this.beatAt));
    this.awaitHandover();
  }

  /** One IMMEDIATE transaction of its own. */
  private writing(fn: () => void): void {
    this.stmts.begin.run();
    try {
      fn();
      this.stmts.commit.run();
    } catch (err) {
      if (this.db.inTransaction) this.stmts.rollback.run();
      throw err;
    }
  }

  wait(key: string, windowMs: number, max: number, now: number): number {
    if (max <= 0) return Infinity;
    key = storable(this.namespace === '' ? key : this.namespace + key);
    if (this.blocked) throw this.blocked;
    if (!this.sole && !this.db.inTransaction) this.sync();
    const line = this.line(key, windowMs);
    // The max-th most recent call, if it is still kept.
    const i = line.times.length - max;
    if (i < line.head) return 0;
    const nth = line.times[i]!;
    return nth > now - windowMs ? nth + windowMs - now : 0;
  }

  record(key: string, now: number, windowMs: number): void {
    key = storable(this.namespace === '' ? key : this.namespace + key);
    this.atomically(() => {
      const line = this.line(key, windowMs);
      const last = line.times.length > line.head ? line.times[line.times.length - 1]! : -Infinity;
      const t = Math.max(now, last);
      let id: number;
      if (this.sole) {
        // Alone on the db: the next log id is ours to give; the row goes to our spool.
        id = ++this.seen;
        this.options.spool!(id, key, t, line.keepMs);
      } else id = this.seen = Number(this.stmts.insert.run(key, t, line.keepMs).lastInsertRowid);
      this.push(line, id, t, line.keepMs);
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
    // Stalled long enough to be taken for gone: another gateway may now count alone, unseen.
    if (this.registered && Date.now() - this.beatAt > OVERDUE_MS) this.poll();
    if (this.blocked) throw this.blocked;
    if (this.nesting > 0) return fn(); // inside a decision already: its transaction, its checks
    this.assertSameFile();
    this.nesting++;
    try {
      return this.transaction(fn);
    } finally {
      this.nesting--;
    }
  }

  /**
   * The db file deleted or replaced under us (an agent with a file tool can do it): SQLite goes
   * on writing into the old file, which nobody opens again, so what we count and audit now would
   * be lost, and the next gateway would start every budget afresh. No call is decided (fail closed).
   * Looked at by `poll` (every `pollMs`), not per call: a stat() per call cost ≈7 µs of the
   * forwarding thread, on every call.
   */
  private assertSameFile(): void {
    if (!this.fileGone) return;
    throw new Error(
      `the db ${this.store.file} was deleted or replaced while the gateway ran; its counters would go into the old file (restart the gateway)`,
    );
  }

  private transaction<T>(fn: () => T): T {
    if (this.sole || this.db.inTransaction) return fn();
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

  /**
   * Rolls back our transaction; what memory holds may then not be in the db: it is read again
   * from the log. Without a transaction (a sole gateway's batch) memory is the truth: kept.
   */
  private abort(): void {
    if (!this.db.inTransaction) return;
    this.stmts.rollback.run();
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
      try {
        this.stmts.prune.run(oldest === Infinity ? this.seen + 1 : oldest);
      } catch (err) {
        if (!this.sole) throw err; // else (no transaction of ours) rows are pruned next time
      }
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
    if (!line) {
      const keepMs = Math.max(windowMs, this.options.retainMs ?? 0);
      this.lines.set(key, (line = { times: [], ids: [], head: 0, keepMs }));
    } else if (windowMs > line.keepMs) line.keepMs = windowMs;
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

/**
 * A key as the db gives it back: SQLite stores text as UTF-8, where a lone surrogate (a client
 * name `"q\ud800"`) becomes U+FFFD. Counted under the stored spelling, a restart finds the
 * budget it left (else it read another key back and started afresh).
 */
function storable(key: string): string {
  return /[\ud800-\udfff]/.test(key) ? Buffer.from(key, 'utf8').toString('utf8') : key;
}
