import { COMPLEX, INVALID, scanEnvelope, type Envelope } from './envelope.js';
import { idToken, lossyId, RawJson } from './exactId.js';

/** Which way a message travels: client → server or server → client. */
export type Direction = 'c2s' | 's2c';

/**
 * Lines longer than this (UTF-16 units) have their envelope scanned rather than parsed: a big
 * result builds no object graph in the proxy. Shorter ones (nearly every message) are parsed:
 * measured here (four A/B runs of `bench/proxy.ts`'s configurations, 12–24 rounds), the
 * scanner's JS cost the cold start more to compile than the parse costs: `record` 1.10–1.20 →
 * 1.04–1.13 and `enforce` 1.22–1.27 → 1.13–1.23 the pipe's sequential round trip, throughput in
 * flight the same or better (see decisions/proxy-startup.md).
 */
export const SCAN_FROM = 64 * 1024;

/** `Frame.json()` of a line that is not JSON (the SDK would fail to parse it too). */
export const NOT_JSON: unique symbol = Symbol('not JSON');

/** The JSON-RPC fields the proxy looks at; everything else is opaque. */
export interface RpcMessage {
  jsonrpc?: unknown;
  id?: unknown;
  method?: unknown;
  params?: unknown;
  result?: unknown;
  error?: unknown;
}

/**
 * One line crossing the proxy. It keeps the bytes it arrived as (forwarded unchanged unless a
 * tap replaces the frame) and parses itself at most once, on demand.
 */
export class Frame {
  private parsed: unknown = undefined;
  private didParse = false;
  private textCache: string | undefined;
  private envelopeCache: Envelope | typeof INVALID | typeof COMPLEX | undefined;
  /** Set by taps for the taps after them, e.g. the recorder's `seq` for the enforcer's audit. */
  readonly notes: {
    seq?: number;
    t?: number;
    /**
     * What the recorder stores for this frame instead of its text: a message a tap made with
     * values the db must not hold (the gateway's approval question, which shows the call's real
     * arguments to the human), written with them redacted.
     */
    recordAs?: unknown;
  } = {};

  constructor(
    readonly dir: Direction,
    /** The exact bytes, line terminator included (absent on a final unterminated line). */
    readonly bytes: Buffer,
    /** µs since the session started, taken when the bytes arrived. */
    readonly t: number,
    /** Whether a tap made this frame (an answer, a rewrite, a gateway request). */
    readonly synthetic = false,
  ) {}

  /**
   * Builds a frame for a message a tap sends, serialized as the SDK does (`JSON.stringify` +
   * `\n`). A `RawJson` in it (an id as the client wrote it) is written as its text; the frame
   * then parses its text when asked, as the other side will (the taps see what it sees).
   */
  static of(dir: Direction, message: unknown, t: number, eol = '\n'): Frame {
    const raws = RawJson.written;
    let text = JSON.stringify(message);
    const placed = RawJson.written !== raws;
    if (placed) text = RawJson.place(text);
    const frame = new Frame(dir, Buffer.from(text + eol), t, true);
    frame.textCache = text;
    if (!placed) {
      frame.parsed = message;
      frame.didParse = true;
    }
    return frame;
  }

  /** The line's terminator as it arrived: `\r\n`, `\n`, or none (a last unterminated line). */
  eol(): string {
    const n = this.bytes.length;
    if (n === 0 || this.bytes[n - 1] !== 10) return '';
    return n > 1 && this.bytes[n - 2] === 13 ? '\r\n' : '\n';
  }

  /** The line as the SDK reads it: UTF-8, without `\n` and a trailing `\r`. */
  text(): string {
    if (this.textCache === undefined) {
      let end = this.bytes.length;
      if (end > 0 && this.bytes[end - 1] === 10) end--;
      if (end > 0 && this.bytes[end - 1] === 13) end--;
      this.textCache = this.bytes.toString('utf8', 0, end);
    }
    return this.textCache;
  }

  /**
   * The line's JSON-RPC envelope, once; COMPLEX when `json()` must be asked instead (a batch, a
   * value that is not an object). A line up to SCAN_FROM long is parsed (`json()`, kept for the
   * taps): V8's native parser, nothing on the per-message path for its optimizing compiler to
   * compile; a longer one is scanned, building no objects (see envelope.ts).
   */
  envelope(): Envelope | typeof INVALID | typeof COMPLEX {
    if (this.envelopeCache !== undefined) return this.envelopeCache;
    if (!this.didParse && this.text().length > SCAN_FROM) return (this.envelopeCache = scanEnvelope(this.text()));
    const v = this.json();
    if (v === NOT_JSON) return (this.envelopeCache = INVALID);
    if (v === null || typeof v !== 'object' || Array.isArray(v)) return (this.envelopeCache = COMPLEX);
    return (this.envelopeCache = headOf(v as RpcMessage));
  }

  /**
   * The envelope of each JSON-RPC message in the frame (one, or a batch's members), or INVALID
   * if the line is not JSON.
   */
  heads(): readonly Envelope[] | typeof INVALID {
    const e = this.envelope();
    if (e !== COMPLEX) return e === INVALID ? INVALID : [e];
    return this.json() === NOT_JSON ? INVALID : this.messages().map(headOf);
  }

  /** The parsed message (an object, or an array for a batch), or NOT_JSON. Parsed once. */
  json(): unknown {
    if (!this.didParse) {
      this.didParse = true;
      try {
        this.parsed = JSON.parse(this.text());
      } catch {
        this.parsed = NOT_JSON;
      }
    }
    return this.parsed;
  }

  /**
   * The id to write in an answer to `m` (this frame's message, or a member of its batch): its
   * parsed id, or, when that may not write back as this line has it (`lossyId`: a number beyond
   * 2^53...), the id's token as a `RawJson`. Free for any other id.
   */
  exactId<T>(m: { id?: T }): T | RawJson {
    const id = m.id;
    if (!lossyId(id)) return id as T;
    const v = this.json();
    let member = -1; // the line's own message
    if (Array.isArray(v)) member = v.indexOf(m);
    else if (v !== m) return id as T;
    const token = member === -1 && Array.isArray(v) ? undefined : idToken(this.text(), member);
    return token === undefined ? (id as T) : new RawJson(token);
  }

  /** `exactId` of `messages()[k]` (the message of `heads()[k]`). */
  exactIdAt(k: number): unknown {
    const m = this.messages()[k];
    return m === undefined ? undefined : this.exactId(m);
  }

  /** The JSON-RPC messages in this frame: one, the members of a batch, or none if not JSON. */
  messages(): RpcMessage[] {
    const v = this.json();
    if (v === NOT_JSON || v === null || typeof v !== 'object') return [];
    return (Array.isArray(v) ? v : [v]).filter((m): m is RpcMessage => m !== null && typeof m === 'object');
  }
}

/** A request carries a method and an id; a notification a method only; a response an id only. */
export function isRequest(m: RpcMessage): boolean {
  return typeof m.method === 'string' && m.id !== undefined && m.id !== null;
}

export function isResponse(m: RpcMessage): boolean {
  return m.method === undefined && m.id !== undefined && ('result' in m || 'error' in m);
}

/** A parsed message's envelope, as `scanEnvelope` gives it for a plain line. */
function headOf(m: RpcMessage): Envelope {
  return {
    method: typeof m.method === 'string' ? m.method : null,
    hasMethod: m.method !== undefined,
    id: m.id,
    idText: m.id === undefined || m.id === null ? null : JSON.stringify(m.id),
    answer: 'result' in m || 'error' in m,
  };
}
