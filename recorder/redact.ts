import { getNodeValue, parseTree, type Node } from 'jsonc-parser';
import { hasDuplicateKeys } from '../engine/sourceLocation.js';

/** Keys whose values are secrets (SPEC §4). */
export const SECRET_KEY = /(authorization|token|secret|password|api[-_]?key|cookie)/i;

/**
 * MCP's own fields that match SECRET_KEY but hold no secret: `progressToken` is a correlation
 * id the client picks (redacting it would unlink progress notifications from their request),
 * `maxTokens` a sampling budget. Named with `--redact` (an explicit ask), they are redacted too.
 */
const PROTOCOL_FIELDS = new Set(['progressToken', 'maxTokens']);

export const REDACTED = '[REDACTED]';

/** A JSON-RPC message's own members: never redacted (`id` pairs an answer with its request). */
const ENVELOPE = new Set(['jsonrpc', 'id', 'method']);

/** Nesting below which a message that may hold secrets is stored as `[REDACTED]`, not walked. */
const MAX_DEPTH = 1000;

/**
 * Members that hold a JSON Schema (a tool's `inputSchema` / `outputSchema` in `tools/list`, an
 * elicitation's `requestedSchema`). There, the keys of `properties` are argument names, not
 * values: a `token` or `api_key` argument keeps its schema (replay and `simulate --from` need
 * it), and only what could hold a secret value is redacted (see Redactor.schema).
 */
const SCHEMA_HOLDERS = new Set(['inputSchema', 'outputSchema', 'requestedSchema']);

/** Schema keywords whose members are named subschemas. */
const NAMED_SUBSCHEMAS = new Set(['properties', 'patternProperties', '$defs', 'definitions', 'dependentSchemas']);

/** Schema keywords holding one subschema, or an array of them. */
const SUBSCHEMAS = new Set([
  'items',
  'additionalItems',
  'additionalProperties',
  'unevaluatedItems',
  'unevaluatedProperties',
  'contains',
  'propertyNames',
  'not',
  'if',
  'then',
  'else',
  'allOf',
  'anyOf',
  'oneOf',
  'prefixItems',
]);

const JSON_TYPES = new Set(['string', 'number', 'integer', 'boolean', 'object', 'array', 'null']);
const isNumber = (v: unknown) => typeof v === 'number';
const isBoolean = (v: unknown) => typeof v === 'boolean';
const isTypeName = (v: unknown) => typeof v === 'string' && JSON_TYPES.has(v);
const isName = (v: unknown) => typeof v === 'string' && v.length <= 200;

/**
 * Schema keywords that say what shape a value has, with the values that can only do that: kept
 * even in the schema of a secret-named argument. Everything else there (`default`, `const`,
 * `enum`, `examples`, `description`, unknown keys, a keyword with an odd value) may hold the
 * secret itself, or text about it: redacted.
 */
const SHAPE_KEYWORDS = new Map<string, (v: unknown) => boolean>([
  ['type', (v) => isTypeName(v) || (Array.isArray(v) && v.every(isTypeName))],
  ['required', (v) => Array.isArray(v) && v.every(isName)],
  ['format', isName],
  ['contentEncoding', isName],
  ['contentMediaType', isName],
  ['$ref', isName],
  ['$schema', isName],
  ...['minLength', 'maxLength', 'minimum', 'maximum', 'exclusiveMinimum', 'exclusiveMaximum', 'multipleOf']
    .concat(['minItems', 'maxItems', 'minProperties', 'maxProperties'])
    .map((k): [string, (v: unknown) => boolean] => [
      k,
      (v) => isNumber(v) || (k.startsWith('exclusive') && isBoolean(v)),
    ]),
  ['uniqueItems', isBoolean],
  ['nullable', isBoolean],
]);

/** SECRET_KEY, to find every occurrence in a text. */
const SECRET_NAME = new RegExp(SECRET_KEY.source, 'gi');

/** A character of a key's word: a letter, a digit, `_` or `-`. */
const isWordChar = (c: number) =>
  (c >= 97 && c <= 122) || (c >= 65 && c <= 90) || (c >= 48 && c <= 57) || c === 95 || c === 45;

const QUOTE = 34;

/** The whole word around text[start, end) (not before `from`): as far as word characters go. */
function wordBounds(text: string, start: number, end: number, from = 0): [number, number] {
  while (start > from && isWordChar(text.charCodeAt(start - 1))) start--;
  while (end < text.length && isWordChar(text.charCodeAt(end))) end++;
  return [start, end];
}

/**
 * Whether the secret name at text[start, end) is only a protocol field's key: the whole quoted
 * string `"progressToken"` or `"maxTokens"` (not `"x.progressToken"`, which redaction would take).
 */
function protocolKey(text: string, start: number, end: number): boolean {
  const [from, to] = wordBounds(text, start, end);
  return (
    text.charCodeAt(from - 1) === QUOTE && text.charCodeAt(to) === QUOTE && PROTOCOL_FIELDS.has(text.slice(from, to))
  );
}

/**
 * After a secret key in free text: the separator, then the value (`Bearer x`, `"x \"y\""`,
 * `'x y'`, `x`; an object or array is taken whole, see jsonValueEnd).
 */
const SEPARATOR_VALUE =
  /(\s*[:=]\s*)((?:Bearer|Basic|Token)\s+[^\s",;]+|"(?:[^"\\]|\\.)*"|'(?:[^'\\]|\\.)*'|[^\s",;]+)/iy;

/** After `--token` / `-p` in a command written as one string: a space, then the value. */
const SPACE_VALUE = /(\s+)("(?:[^"\\]|\\.)*"|'(?:[^'\\]|\\.)*'|[^\s"';-][^\s"';]*)/y;

/** Header-style keys whose value runs to the end of the line (`Cookie: a=1; b=2`, `Authorization: Digest …`). */
const WHOLE_LINE_KEY = /(^|-)(cookie|authorization)$/i;

/** Where the JSON object or array starting at text[from] ends (one past it), or -1 if it does not in `text`. */
function jsonValueEnd(text: string, from: number): number {
  let depth = 0;
  for (let i = from; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (c === QUOTE) {
      for (i++; i < text.length && text.charCodeAt(i) !== QUOTE; i++) if (text.charCodeAt(i) === 92) i++;
    } else if (c === 123 || c === 91) depth++;
    else if ((c === 125 || c === 93) && --depth === 0) return i + 1;
  }
  return -1;
}

/** The end of the line that text[from] is on. */
function lineEnd(text: string, from: number): number {
  const n = text.indexOf('\n', from);
  const end = n === -1 ? text.length : n;
  return end > from && text.charCodeAt(end - 1) === 13 ? end - 1 : end;
}

/** Whether `text` is `message` as JSON.stringify writes it (false when too deep to write). */
function writtenAsStringify(text: string, message: unknown): boolean {
  try {
    return JSON.stringify(message) === text;
  } catch {
    return false;
  }
}

/** Where a value stands in a line and what replaces it: offset, length, text. */
type Edit = [number, number, string];

const isObject = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);

/** What a value in free text becomes: quoted as it was (`{…}` / `[…]` as a JSON string). */
const quoted = (value: string) =>
  value.startsWith("'") ? `'${REDACTED}'` : /^["{[]/.test(value) ? `"${REDACTED}"` : REDACTED;

export interface RedactOptions {
  /** `--no-redact` turns redaction off. */
  enabled: boolean;
  /** `--redact KEY`: more key names (matched whole, case-insensitively). */
  extraKeys?: readonly string[];
}

/**
 * Replaces the values under secret keys anywhere in a message but its envelope (`jsonrpc`, `id`,
 * `method`), inside string values that are themselves JSON (a tool result's text), and in
 * `key: value` pairs written in string values. The keys stay, so the replayable shape of
 * arguments is kept.
 */
export class Redactor {
  private readonly extra: ReadonlySet<string>;
  /** The names `key: value` pairs in text are looked for by: SECRET_KEY's, and the `--redact` keys. */
  private readonly names: RegExp;

  constructor(private readonly options: RedactOptions) {
    this.extra = new Set((options.extraKeys ?? []).filter((k) => k !== '').map((k) => k.toLowerCase()));
    const extra = [...this.extra].map((k) => k.replace(/[.*+?^${}()|[\]\\]/g, '\\$&'));
    this.names = extra.length === 0 ? SECRET_NAME : new RegExp([SECRET_KEY.source, ...extra].join('|'), 'gi');
  }

  /**
   * Whether `text` is stored as it is, whatever it holds (a message or free text): redaction is
   * off, or no key in it can be secret. Then it need not be parsed to be stored.
   */
  keeps(text: string): boolean {
    return !this.options.enabled || !this.mayContain(text);
  }

  /** A parsed value to store (a call's arguments in the approvals queue), redacted as a message body is. */
  value(v: unknown): unknown {
    return this.options.enabled ? this.walk(v, 0) : v;
  }

  /**
   * The text to store for a message line: `text` itself when nothing needed redacting, else
   * `text` with each redacted value replaced where it stands. The rest of the line stays as it
   * was written (key order, spacing, a bare carriage return, a key written twice, an id beyond
   * 2^53): replay reads the line as the gateway did, and refuses what it refused.
   */
  apply(text: string, message: unknown): string {
    if (this.keeps(text)) return text;
    let redacted: unknown;
    if (Array.isArray(message)) {
      const batch = message.map((m) => this.envelope(m));
      redacted = batch.every((m, i) => m === message[i]) ? message : batch;
    } else redacted = this.envelope(message);
    return this.rewrite(text, message, redacted, 0);
  }

  /** `text` (the JSON text of `message`) as the text of `redacted`, its redaction: edited in place. */
  private rewrite(text: string, message: unknown, redacted: unknown, depth: number): string {
    // A key written twice hides its first value from the parsed message: it is redacted in the text.
    const same = redacted === message;
    if (same && !hasDuplicateKeys(text, message)) return text;
    // Written as JSON.stringify writes (what the SDKs send): the redacted message, serialized so, is the line.
    if (!same && writtenAsStringify(text, message)) return JSON.stringify(redacted);
    const twice = same || hasDuplicateKeys(text, message);
    let root: Node | undefined;
    try {
      root = parseTree(text);
    } catch {
      // Deeper than the parser's stack (JSON.parse's is deeper): the redacted message, re-serialized.
    }
    if (root === undefined) return JSON.stringify(redacted);
    const edits: Edit[] = [];
    this.inPlace(root, message, redacted, twice, depth, edits);
    let out = '';
    let done = 0;
    for (const [offset, length, value] of edits) {
      out += text.slice(done, offset) + value;
      done = offset + length;
    }
    return out + text.slice(done);
  }

  /**
   * The edits that turn `node` (the text of `original`) into the text of `redacted`: a value
   * redaction changed is written anew where it stands; an object or array whose members changed
   * is descended into. With keys written twice (`twice`), the values the parsed message lost
   * (all but the last of a key) are redacted on their own, as their key and a body are.
   */
  private inPlace(
    node: Node,
    original: unknown,
    redacted: unknown,
    twice: boolean,
    depth: number,
    edits: Edit[],
  ): void {
    if (redacted === original && !twice) return;
    const children = node.children ?? [];
    if (node.type === 'array' && Array.isArray(redacted) && Array.isArray(original)) {
      children.forEach((c, i) => this.inPlace(c, original[i], redacted[i], twice, depth + 1, edits));
      return;
    }
    if (node.type === 'object' && isObject(redacted) && isObject(original)) {
      const last = new Map<string, number>();
      children.forEach((p, i) => last.set(String(p.children?.[0]?.value), i));
      children.forEach((p, i) => {
        const key = String(p.children?.[0]?.value);
        const value = p.children?.[1];
        if (value === undefined) return;
        if (last.get(key) === i) {
          this.inPlace(value, original[key], redacted[key], twice, depth + 1, edits);
          return;
        }
        const lost = getNodeValue(value) as unknown;
        const w = this.isSecret(key) ? REDACTED : this.walk(lost, depth + 1);
        this.inPlace(value, lost, w, twice, depth + 1, edits);
      });
      return;
    }
    if (redacted !== original) edits.push([node.offset, node.length, JSON.stringify(redacted)]);
  }

  /**
   * Free text (the server's stderr, a non-JSON line): a JSON object is redacted as a message
   * body is; otherwise `token: x`, `"api_key": "x"`, `password=x`, `Authorization: Bearer x`
   * keep their key and lose their value.
   */
  text(text: string): string {
    return this.options.enabled ? this.string(text, 0) : text;
  }

  /**
   * `key: value` / `key=value` pairs in free text whose key holds a secret name, or is a
   * `--redact` key, lose their value.
   */
  private pairs(text: string): string {
    // `key: value` / `key=value`, the key holding a secret name (quotes allowed). Found from each
    // secret name outward, in one pass: a regex that starts with the key's word tries every
    // position of a long word, and stalled forwarding for seconds on a 100 KB line.
    let out = '';
    let done = 0;
    const names = this.names;
    names.lastIndex = 0;
    for (let m; (m = names.exec(text)) !== null; ) {
      const [start, end] = wordBounds(text, m.index, names.lastIndex, done);
      const q = text.charCodeAt(end);
      const keyEnd = q === QUOTE || q === 39 ? end + 1 : end;
      // `key: value`, `key=value`; in a command written as one string, `--key value`.
      const flag = text.charCodeAt(start) === 45; // the word starts with `-` (a word character too)
      let sep = SEPARATOR_VALUE;
      sep.lastIndex = keyEnd;
      let v = sep.exec(text);
      if (!v && flag) {
        sep = SPACE_VALUE;
        sep.lastIndex = keyEnd;
        v = sep.exec(text);
      }
      if (!v) {
        names.lastIndex = end;
        continue;
      }
      const key = text.slice(start, end);
      // The whole key: a secret name in it, or a `--redact` key (`ssn`, not `ssn_hint`).
      if (this.isSecret(key)) {
        const from = keyEnd + v[1]!.length;
        let to = sep.lastIndex;
        const c = text.charCodeAt(from);
        // An object or array is secret whole; cut short (the text ends first), up to the line's end.
        if (c === 123 || c === 91) to = jsonValueEnd(text, from);
        else if (WHOLE_LINE_KEY.test(key) && v[1]!.includes(':') && !/^(Bearer|Basic|Token)\s|^["']/i.test(v[2]!))
          to = lineEnd(text, from);
        if (to === -1) to = lineEnd(text, from);
        out += `${text.slice(done, keyEnd)}${v[1]}${quoted(text.slice(from, to))}`;
        done = to;
        sep.lastIndex = to;
      }
      names.lastIndex = sep.lastIndex;
    }
    return done === 0 ? text : out + text.slice(done);
  }

  /**
   * A command line (the server's, stored with the session): the value of `--api-key=x`,
   * `--token x`, `PASSWORD=x`-style arguments.
   */
  argv(args: readonly string[]): string[] {
    if (!this.options.enabled) return [...args];
    const out = [...args];
    for (let i = 0; i < out.length; i++) {
      const m = /^(-{0,2})([A-Za-z][\w.-]*)(=(.*))?$/s.exec(out[i]!);
      if (!m || !this.isSecret(m[2]!)) {
        // Free text in an argument: `--header "Authorization: Bearer x"`, a script's `token=x`.
        out[i] = this.text(out[i]!);
        continue;
      }
      if (m[3] !== undefined) out[i] = `${m[1]}${m[2]}=${REDACTED}`;
      else if (m[1] !== '' && i + 1 < out.length && !out[i + 1]!.startsWith('-')) out[++i] = REDACTED;
    }
    return out;
  }

  /**
   * A cheap test on the raw text: could any key in it be secret? Each secret name in it counts,
   * but for the protocol's own fields as whole keys (every call of a client that follows
   * progress carries a `"progressToken"`). `\u` escapes can hide a name: then it may.
   */
  private mayContain(text: string): boolean {
    if (text.includes('\\u')) return true;
    SECRET_NAME.lastIndex = 0;
    for (let m; (m = SECRET_NAME.exec(text)) !== null; ) {
      if (!protocolKey(text, m.index, SECRET_NAME.lastIndex)) return true;
    }
    if (this.extra.size === 0) return false;
    const lower = text.toLowerCase();
    for (const k of this.extra) if (lower.includes(k)) return true;
    return false;
  }

  private isSecret(key: string): boolean {
    return this.extra.has(key.toLowerCase()) || (!PROTOCOL_FIELDS.has(key) && SECRET_KEY.test(key));
  }

  /**
   * A message: every member but the envelope's own (`jsonrpc`, `id`, `method`, kept as they are
   * so the recording still pairs requests and answers) is redacted like any object's: `params`,
   * `result`, `error`, and whatever else a peer puts beside them (`"token": …` at the top level).
   */
  private envelope(message: unknown): unknown {
    if (message === null || typeof message !== 'object' || Array.isArray(message)) return this.walk(message, 0);
    const m = message as Record<string, unknown>;
    let out: Record<string, unknown> | undefined;
    for (const [k, v] of Object.entries(m)) {
      // An envelope member that is not what JSON-RPC allows there (an object `id`) can hold anything.
      if (ENVELOPE.has(k) && (v === null || typeof v !== 'object')) continue;
      const w = this.isSecret(k) ? (v === REDACTED ? v : REDACTED) : this.walk(v, 0);
      if (w !== v) (out ??= { ...m })[k] = w;
    }
    return out ?? message;
  }

  /** Returns `value` itself when nothing under it changed. */
  private walk(value: unknown, depth: number): unknown {
    if (typeof value === 'string') return this.string(value, depth);
    if (value === null || typeof value !== 'object') return value;
    // Deeper than any real message: stored as redacted rather than walked (no stack runs out).
    if (depth > MAX_DEPTH) return REDACTED;
    if (Array.isArray(value)) {
      let out: unknown[] | undefined;
      value.forEach((v, i) => {
        const w = this.walk(v, depth + 1);
        if (w !== v) (out ??= [...value])[i] = w;
      });
      return out ?? value;
    }
    let out: Record<string, unknown> | undefined;
    for (const [k, v] of Object.entries(value)) {
      const w = this.isSecret(k)
        ? v === REDACTED
          ? v
          : REDACTED
        : SCHEMA_HOLDERS.has(k) && isObject(v)
          ? this.schema(v, depth + 1, false)
          : this.walk(v, depth + 1);
      if (w !== v) (out ??= { ...(value as Record<string, unknown>) })[k] = w;
    }
    return out ?? value;
  }

  /**
   * A JSON Schema: argument names (the keys of `properties` and its kin) are not redacted as
   * keys, their schemas are walked as schemas. Values a schema holds (`default`, `examples`,
   * `const`, `enum`, descriptions) are redacted as any value is, and all of them, with any key
   * that is not a shape keyword, in the schema of a secret-named argument (`secret`): the
   * schema of `api_key` keeps `{"type":"string","minLength":20}` and loses its `default`.
   */
  private schema(value: unknown, depth: number, secret: boolean): unknown {
    if (typeof value === 'boolean') return value;
    if (Array.isArray(value)) {
      let out: unknown[] | undefined;
      value.forEach((v, i) => {
        const w = this.schema(v, depth + 1, secret);
        if (w !== v) (out ??= [...value])[i] = w;
      });
      return out ?? value;
    }
    // Not a schema (a string where one should be): a value, redacted as one.
    if (!isObject(value) || depth > MAX_DEPTH) return secret ? REDACTED : this.walk(value, depth);
    let out: Record<string, unknown> | undefined;
    for (const [k, v] of Object.entries(value)) {
      let w: unknown;
      if (NAMED_SUBSCHEMAS.has(k) && isObject(v)) w = this.namedSchemas(v, depth + 1, secret);
      else if (SUBSCHEMAS.has(k)) w = this.schema(v, depth + 1, secret);
      else if (secret) w = SHAPE_KEYWORDS.get(k)?.(v) ? v : REDACTED;
      else w = this.isSecret(k) ? (v === REDACTED ? v : REDACTED) : this.walk(v, depth + 1);
      if (w !== v) (out ??= { ...value })[k] = w;
    }
    return out ?? value;
  }

  /** `properties` (and its kin): each member is an argument's schema, its name no secret by itself. */
  private namedSchemas(value: Record<string, unknown>, depth: number, secret: boolean): Record<string, unknown> {
    let out: Record<string, unknown> | undefined;
    for (const [name, v] of Object.entries(value)) {
      const w = this.schema(v, depth + 1, secret || this.isSecret(name));
      if (w !== v) (out ??= { ...value })[name] = w;
    }
    return out ?? value;
  }

  /**
   * A string value: JSON in it (a tool's text result) is redacted inside, and so are `key: value`
   * pairs in text (the gateway's own question `Allow … {"api_key":"…"}?`, a log line in a result).
   */
  private string(s: string, depth: number): string {
    if (!this.mayContain(s)) return s;
    const nested = depth < 8 ? this.nestedJson(s, depth) : s;
    if (nested !== s) return nested;
    // Several lines that are not one JSON value (a logger's JSON lines, a stderr chunk): each line.
    if (s.includes('\n') && depth < 8) {
      return s
        .split('\n')
        .map((line) => {
          const inner = this.nestedJson(line, depth);
          return inner !== line ? inner : this.pairs(line);
        })
        .join('\n');
    }
    return this.pairs(s);
  }

  /** A string holding a JSON object or array (e.g. a tool's text result) is redacted inside. */
  private nestedJson(s: string, depth: number): string {
    const c = s.trimStart()[0];
    if (c !== '{' && c !== '[') return s;
    let inner: unknown;
    try {
      inner = JSON.parse(s);
    } catch {
      return s;
    }
    return this.rewrite(s, inner, this.walk(inner, depth + 1), depth + 1);
  }
}
