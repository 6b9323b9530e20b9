/**
 * What the generators learn from schemas: the literal text regex patterns start with (`^/srv/`
 * → `/srv/`), the string constants they name and the numeric bounds they set. Adversarial values
 * are built around them.
 */
export interface SchemaHints {
  /** Literal prefixes of `pattern`s (anchored or not), e.g. `/srv/`. */
  literals: Set<string>;
  /** String `const`/`enum` values. */
  constants: Set<string>;
  /** `minimum`, `maximum`, `exclusiveMinimum`, `exclusiveMaximum` and numeric `const`/`enum` values. */
  numbers: Set<number>;
}

export function emptyHints(): SchemaHints {
  return { literals: new Set(), constants: new Set(), numbers: new Set() };
}

/** Walks any JSON value (a policy, a schema) and collects hints from every `pattern`, `const`, `enum` and numeric bound. */
export function collectHints(value: unknown, into: SchemaHints = emptyHints(), depth = 0): SchemaHints {
  if (depth > 64 || value === null || typeof value !== 'object') return into;
  if (Array.isArray(value)) {
    for (const v of value) collectHints(v, into, depth + 1);
    return into;
  }
  const obj = value as Record<string, unknown>;
  if (typeof obj.pattern === 'string') {
    const lit = literalOf(obj.pattern);
    if (lit.length > 0) into.literals.add(lit);
  }
  if (typeof obj.const === 'string') into.constants.add(obj.const);
  if (Array.isArray(obj.enum)) for (const e of obj.enum) if (typeof e === 'string') into.constants.add(e);
  for (const v of [obj.minimum, obj.maximum, obj.exclusiveMinimum, obj.exclusiveMaximum, obj.const])
    if (typeof v === 'number' && Number.isFinite(v)) into.numbers.add(v);
  if (Array.isArray(obj.enum))
    for (const e of obj.enum) if (typeof e === 'number' && Number.isFinite(e)) into.numbers.add(e);
  for (const v of Object.values(obj)) collectHints(v, into, depth + 1);
  return into;
}

const META = new Set(['.', '[', ']', '(', ')', '{', '}', '*', '+', '?', '|', '$', '^']);

/** The literal text a regex source starts with (after `^`), up to its first metacharacter. */
export function literalOf(source: string): string {
  let i = source.startsWith('^') ? 1 : 0;
  let out = '';
  while (i < source.length) {
    const ch = source[i]!;
    if (ch === '\\') {
      const next = source[i + 1];
      if (next === undefined || /[A-Za-z0-9]/.test(next)) break; // \d, \w, \b…: a class, not a literal
      out += next;
      i += 2;
      continue;
    }
    if (META.has(ch)) {
      // A quantifier applies to the last literal character: it is not certain, drop it.
      if ((ch === '*' || ch === '?' || ch === '{') && out.length > 0) out = out.slice(0, -1);
      break;
    }
    out += ch;
    i++;
  }
  return out;
}
