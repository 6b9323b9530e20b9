import { randomBytes } from 'node:crypto';
import { createScanner } from 'jsonc-parser';

/**
 * Request ids as the client wrote them. JSON.parse reads a number into a double, so
 * `9007199254740993` (beyond 2^53) reads 9007199254740992 and `1.10` reads 1.1: an answer written
 * from the parsed id would carry another id than its request, and a client that keeps exact
 * numbers (Python's json, Go with UseNumber) would never match it. What the proxy writes for a
 * request (the gateway's answers, the pump's when the server died) carries the id's JSON token
 * instead whenever the parsed number may not write back as it came (`lossyId`); strings and safe
 * integers, every SDK's ids, are written from the parsed value as before, at no extra cost.
 */

/**
 * Whether a parsed id may not write back as the token it was read from: a number that is not a
 * safe integer (beyond 2^53, a fraction). A safe integer written `1.0`, `1e3` or `-0` is not
 * caught (`1`, `1000`, `0` come back), nor ever looked up.
 */
export function lossyId(id: unknown): id is number {
  return typeof id === 'number' && !Number.isSafeInteger(id);
}

/** JSON text that `Frame.of` writes verbatim where it stands in a message (an id's token). */
export class RawJson {
  /** How many were serialized so far: `Frame.of` knows from it whether it has any to place. */
  static written = 0;

  constructor(readonly text: string) {}

  toJSON(): string {
    RawJson.written++;
    return MARK + this.text;
  }

  /** `text`, JSON.stringify's output, with each RawJson it serialized written as its own text. */
  static place(text: string): string {
    return text.replace(PLACED, (_, escaped: string) => JSON.parse(`"${escaped}"`) as string);
  }
}

// What a RawJson serializes to, then replaced: a string no client can make (a random part), which
// JSON.stringify writes `"\u0000mcp-replay-raw-<hex>:<text, escaped>"`.
const NONCE = randomBytes(8).toString('hex');
const MARK = `\u0000mcp-replay-raw-${NONCE}:`;
const PLACED = new RegExp(`"\\\\u0000mcp-replay-raw-${NONCE}:((?:[^"\\\\]|\\\\.)*)"`, 'g');

// jsonc-parser's SyntaxKind (a const enum, which isolatedModules cannot read).
const OPEN_BRACE = 1;
const CLOSE_BRACE = 2;
const OPEN_BRACKET = 3;
const CLOSE_BRACKET = 4;
const COMMA = 5;
const COLON = 6;
const STRING = 10;
const NUMBER = 11;
const EOF = 17;

/**
 * The JSON token of a message's numeric `id` in `text`, a line JSON.parse read: of the
 * top-level object (`member` -1) or of a batch's member `member` (its index in the array).
 * Undefined if that message is not an object or its id is not a number. The last `id` of the
 * object wins, as in JSON.parse (escaped keys are read unescaped, as it reads them). A scan of
 * tokens, not a parse: no tree is built, and no nesting is too deep for it.
 */
export function idToken(text: string, member: number): string | undefined {
  const s = createScanner(text, true);
  const own = member < 0 ? 1 : 2; // the depth of the message's own members
  let depth = 0;
  let index = -1;
  let inMessage = false;
  /** The previous token at the message's own depth, and the key it is reading. */
  let prev = 0;
  let key: string | undefined;
  let token: string | undefined;
  for (let k = s.scan(); k !== EOF; k = s.scan()) {
    const level = depth; // containers open before this token
    if (k === OPEN_BRACE || k === OPEN_BRACKET) depth++;
    else if (k === CLOSE_BRACE || k === CLOSE_BRACKET) depth--;
    if (level === 0) {
      // The line's value: the message, or a batch.
      if (k !== (member < 0 ? OPEN_BRACE : OPEN_BRACKET)) return undefined;
      inMessage = k === OPEN_BRACE;
      prev = k;
    } else if (own === 2 && level === 1) {
      // Between a batch's members: one starts.
      if (k === COMMA || k === CLOSE_BRACKET) continue;
      if (++index > member) return token;
      if (index === member) {
        if (k !== OPEN_BRACE) return undefined;
        inMessage = true;
        prev = k;
      }
    } else if (inMessage && level === own) {
      if (k === CLOSE_BRACE) return token; // the message's end
      if (prev === OPEN_BRACE || prev === COMMA) key = k === STRING ? s.getTokenValue() : undefined;
      else if (prev === COLON && key === 'id')
        token = k === NUMBER ? text.slice(s.getTokenOffset(), s.getTokenOffset() + s.getTokenLength()) : undefined;
      prev = k;
    }
  }
  return token;
}

/**
 * The text of each member of the JSON array `text` (a batch line JSON.parse read), as written:
 * what the gateway forwards of a batch it thinned, so that the members it lets through reach the
 * server byte for byte (re-serialized, `1.0` would be `1`, a number beyond 2^53 rounded, `\u`
 * escapes written out). Undefined if `text` is not an array. A scan of tokens: no depth limit.
 */
export function memberTexts(text: string): string[] | undefined {
  const s = createScanner(text, true);
  const members: string[] = [];
  let depth = 0;
  let start = -1;
  let end = -1;
  for (let k = s.scan(); k !== EOF; k = s.scan()) {
    const offset = s.getTokenOffset();
    if (depth === 0 && k !== OPEN_BRACKET) return undefined;
    const level = depth;
    if (k === OPEN_BRACE || k === OPEN_BRACKET) depth++;
    else if (k === CLOSE_BRACE || k === CLOSE_BRACKET) depth--;
    if (level !== 1) {
      if (level > 1) end = offset + s.getTokenLength();
      continue;
    }
    // Inside the batch, between its members: a comma or the batch's end closes one.
    if (k === COMMA || k === CLOSE_BRACKET) {
      if (start !== -1) members.push(text.slice(start, end));
      start = -1;
      if (k === CLOSE_BRACKET) return members;
    } else {
      if (start === -1) start = offset;
      end = offset + s.getTokenLength();
    }
  }
  return undefined;
}
