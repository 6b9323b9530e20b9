import { isUtf8 } from 'node:buffer';
import { findNodeAtLocation, parseTree, type Node, type ParseError } from 'jsonc-parser';

export interface Location {
  line: number;
  column: number;
}

/** Line and column (1-based) of a character offset in `text`. */
export function locate(text: string, offset: number): Location {
  let line = 1;
  let lineStart = 0;
  for (let i = 0; i < offset && i < text.length; i++) {
    if (text.charCodeAt(i) === 10) {
      line++;
      lineStart = i + 1;
    }
  }
  return { line, column: offset - lineStart + 1 };
}

/**
 * Keys written twice in one object (JSON.parse keeps the last silently; in a policy that can turn
 * a deny into an allow): the JSON path of each repeat and where it stands.
 */
export function duplicateKeys(
  text: string,
  root: Node | undefined = parseTree(text),
): { path: PropertyKey[]; location: Location }[] {
  const found: { path: PropertyKey[]; location: Location }[] = [];
  const walk = (node: Node | undefined, path: PropertyKey[]) => {
    if (!node?.children) return;
    if (node.type === 'array') {
      node.children.forEach((child, i) => walk(child, [...path, i]));
      return;
    }
    if (node.type !== 'object') return;
    const seen = new Set<string>();
    for (const prop of node.children) {
      const key = prop.children?.[0]?.value as string | undefined;
      if (key === undefined) continue;
      if (seen.has(key)) found.push({ path: [...path, key], location: locate(text, prop.offset) });
      seen.add(key);
      walk(prop.children?.[1], [...path, key]);
    }
  };
  walk(root, []);
  return found;
}

/**
 * Whether a valid JSON text writes some key twice in one object, cheaply: every key of the text
 * is followed by a `:` outside strings, and every key kept by JSON.parse is in `parsed`; a key
 * written twice is kept once, so the counts differ. (`duplicateKeys` then says where.)
 */
export function hasDuplicateKeys(text: string, parsed: unknown, keys = keyCensus(parsed).keys): boolean {
  // Most messages hold no `:` in a string: then there are as many colons in the whole text as
  // keys, found by the native search, and no key is written twice. Else the exact count below.
  let all = 0;
  for (let i = text.indexOf(':'); i !== -1 && all <= keys; i = text.indexOf(':', i + 1)) all++;
  if (all === keys) return false;
  let colons = 0;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (c === 58) colons++;
    else if (c === 34) {
      // Skip the string: up to the next quote that no backslash escapes.
      for (i++; i < text.length; i++) {
        const d = text.charCodeAt(i);
        if (d === 92) i++;
        else if (d === 34) break;
      }
    }
  }
  return colons !== keys;
}

/**
 * The keys of every object in a parsed value, and whether two keys of one object are equal but
 * for case (`name`, `Name`; `ſ` folds to `s` and `K` to `k`, as Go's `encoding/json` matches
 * keys to fields). A loop, not recursion: a client's call may nest deeper than the stack.
 */
export function keyCensus(root: unknown): { keys: number; caseVariants: boolean } {
  let keys = 0;
  let caseVariants = false;
  const folded = new Set<string>();
  const stack: unknown[] = [root];
  while (stack.length > 0) {
    const v = stack.pop();
    if (typeof v !== 'object' || v === null) continue;
    if (Array.isArray(v)) {
      for (const x of v) if (typeof x === 'object' && x !== null) stack.push(x);
      continue;
    }
    let n = 0;
    folded.clear();
    for (const k in v) {
      n++;
      // Upper then lower case: `ſ` → `S` → `s`, `K` → `k`.
      folded.add(k.toUpperCase().toLowerCase());
      const x = (v as Record<string, unknown>)[k];
      if (typeof x === 'object' && x !== null) stack.push(x);
    }
    keys += n;
    if (folded.size !== n) caseVariants = true;
  }
  return { keys, caseVariants };
}

/** Finds where a JSON path points in the source text: the deepest existing node on the path. */
export class SourceMap {
  readonly root: Node | undefined;
  private readonly text: string;
  constructor(text: string) {
    // Positions as parseJson gives them: after a byte order mark.
    this.text = withoutBom(text);
    this.root = parseTree(this.text);
  }

  at(path: readonly PropertyKey[]): Location | undefined {
    if (!this.root) return undefined;
    for (let n = path.length; n >= 0; n--) {
      const segs = path.slice(0, n).map((p) => (typeof p === 'number' ? p : String(p)));
      const node = findNodeAtLocation(this.root, segs);
      if (node) {
        // For a property value, point at its key: that is where a reader looks.
        const target = node.parent?.type === 'property' ? node.parent : node;
        return locate(this.text, target.offset);
      }
    }
    return undefined;
  }
}

/**
 * Parses strict JSON; on a syntax error returns its message (one line) and position. A byte
 * order mark before the JSON (what some editors save) is allowed; positions are after it, as an
 * editor shows them.
 */
export function parseJson(
  text: string,
): { ok: true; value: unknown } | { ok: false; message: string; location: Location } {
  const body = withoutBom(text);
  try {
    return { ok: true, value: JSON.parse(body) as unknown };
  } catch (err) {
    const message = (err as Error).message;
    const pos = /at position (\d+)/.exec(message);
    const lc = /line (\d+) column (\d+)/.exec(message);
    let location: Location;
    if (lc) location = { line: Number(lc[1]), column: Number(lc[2]) };
    else location = locate(body, pos ? Number(pos[1]) : (firstSyntaxError(body) ?? body.length));
    const clean = message
      .replace(/\s*\(line \d+ column \d+\)/, '')
      .replace(/ (in JSON )?at position \d+.*$/s, '')
      // V8's `Unexpected token 'h', "hello\nworld" is not valid JSON` quotes the text: not on one line.
      .replace(/, (\.\.\.)?".*"(\.\.\.)? is not valid JSON$/s, '')
      .replace(/^JSON\.parse: /, '');
    return { ok: false, message: `invalid JSON: ${clean}`, location };
  }
}

/** The text without a byte order mark before it. */
export function withoutBom(text: string): string {
  return text.charCodeAt(0) === 0xfeff ? text.slice(1) : text;
}

/** Where the first syntax error of a text that is not JSON is (where V8's message does not say). */
function firstSyntaxError(text: string): number | undefined {
  const errors: ParseError[] = [];
  parseTree(text, errors, { disallowComments: true, allowTrailingComma: false });
  return errors[0]?.offset;
}

/**
 * A file's bytes as UTF-8 text, or where they are not UTF-8. Read leniently, a Latin-1 `é` in a
 * policy becomes U+FFFD: a tool key or pattern silently other than the one written.
 */
export function utf8Text(
  bytes: Uint8Array,
): { ok: true; text: string } | { ok: false; message: string; location: Location } {
  if (isUtf8(bytes))
    return { ok: true, text: Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString('utf8') };
  const hint = 'save the file as UTF-8';
  if ((bytes[0] === 0xff && bytes[1] === 0xfe) || (bytes[0] === 0xfe && bytes[1] === 0xff)) {
    return {
      ok: false,
      message: `not UTF-8 text (UTF-16, by its byte order mark); ${hint}`,
      location: { line: 1, column: 1 },
    };
  }
  const at = firstInvalidUtf8(bytes);
  const before = withoutBom(new TextDecoder().decode(bytes.subarray(0, at)));
  const byte = bytes[at]!.toString(16).toUpperCase().padStart(2, '0');
  return { ok: false, message: `not UTF-8 text (byte 0x${byte}); ${hint}`, location: locate(before, before.length) };
}

/** Offset of the first byte that starts no valid UTF-8 sequence (the bytes are known not to be UTF-8). */
function firstInvalidUtf8(bytes: Uint8Array): number {
  const fatal = new TextDecoder('utf-8', { fatal: true });
  for (let i = 0; i < bytes.length; ) {
    const c = bytes[i]!;
    const n = c < 0x80 ? 1 : c >= 0xc2 && c <= 0xdf ? 2 : c >= 0xe0 && c <= 0xef ? 3 : c >= 0xf0 && c <= 0xf4 ? 4 : 0;
    if (n === 0 || i + n > bytes.length) return i;
    if (n > 1) {
      try {
        fatal.decode(bytes.subarray(i, i + n)); // continuation bytes, overlong forms, surrogates
      } catch {
        return i;
      }
    }
    i += n;
  }
  return bytes.length;
}
