/**
 * What the pump's bookkeeping needs of a line: whether it is JSON at all, and the top-level
 * `method` and `id` of a single JSON-RPC message. `scanEnvelope` reads it without parsing it into
 * objects: it validates the whole line as `JSON.parse` would (a line that is not JSON is recorded
 * as an event, not a message) but allocates nothing for the values it skips. The proxy scans only
 * long lines (a big result; see SCAN_FROM in frame.ts) and parses the rest; replay scans the
 * server's recorded messages.
 *
 * Anything unusual is left to `JSON.parse`: a batch, a top-level value that is not an object,
 * escapes in a key, in the method or in a string id, an id that is not a string, a number or
 * null, nesting deeper than 500.
 */
export interface Envelope {
  /** The `method`, if a string. */
  method: string | null;
  /** Whether there is a `method` key at all (a response has none). */
  hasMethod: boolean;
  /** The id's value: undefined if there is no `id` key (a string, a number or null when scanned). */
  id: unknown;
  /** The id as `JSON.stringify` of the parsed id writes it; null if absent or null. */
  idText: string | null;
  /** Has `result` or `error`. */
  answer: boolean;
}

/** A request: a method and an id (as `isRequest` of frame.ts). */
export function envelopeIsRequest(e: Envelope): boolean {
  return e.method !== null && e.id !== undefined && e.id !== null;
}

/** A response: an id, `result` or `error`, and no method (as `isResponse` of frame.ts). */
export function envelopeIsResponse(e: Envelope): boolean {
  return !e.hasMethod && e.id !== undefined && e.answer;
}

/** `Envelope` of a line that is not JSON. */
export const INVALID = 'invalid';
/** A line to read with `JSON.parse` instead (see above). */
export const COMPLEX = 'complex';

// Character codes.
const TAB = 9;
const NL = 10;
const CR = 13;
const SPACE = 32;
const QUOTE = 34;
const PLUS = 43;
const COMMA = 44;
const MINUS = 45;
const DOT = 46;
const ZERO = 48;
const NINE = 57;
const COLON = 58;
const UPPER_E = 69;
const OPEN_BRACKET = 91;
const BACKSLASH = 92;
const CLOSE_BRACKET = 93;
const LOWER_E = 101;
const LOWER_U = 117;
const OPEN_BRACE = 123;
const CLOSE_BRACE = 125;

/** Where a string's plain run ends: its closing quote, an escape, or a control character (invalid). */
// eslint-disable-next-line no-control-regex -- raw control characters end a JSON string (invalid)
const STRING_STOP = /["\\\u0000-\u001f]/g;
const ESCAPABLE = new Set([34, 92, 47, 98, 102, 110, 114, 116]); // " \ / b f n r t
const HEX = /^[0-9a-fA-F]{4}$/;

class Invalid extends Error {}
const invalid = new Invalid();
/** Nesting deeper than this is left to JSON.parse (which has no stack to run out of). */
const MAX_DEPTH = 500;
const tooDeep = new Invalid();

/** Scans `text` (one line, terminator already cut). */
export function scanEnvelope(text: string): Envelope | typeof INVALID | typeof COMPLEX {
  try {
    return new Scanner(text).message();
  } catch (err) {
    if (err === invalid) return INVALID;
    if (err === tooDeep || err instanceof RangeError) return COMPLEX;
    throw err;
  }
}

class Scanner {
  private i = 0;
  private depth = 0;
  /** Whether the last string scanned held an escape. */
  private escaped = false;

  constructor(private readonly s: string) {}

  message(): Envelope | typeof INVALID | typeof COMPLEX {
    this.space();
    const c = this.s.charCodeAt(this.i);
    if (c !== OPEN_BRACE) {
      this.value();
      this.end();
      return COMPLEX; // valid JSON, but not one JSON-RPC object (a batch, a bare value)
    }
    this.i++;
    let method: string | null = null;
    let idText: string | null = null;
    let id: string | number | null | undefined;
    let hasMethod = false;
    let answer = false;
    let complex = false;
    this.space();
    if (this.s.charCodeAt(this.i) === CLOSE_BRACE) this.i++;
    else {
      for (;;) {
        this.space();
        if (this.s.charCodeAt(this.i) !== QUOTE) throw invalid;
        const keyStart = this.i + 1;
        this.string();
        const key = this.escaped ? null : this.s.slice(keyStart, this.i - 1);
        if (key === null) complex = true; // an escaped key might spell id or method
        this.space();
        if (this.s.charCodeAt(this.i) !== COLON) throw invalid;
        this.i++;
        this.space();
        const start = this.i;
        const first = this.s.charCodeAt(this.i);
        this.value();
        // The last of duplicate keys wins, as in JSON.parse.
        if (key === 'method') {
          hasMethod = true;
          if (first === QUOTE) {
            if (this.escaped) complex = true;
            else method = this.s.slice(start + 1, this.i - 1);
          } else method = null;
        } else if (key === 'id') {
          const raw = this.s.slice(start, this.i);
          if (first === QUOTE) {
            if (this.escaped) complex = true;
            else {
              idText = raw;
              id = raw.slice(1, -1);
            }
          } else if (first === MINUS || (first >= ZERO && first <= NINE)) {
            id = Number(raw);
            idText = JSON.stringify(id);
          } else if (raw === 'null') {
            idText = null;
            id = null;
          } else complex = true; // an object, array or boolean id
        } else if (key === 'result' || key === 'error') answer = true;
        this.space();
        const c = this.s.charCodeAt(this.i++);
        if (c === CLOSE_BRACE) break;
        if (c !== COMMA) throw invalid;
      }
    }
    this.end();
    if (complex) return COMPLEX;
    return { method, hasMethod, id, idText, answer };
  }

  private end(): void {
    this.space();
    if (this.i !== this.s.length) throw invalid;
  }

  private space(): void {
    const s = this.s;
    let c = s.charCodeAt(this.i);
    while (c === SPACE || c === TAB || c === NL || c === CR) c = s.charCodeAt(++this.i);
  }

  /** Any JSON value, validated and skipped. */
  private value(): void {
    const c = this.s.charCodeAt(this.i);
    if (c === QUOTE) this.string();
    else if (c === OPEN_BRACE) this.members(CLOSE_BRACE, true);
    else if (c === OPEN_BRACKET) this.members(CLOSE_BRACKET, false);
    else if (c === MINUS || (c >= ZERO && c <= NINE)) this.number();
    else if (this.s.startsWith('true', this.i)) this.i += 4;
    else if (this.s.startsWith('false', this.i)) this.i += 5;
    else if (this.s.startsWith('null', this.i)) this.i += 4;
    else throw invalid;
  }

  /** An object's members (`keyed`) or an array's, from its opening bracket to past its `close`. */
  private members(close: number, keyed: boolean): void {
    if (++this.depth > MAX_DEPTH) throw tooDeep;
    this.i++;
    this.space();
    if (this.s.charCodeAt(this.i) === close) {
      this.i++;
      this.depth--;
      return;
    }
    for (;;) {
      this.space();
      if (keyed) {
        if (this.s.charCodeAt(this.i) !== QUOTE) throw invalid;
        this.string();
        this.space();
        if (this.s.charCodeAt(this.i++) !== COLON) throw invalid;
        this.space();
      }
      this.value();
      this.space();
      const c = this.s.charCodeAt(this.i++);
      if (c === close) {
        this.depth--;
        return;
      }
      if (c !== COMMA) throw invalid;
    }
  }

  /** From the opening quote to past the closing one; sets `escaped`. */
  private string(): void {
    const s = this.s;
    this.escaped = false;
    let i = this.i + 1;
    for (;;) {
      STRING_STOP.lastIndex = i;
      if (!STRING_STOP.test(s)) throw invalid; // unterminated
      i = STRING_STOP.lastIndex - 1;
      const c = s.charCodeAt(i);
      if (c === QUOTE) {
        this.i = i + 1;
        return;
      }
      if (c !== BACKSLASH) throw invalid; // a raw control character
      this.escaped = true;
      const e = s.charCodeAt(i + 1);
      if (e === LOWER_U) {
        if (!HEX.test(s.slice(i + 2, i + 6))) throw invalid;
        i += 6;
      } else if (ESCAPABLE.has(e)) i += 2;
      else throw invalid;
    }
  }

  private number(): void {
    const s = this.s;
    let i = this.i;
    if (s.charCodeAt(i) === MINUS) i++;
    let c = s.charCodeAt(i);
    if (c === ZERO) c = s.charCodeAt(++i);
    else if (c > ZERO && c <= NINE) {
      do c = s.charCodeAt(++i);
      while (c >= ZERO && c <= NINE);
    } else throw invalid;
    if (c === DOT) {
      c = s.charCodeAt(++i);
      if (!(c >= ZERO && c <= NINE)) throw invalid;
      do c = s.charCodeAt(++i);
      while (c >= ZERO && c <= NINE);
    }
    if (c === UPPER_E || c === LOWER_E) {
      c = s.charCodeAt(++i);
      if (c === PLUS || c === MINUS) c = s.charCodeAt(++i);
      if (!(c >= ZERO && c <= NINE)) throw invalid;
      do c = s.charCodeAt(++i);
      while (c >= ZERO && c <= NINE);
    }
    this.i = i;
  }
}
