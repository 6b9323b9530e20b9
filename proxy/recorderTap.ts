import { constants } from 'node:os';
import { NOT_JSON, type Frame } from './frame.js';
import type { PumpEvent, Tap } from './tap.js';
import type { Store } from '../store/store.js';
import { SessionLog, type SessionLogOptions } from '../recorder/sessionLog.js';
import { messageFacts, type MessageFacts, type RawRow } from '../store/spool.js';
import { COMPLEX, INVALID } from './envelope.js';
import type { Redactor } from '../recorder/redact.js';

/**
 * Records every message that crosses it, redacted, into the store. The messages of a batch are
 * made durable at `flush` (one write to the session's spool, copied into the db once it is quiet;
 * see recorder/sessionLog.ts), which the pump runs before it forwards any of them: a message is
 * durable before the other side receives it. It sits next to the client, so it records what the
 * client sent and what the client received.
 */
export class RecorderTap implements Tap {
  readonly name = 'recorder';
  private seq = 0;
  /** Frames spooled unparsed in this batch, each followed by its row, until they are settled. */
  private readonly unsettled: (Frame | RawRow)[] = [];
  private lastT = 0;
  /** Where the rows go; the gateway adds its decisions to it too. */
  readonly log: SessionLog;

  constructor(
    store: Store,
    readonly sessionId: string,
    private readonly redactor: Redactor,
    options: SessionLogOptions = {},
  ) {
    this.log = new SessionLog(store, sessionId, options);
  }

  onFrame(frame: Frame): undefined {
    const text = frame.text();
    const t = this.time(frame.t);
    if (!frame.synthetic && this.redactor.keeps(text)) {
      // Stored as it arrived: spooled unparsed, so the parse is not on the forwarding path.
      if (isBlank(text)) return undefined; // not JSON, and nothing to keep
      frame.notes.seq = this.seq;
      frame.notes.t = t;
      this.unsettled.push(frame, this.log.raw(this.seq++, t, frame.dir, text));
      return undefined;
    }
    const json = frame.notes.recordAs ?? frame.json();
    if (json === NOT_JSON) {
      // Not a JSON-RPC message (a server printing to stdout): forwarded as is, kept as an event.
      if (!isBlank(text)) this.log.event(this.seq++, t, 'non-json', { dir: frame.dir, text: this.redactor.text(text) });
      return undefined;
    }
    frame.notes.seq = this.seq;
    frame.notes.t = t;
    const { method, id } = messageFacts(json);
    const stored = frame.notes.recordAs === undefined ? text : JSON.stringify(json);
    this.log.message(this.seq++, t, frame.dir, this.redactor.apply(stored, json), method, id);
    return undefined;
  }

  /**
   * A server message a tap (the gateway) is about to rewrite, as it arrived: recorded, redacted,
   * as an `unfiltered` event (`{ dir, text }`) just before the message the client receives.
   */
  unfiltered(frame: Frame): void {
    const json = frame.json();
    if (json === NOT_JSON) return;
    const text = this.redactor.apply(frame.text(), json);
    this.log.event(this.seq++, this.time(frame.t), 'unfiltered', { dir: frame.dir, text });
  }

  /** The batch was forwarded: the lines spooled unparsed are read now, for their method and id. */
  settle(): void {
    for (let i = 0; i < this.unsettled.length; i += 2) {
      const frame = this.unsettled[i] as Frame;
      const e = frame.envelope();
      let facts: MessageFacts | null;
      if (e === INVALID) facts = null;
      else if (e !== COMPLEX) facts = { method: e.method, id: e.idText };
      else {
        const json = frame.json();
        facts = json === NOT_JSON ? null : messageFacts(json);
      }
      (this.unsettled[i + 1] as RawRow).facts = facts;
    }
    this.unsettled.length = 0;
  }

  /** The batch is about to be forwarded: its rows (and the gateway's decisions) become durable. */
  flush(): void {
    this.log.commit();
  }

  onEvent(e: PumpEvent): void {
    const t = this.time(e.t);
    if (e.kind === 'stderr') this.log.event(this.seq++, t, 'stderr', this.redactor.text(e.data));
    else if (e.kind === 'error') this.log.event(this.seq++, t, 'error', e.message);
    else if (e.kind === 'non-json')
      this.log.event(this.seq++, t, 'non-json', { dir: e.dir, text: this.redactor.text(e.data) });
    else {
      this.log.event(this.seq++, t, 'exit', { code: e.code, signal: e.signal });
      // A server killed by a signal ends like a shell reports it: 128 + the signal's number.
      const code = e.code ?? (e.signal ? 128 + (constants.signals[e.signal as NodeJS.Signals] ?? 0) : null);
      this.log.end(new Date().toISOString(), code);
      this.log.close();
      return;
    }
    this.log.commit();
  }

  /** Times never go backwards within a session (a frame made by a tap may carry an older stamp). */
  private time(t: number): number {
    if (t > this.lastT) this.lastT = t;
    return this.lastT;
  }
}

/** Whitespace only (an empty line): JSON.parse rejects it, and there is nothing to record. */
function isBlank(text: string): boolean {
  return text.trim() === '';
}
