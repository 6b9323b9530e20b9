import type { DecisionRecord } from '../store/decisionLog.js';
import { encodeRow, SpoolFile, type RawRow, type SpoolRow } from '../store/spool.js';
import type { Store } from '../store/store.js';
import type { Direction, SessionInfo } from '../store/types.js';

export interface SessionLogOptions {
  /** Spooled rows are copied into the db once the session has been quiet this long (ms)... */
  idleMs?: number;
  /** ...or once the oldest has waited this long (ms), whichever comes first. */
  maxDelayMs?: number;
  /** Without a spool every `commit` is a db transaction (slower; the db stays the only file). */
  spool?: boolean;
  report?: (message: string) => void;
}

/**
 * A spool past this size (UTF-16 units, about bytes) is copied at once, busy or not: a burst of a
 * few thousand calls stays off the db until it ends (or for `maxDelayMs`).
 */
const COPY_AT_SIZE = 4 << 20;

/**
 * Rows copied per transaction by the background copy (~1–2 ms of inserts here): the rest follow
 * in the next turns of the event loop, so a message that arrives meanwhile waits for one slice,
 * not for a whole second's backlog (10–80 ms under sustained traffic when it was one transaction).
 */
export const COPY_SLICE = 256;

/**
 * How long the background copy waits for another process's lock (ms): the rows are safe in the
 * spool, so a db that stays locked is tried again later (after `maxDelayMs`), not waited for.
 */
const COPY_BUSY_MS = 100;
/** How long the copy at the session's end waits for another process's lock (ms). */
const CLOSE_BUSY_MS = 1000;

/**
 * What a live session writes (messages, events, the gateway's decisions), made durable in
 * batches: rows are added while a batch of frames goes through the taps, `commit()` makes them
 * durable before the batch is forwarded (one `write` to the session's spool), and the spooled rows
 * are copied into the db when the session goes quiet for a moment (at the latest a second later,
 * or when the spool reaches 4 MiB), in transactions of COPY_SLICE rows, one per turn of the event
 * loop: the db work stays off the path of a burst of calls, and never holds up a call for long.
 * Readers see the rows meanwhile: opening the db copies live spools too (see store/spool.ts).
 *
 * A storage failure never stops the traffic: it is reported once, and recording goes on as
 * well as it can (rows the db refused stay in the spool, which the next open of the db copies).
 */
export class SessionLog {
  private batch: SpoolRow[] = [];
  private spooled: SpoolRow[] = [];
  private spool: SpoolFile | undefined;
  private timer: NodeJS.Timeout | undefined;
  /** The next slice of a background copy, while one is under way. */
  private slice: NodeJS.Immediate | undefined;
  /** A commit since the timer was armed (the session is not quiet yet). */
  private busy = false;
  /** A copy failed: the timer is the next try, whatever is committed meanwhile. */
  private retrying = false;
  /** When the oldest spooled row was committed (ms, Date.now()), and the spool's size. */
  private oldest = 0;
  private size = 0;
  private decisions = 0;
  /**
   * The kinds of failure reported: each once a session (on a full disk, small writes still fit
   * between the big ones that fail: reporting each time it came back said it again and again).
   */
  private readonly reported = new Set<'spool' | 'copy' | 'lost' | 'replaced' | 'deleted'>();
  /** Messages and events neither the spool nor the db took: the session's end says how many. */
  private lost = 0;
  /** Why the last commit lost rows a gateway must keep (see `assertKept`). */
  private unkept: Error | undefined;
  /** The last db write's failure. */
  private why = '';
  private closed = false;
  private readonly idleMs: number;
  private readonly maxDelayMs: number;
  private readonly report: (message: string) => void;

  constructor(
    private readonly store: Store,
    readonly sessionId: string,
    options: SessionLogOptions = {},
  ) {
    this.idleMs = options.idleMs ?? 25;
    this.maxDelayMs = options.maxDelayMs ?? 1000;
    this.report = options.report ?? ((m) => process.stderr.write(`mcp-replay: ${m}\n`));
    if (options.spool !== false && store.file !== ':memory:') {
      try {
        this.spool = SpoolFile.create(store.file, sessionId);
      } catch (err) {
        this.report(
          `cannot create a spool beside ${store.file} (${(err as Error).message}): committing to the db directly`,
        );
      }
    }
  }

  /**
   * Stores the session, before any of its rows. A db another process keeps locked does not stop
   * the recorder (the agent would lose its server): the session then is the spool's first row,
   * and goes into the db with the rest of the spool once the lock is released.
   */
  begin(info: SessionInfo): void {
    try {
      this.store.briefly(COPY_BUSY_MS, () => this.store.insertSession(info));
      return;
    } catch (err) {
      if (!this.spool || !String((err as { code?: unknown }).code ?? '').startsWith('SQLITE_BUSY')) {
        this.closed = true;
        this.spool?.remove(); // no session: nothing to leave behind
        throw err;
      }
    }
    this.batch.push({ kind: 'session', info });
    this.commit();
    this.report(
      `${this.store.file} is locked by another process: session ${this.sessionId} is recorded in its spool until the lock is released`,
    );
  }

  message(seq: number, t: number, dir: Direction, raw: string, method: string | null, id: string | null): void {
    this.batch.push({ kind: 'message', seq, t, dir, raw, method, id });
  }

  /** A line spooled before it is parsed (see RawRow): fill in its `facts` once it is. */
  raw(seq: number, t: number, dir: Direction, raw: string): RawRow {
    const row: RawRow = { kind: 'raw', seq, t, dir, raw };
    this.batch.push(row);
    return row;
  }

  event(seq: number, t: number, event: string, data: unknown): void {
    this.batch.push({ kind: 'event', seq, t, event, data: data === undefined ? null : JSON.stringify(data) });
  }

  /** A decision of the gateway; `record` becomes the row (its session and number are set here). */
  decision(record: Omit<DecisionRecord, 'n' | 'sessionId'>): void {
    const row = record as DecisionRecord;
    row.sessionId = this.sessionId;
    row.n = ++this.decisions;
    this.batch.push({ kind: 'decision', record: row });
  }

  /** A call a sole gateway counted (its counters' log row, with the id the gateway gave it). */
  limit(id: number, key: string, t: number, keepMs: number): void {
    this.batch.push({ kind: 'limit', id, key, t, keepMs });
  }

  /** Makes the rows added since the last commit durable: call before forwarding what they record. */
  commit(): void {
    this.unkept = undefined;
    if (this.batch.length === 0) return;
    const batch = this.batch;
    this.batch = [];
    if (this.spool && !this.closed) {
      let text = '';
      for (const row of batch) text += encodeRow(row);
      try {
        this.spool.append(text);
        for (const row of batch) this.spooled.push(row);
        this.size += text.length;
        this.schedule();
        return;
      } catch (err) {
        this.fail('spool', `spool write failed (${(err as Error).message}); writing to the db directly`);
      }
    }
    if (!this.write(() => this.store.spoolRows(this.sessionId, batch), batch) && batch.some(letsThrough)) {
      this.unkept = new Error(`the gateway's decisions could not be stored (${this.why})`);
    }
  }

  /**
   * Throws if the last commit lost a decision that let a call through or a call a gateway
   * counted (neither the spool nor the db took them): the gateway refuses those calls then, as
   * it does when its counters' transaction fails (fail closed), rather than forward them unaudited.
   */
  assertKept(): void {
    if (this.unkept) throw this.unkept;
  }

  /**
   * Copies every spooled row into the db now, in one transaction, then empties the spool; true
   * if every row is in the db. (The session's end, and a sole gateway handing its counts over.)
   */
  copy(): boolean {
    clearTimeout(this.timer);
    this.timer = undefined;
    this.retrying = false;
    clearImmediate(this.slice);
    this.slice = undefined;
    if (this.spooled.length === 0) return true;
    if (this.write(() => this.store.spoolRows(this.sessionId, this.spooled))) {
      this.emptied();
      return true;
    }
    this.retryLater();
    return false;
  }

  /**
   * The background copy: one slice of the spooled rows, the next one in the next turn of the
   * event loop, until a slice takes the last row (rows committed meanwhile join the queue).
   */
  private copySlice(): void {
    this.slice = undefined;
    if (this.spooled.length === 0) return;
    const all = this.spooled.length <= COPY_SLICE;
    const rows = all ? this.spooled : this.spooled.slice(0, COPY_SLICE);
    if (!this.write(() => this.store.briefly(COPY_BUSY_MS, () => this.store.spoolRows(this.sessionId, rows)))) {
      this.retryLater(); // kept
      return;
    }
    if (all) this.emptied();
    else {
      this.spooled = this.spooled.slice(COPY_SLICE);
      this.slice = setImmediate(() => this.copySlice()).unref();
    }
  }

  /** Every spooled row is in the db: the spool starts again empty. */
  private emptied(): void {
    this.spooled = [];
    this.size = 0;
    try {
      if (this.spool?.reset())
        this.fail(
          'deleted',
          `the spool ${this.spool.path} was deleted while recording: made anew (what it held is in the db; a recorder killed meanwhile would have lost it)`,
        );
    } catch (err) {
      this.fail('spool', `cannot empty the spool ${this.spool?.path}: ${(err as Error).message}`);
    }
  }

  /**
   * Commits, copies everything into the db, and deletes the spool if it is empty. A db locked by
   * another process is waited for a second at most: the spool keeps the rest for the next open.
   */
  close(): void {
    this.commit();
    this.store.briefly(CLOSE_BUSY_MS, () => this.copy());
    clearTimeout(this.timer); // what the db did not take stays in the spool, for the next open
    this.closed = true;
    if (this.spooled.length === 0) {
      try {
        this.spool?.remove();
      } catch (err) {
        // Everything is in the db: the next open of it deletes what is left (the session still ends).
        this.fail('spool', `cannot delete the spool ${this.spool?.path}: ${(err as Error).message}`);
      }
    }
    this.reportLost();
  }

  /** The session is over: its end is stored after every row, with them (call `close` then). */
  end(endedAt: string, exitCode: number | null): void {
    this.batch.push({ kind: 'end', endedAt, exitCode });
  }

  private schedule(): void {
    this.busy = true;
    if (this.slice || this.retrying) return; // a copy is under way or due: it takes the new rows too
    if (this.size >= COPY_AT_SIZE) {
      clearTimeout(this.timer);
      this.arm(0);
    } else if (!this.timer) {
      this.oldest = Date.now();
      this.arm(this.idleMs);
    }
  }

  /**
   * A copy failed (the db locked by another process, full, …): the rows stay in the spool, and
   * the next try is `maxDelayMs` later, not at the next commit (each try costs the forwarding
   * thread up to COPY_BUSY_MS, or a whole copy's work on a full disk).
   */
  private retryLater(): void {
    clearTimeout(this.timer);
    this.retrying = true;
    this.timer = setTimeout(() => {
      this.timer = undefined;
      this.retrying = false;
      this.copySlice();
    }, this.maxDelayMs).unref();
  }

  private arm(ms: number): void {
    this.busy = false;
    this.timer = setTimeout(() => this.tick(), ms).unref();
  }

  private tick(): void {
    this.timer = undefined;
    if (this.busy && this.size < COPY_AT_SIZE && Date.now() - this.oldest < this.maxDelayMs) this.arm(this.idleMs);
    else this.copySlice();
  }

  /**
   * Runs a db write; on failure reports (once a session) and returns false. `lost`: the rows that
   * are then lost (the spool could not take them either).
   */
  private write(fn: () => void, lost?: readonly SpoolRow[]): boolean {
    if (this.store.replaced()) {
      this.fail(
        'replaced',
        `${this.store.file} was deleted or replaced during session ${this.sessionId}: the session is lost with the old file`,
      );
    }
    try {
      fn();
      return true;
    } catch (err) {
      const message = (this.why = (err as Error).message);
      if (lost) {
        this.lost += lost.filter((r) => r.kind === 'message' || r.kind === 'raw' || r.kind === 'event').length;
        // A gateway's log (it stored decisions): the calls are refused meanwhile (assertKept), not forwarded.
        const calls = this.decisions > 0 ? '; calls are refused until it works again (fail closed)' : '';
        this.fail('lost', `recording failed, traffic continues unrecorded${calls}: ${message}`);
      } else this.fail('copy', `cannot copy the spool into ${this.store.file} (kept, retrying): ${message}`);
      return false;
    }
  }

  /** At the session's end: how many messages and events were lost, if any. */
  private reportLost(): void {
    if (this.lost === 0) return;
    this.report(`session ${this.sessionId}: ${this.lost} messages and events were not recorded`);
    this.lost = 0;
  }

  private fail(kind: 'spool' | 'copy' | 'lost' | 'replaced' | 'deleted', message: string): void {
    if (!this.reported.has(kind)) this.report(message);
    this.reported.add(kind);
  }
}

/** A row of a call the gateway lets through: its decision to allow it, or its count. */
function letsThrough(row: SpoolRow): boolean {
  return row.kind === 'limit' || (row.kind === 'decision' && row.record.decision === 'allow');
}
