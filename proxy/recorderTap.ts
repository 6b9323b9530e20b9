import { constants } from 'node:os';
import { NOT_JSON, type Frame } from './frame.js';
import type { PumpEvent, Tap } from './tap.js';
import type { Store } from '../store/store.js';
import type { Redactor } from '../recorder/redact.js';

type Pending =
  | {
      kind: 'message';
      seq: number;
      t: number;
      dir: Frame['dir'];
      raw: string;
      method: string | null;
      id: string | null;
    }
  | { kind: 'event'; seq: number; t: number; event: string; data: unknown };

/**
 * Records every message that crosses it, redacted, into the store. The messages of a batch are
 * written in one transaction at `flush`, which the pump runs before it forwards any of them: a
 * message is durable before the other side receives it. It sits next to the client, so it records
 * what the client sent and what the client received.
 */
export class RecorderTap implements Tap {
  private seq = 0;
  private lastT = 0;
  private queue: Pending[] = [];
  private failed = false;

  constructor(
    private readonly store: Store,
    readonly sessionId: string,
    private readonly redactor: Redactor,
    private readonly report: (message: string) => void = (m) => process.stderr.write(`mcp-replay: ${m}\n`),
  ) {
    // One transaction, its function made once (better-sqlite3 builds a wrapper per `transaction()`).
    this.appendAll = store.db.transaction((queue: readonly Pending[]) => this.append(queue));
  }

  private readonly appendAll: (queue: readonly Pending[]) => void;

  onFrame(frame: Frame): undefined {
    const text = frame.text();
    const json = frame.json();
    const t = this.time(frame.t);
    if (json === NOT_JSON) {
      // Not a JSON-RPC message (a server printing to stdout): forwarded as is, kept as an event.
      if (text.trim() !== '') {
        const data = { dir: frame.dir, text: this.redactor.text(text) };
        this.queue.push({ kind: 'event', seq: this.seq++, t, event: 'non-json', data });
      }
      return undefined;
    }
    frame.notes.seq = this.seq;
    frame.notes.t = t;
    const first = (Array.isArray(json) ? json[0] : json) as { method?: unknown; id?: unknown } | null | undefined;
    const method = typeof first?.method === 'string' ? first.method : null;
    const id = first?.id === undefined || first.id === null ? null : JSON.stringify(first.id);
    const raw = this.redactor.apply(text, json);
    this.queue.push({ kind: 'message', seq: this.seq++, t, dir: frame.dir, raw, method, id });
    return undefined;
  }

  flush(): void {
    if (this.queue.length === 0) return;
    const queue = this.queue;
    this.queue = [];
    // Inside the pump's batch transaction (enforce) the rows simply join it; else one of our own.
    this.write(() => (this.store.db.inTransaction ? this.append(queue) : this.appendAll(queue)));
  }

  private append(queue: readonly Pending[]): void {
    for (const r of queue) {
      if (r.kind === 'message') this.store.appendMessage(this.sessionId, r.seq, r.t, r.dir, r.raw, r.method, r.id);
      else this.store.appendEvent(this.sessionId, r.seq, r.t, r.event, r.data);
    }
  }

  onEvent(e: PumpEvent): void {
    const t = this.time(e.t);
    if (e.kind === 'stderr') {
      this.queue.push({ kind: 'event', seq: this.seq++, t, event: 'stderr', data: this.redactor.text(e.data) });
    } else if (e.kind === 'error')
      this.queue.push({ kind: 'event', seq: this.seq++, t, event: 'error', data: e.message });
    else if (e.kind === 'non-json') {
      const data = { dir: e.dir, text: this.redactor.text(e.data) };
      this.queue.push({ kind: 'event', seq: this.seq++, t, event: 'non-json', data });
    } else {
      this.queue.push({ kind: 'event', seq: this.seq++, t, event: 'exit', data: { code: e.code, signal: e.signal } });
      this.flush();
      // A server killed by a signal ends like a shell reports it: 128 + the signal's number.
      const code = e.code ?? (e.signal ? 128 + (constants.signals[e.signal as NodeJS.Signals] ?? 0) : null);
      this.write(() => this.store.endSession(this.sessionId, new Date().toISOString(), code));
      return;
    }
    this.flush();
  }

  /** Times never go backwards within a session (a frame made by a tap may carry an older stamp). */
  private time(t: number): number {
    if (t > this.lastT) this.lastT = t;
    return this.lastT;
  }

  /** A storage failure is reported (once) and never stops the traffic. */
  private write(fn: () => void): void {
    try {
      fn();
      this.failed = false;
    } catch (err) {
      if (!this.failed) this.report(`recording failed, traffic continues unrecorded: ${(err as Error).message}`);
      this.failed = true;
    }
  }
}
