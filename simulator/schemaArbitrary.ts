import fc, { type Arbitrary } from 'fast-check';

export interface SchemaArbitraryOptions {
  /** Strings to mix into every string position (and wrong-type/missing-field cases); none = schema-only. */
  adversarial?: Arbitrary<string> | undefined;
  /** Numbers to mix into every number and integer position (bounds and their neighbours); none = schema-only. */
  adversarialNumbers?: Arbitrary<number> | undefined;
  /** Max nesting generated (deeper schemas get `{}` / `[]`). */
  maxDepth?: number;
}

type Schema = Record<string, unknown>;

const MAX_EXTRA_ITEMS = 4;
const MAX_EXTRA_CHARS = 16;
/**
 * A schema's minimums are drawn up to these (a server's `tools/list` may ask `minLength: 1e8`:
 * drawing that would take minutes or all memory). Shorter values fail the schema: the engine
 * then sees too-short arguments, which is adversarial input too.
 */
const MAX_MIN_ITEMS = 64;
const MAX_MIN_CHARS = 4096;

/**
 * A fast-check arbitrary for values of a JSON Schema (draft 2020-12, the parts tool input
 * schemas use): type (or a list), const, enum, properties/required, items/minItems/maxItems,
 * string minLength/maxLength/pattern/format, number bounds and multipleOf, anyOf/oneOf, allOf
 * (object schemas merged), local `$ref`. Keywords it does not know are ignored: values are a
 * best effort toward the schema, and with `adversarial` deliberately also outside it.
 */
export function schemaArbitrary(schema: unknown, options: SchemaArbitraryOptions = {}): Arbitrary<unknown> {
  const maxDepth = options.maxDepth ?? 4;
  const adv = options.adversarial;
  const advNumbers = options.adversarialNumbers;
  const root = schema;

  const build = (s: unknown, depth: number): Arbitrary<unknown> => {
    if (s === false) return fc.constant(null);
    if (s === true || s === undefined || s === null || typeof s !== 'object') return anyValue(depth);
    const node = s as Schema;
    if (typeof node.$ref === 'string') {
      const target = resolveRef(root, node.$ref);
      if (target === undefined || depth >= maxDepth) return anyValue(maxDepth);
      return build(target, depth + 1);
    }
    if ('const' in node) return fc.constant(node.const);
    if (Array.isArray(node.enum) && node.enum.length > 0) return mixStrings(fc.constantFrom(...node.enum));
    const branches = (node.anyOf ?? node.oneOf) as unknown[] | undefined;
    if (Array.isArray(branches) && branches.length > 0) {
      const rest = { ...node };
      delete rest.anyOf;
      delete rest.oneOf;
      return fc.oneof(...branches.map((b) => build(merge(rest, b), depth)));
    }
    if (Array.isArray(node.allOf) && node.allOf.length > 0) {
      let merged: Schema = { ...node };
      delete merged.allOf;
      for (const part of node.allOf) merged = merge(merged, part);
      return build(merged, depth);
    }
    const types = typesOf(node);
    if (types.length === 0) return anyValue(depth);
    const arbs = types.map((t) => typed(t, node, depth));
    return arbs.length === 1 ? arbs[0]! : fc.oneof(...arbs);
  };

  const typed = (type: string, node: Schema, depth: number): Arbitrary<unknown> => {
    switch (type) {
      case 'object':
        return object(node, depth);
      case 'array': {
        if (depth >= maxDepth) return fc.constant([]);
        const minLength = Math.min(nonNeg(node.minItems) ?? 0, MAX_MIN_ITEMS);
        const maxLength = Math.max(
          minLength,
          Math.min(nonNeg(node.maxItems) ?? minLength + MAX_EXTRA_ITEMS, minLength + MAX_EXTRA_ITEMS),
        );
        const items = fc.array(build(node.items, depth + 1), { minLength, maxLength });
        return items;
      }
      case 'string':
        return mixStrings(string(node));
      case 'integer':
        return mixNumbers(integer(node));
      case 'number':
        return mixNumbers(number(node));
      case 'boolean':
        return fc.boolean();
      case 'null':
        return fc.constant(null);
      default:
        return anyValue(depth);
    }
  };

  const object = (node: Schema, depth: number): Arbitrary<unknown> => {
    if (depth >= maxDepth) return fc.constant({});
    const props = (node.properties && typeof node.properties === 'object' ? node.properties : {}) as Schema;
    const required = new Set(Array.isArray(node.required) ? node.required.filter((k) => typeof k === 'string') : []);
    const model: Record<string, Arbitrary<unknown>> = {};
    for (const [k, v] of Object.entries(props)) model[k] = build(v, depth + 1);
    // Required keys without a property schema still need a value.
    for (const k of required) model[k] ??= anyValue(depth + 1);
    const keys = Object.keys(model);
    const valid = fc.record(model, { requiredKeys: keys.filter((k) => required.has(k)) });
    if (!adv) return valid;
    // Outside the schema on purpose: every field missing, a field of the wrong type, an extra field.
    const wrongType = keys.length === 0 ? fc.constant({}) : fc.constantFrom(...keys).map((k) => ({ [k]: null }));
    return fc.oneof(
      { arbitrary: valid, weight: 8 },
      { arbitrary: fc.constant({}), weight: 1 },
      { arbitrary: wrongType, weight: 1 },
      // The extra field is an option: a counterexample it does not matter to shrinks it away.
      {
        arbitrary: fc
          .tuple(valid, fc.option(adv, { nil: undefined, freq: 100 }))
          .map(([v, a]) => (a === undefined ? v : { ...(v as object), extra: a })),
        weight: 1,
      },
    );
  };

  /** Schema values mixed with adversarial strings (2 in 5), where the schema allows a string or an enum. */
  const mixStrings = (normal: Arbitrary<unknown>): Arbitrary<unknown> => {
    if (!adv) return normal;
    return fc.oneof({ arbitrary: normal, weight: 3 }, { arbitrary: adv, weight: 2 });
  };

  /** Schema numbers mixed with adversarial ones (1 in 4): bounds, one past them, fractions. */
  const mixNumbers = (normal: Arbitrary<number>): Arbitrary<unknown> => {
    if (!advNumbers) return normal;
    return fc.oneof({ arbitrary: normal, weight: 3 }, { arbitrary: advNumbers, weight: 1 });
  };

  const anyValue = (depth: number): Arbitrary<unknown> => {
    const leaf = fc.oneof(
      adv ? fc.oneof(fc.string({ maxLength: MAX_EXTRA_CHARS }), adv) : fc.string({ maxLength: MAX_EXTRA_CHARS }),
      fc.integer(),
      fc.boolean(),
      fc.constant(null),
    );
    if (depth >= maxDepth) return leaf;
    return fc.oneof(
      { arbitrary: leaf, weight: 4 },
      { arbitrary: fc.dictionary(fc.string({ maxLength: 8 }), leaf, { maxKeys: 3 }), weight: 1 },
    );
  };

  return build(schema, 0);
}

function string(node: Schema): Arbitrary<string> {
  const minLength = Math.min(nonNeg(node.minLength) ?? 0, MAX_MIN_CHARS);
  const maxLength = Math.max(minLength, nonNeg(node.maxLength) ?? minLength + MAX_EXTRA_CHARS);
  if (typeof node.pattern === 'string' && generable(node.pattern)) {
    try {
      return fc.stringMatching(new RegExp(node.pattern, 'u'));
    } catch {
      // A pattern fast-check cannot generate from: fall through to plain strings.
    }
  }
  const fmt = typeof node.format === 'string' ? format(node.format) : undefined;
  if (fmt) return fmt;
  return fc.string({ minLength, maxLength: Math.min(maxLength, minLength + MAX_EXTRA_CHARS) });
}

/**
 * Whether drawing from a pattern ends, and soon (a server's `tools/list` may hold any): not one
 * that matches nothing through an empty class (`[^\s\S]`: fast-check never returns), nor one
 * that repeats more than 1,000 times (`a{100000}`: a value of 100 KB per draw). Such a pattern's
 * strings are drawn plainly (they fail the schema: adversarial input too).
 */
function generable(pattern: string): boolean {
  if (/\[\]|\[\^(\\s\\S|\\S\\s|\\d\\D|\\D\\d|\\w\\W|\\W\\w)\]|\(\?!\)/.test(pattern)) return false;
  for (const m of pattern.matchAll(/\{(\d+)(?:,(\d*))?\}/g))
    if (Number(m[1]) > 1000 || Number(m[2] || 0) > 1000) return false;
  return true;
}

const EPOCH_2000 = Date.UTC(2000, 0, 1);
const EPOCH_2100 = Date.UTC(2100, 0, 1);

function format(name: string): Arbitrary<string> | undefined {
  switch (name) {
    case 'date-time':
      return fc.integer({ min: EPOCH_2000, max: EPOCH_2100 }).map((ms) => new Date(ms).toISOString());
    case 'date':
      return fc.integer({ min: EPOCH_2000, max: EPOCH_2100 }).map((ms) => new Date(ms).toISOString().slice(0, 10));
    case 'email':
      return fc.emailAddress();
    case 'uri':
    case 'url':
      // Not fc.webUrl(): building its path arbitrary takes seconds.
      return fc
        .tuple(
          fc.constantFrom('http', 'https'),
          fc.domain(),
          fc.array(fc.stringMatching(/^[a-z0-9_-]{1,8}$/), { maxLength: 3 }),
        )
        .map(([scheme, host, segments]) => `${scheme}://${host}/${segments.join('/')}`);
    case 'uuid':
      return fc.uuid();
    case 'ipv4':
      return fc.ipV4();
    case 'ipv6':
      return fc.ipV6();
    case 'hostname':
      return fc.domain();
    default:
      return undefined;
  }
}

function integer(node: Schema): Arbitrary<number> {
  let min = num(node.minimum) ?? -1_000_000;
  let max = num(node.maximum) ?? 1_000_000;
  const exMin = num(node.exclusiveMinimum);
  const exMax = num(node.exclusiveMaximum);
  if (exMin !== undefined) min = Math.max(min, Math.floor(exMin) + 1);
  if (exMax !== undefined) max = Math.min(max, Math.ceil(exMax) - 1);
  min = Math.ceil(min);
  max = Math.floor(max);
  if (min > max) return fc.constant(min);
  // fc.integer draws safe integers only: a range wholly past 2^53 (a 64-bit id) is drawn at its
  // bound nearest zero, a range that reaches past it is cut at 2^53.
  if (min > Number.MAX_SAFE_INTEGER) return fc.constant(min);
  if (max < Number.MIN_SAFE_INTEGER) return fc.constant(max);
  min = Math.max(min, Number.MIN_SAFE_INTEGER);
  max = Math.min(max, Number.MAX_SAFE_INTEGER);
  const step = num(node.multipleOf);
  if (step !== undefined && step > 0 && Number.isInteger(step)) {
    const lo = Math.ceil(min / step);
    const hi = Math.floor(max / step);
    if (lo <= hi) return fc.integer({ min: lo, max: hi }).map((k) => k * step);
  }
  return fc.integer({ min, max });
}

function number(node: Schema): Arbitrary<number> {
  const min = num(node.minimum) ?? num(node.exclusiveMinimum) ?? -1e6;
  const max = num(node.maximum) ?? num(node.exclusiveMaximum) ?? 1e6;
  if (min > max) return fc.constant(min);
  const exMin = num(node.exclusiveMinimum) !== undefined;
  const exMax = num(node.exclusiveMaximum) !== undefined;
  if ((exMin || exMax) && min >= max) return fc.constant(min); // an empty range: still draw something
  try {
    return fc.double({ min, max, minExcluded: exMin, maxExcluded: exMax, noNaN: true, noDefaultInfinity: true });
  } catch {
    // No double strictly between the bounds (1 < x < 1.0000000000000002): still draw something.
    return fc.constant(min);
  }
}

function typesOf(node: Schema): string[] {
  if (typeof node.type === 'string') return [node.type];
  if (Array.isArray(node.type)) return node.type.filter((t): t is string => typeof t === 'string');
  if (node.properties !== undefined || node.required !== undefined) return ['object'];
  if (node.items !== undefined) return ['array'];
  if (node.pattern !== undefined || node.minLength !== undefined || node.format !== undefined) return ['string'];
  if (node.minimum !== undefined || node.maximum !== undefined) return ['number'];
  return [];
}

/** Shallow merge of two schemas; `properties` and `required` are combined. */
function merge(a: Schema, b: unknown): Schema {
  if (b === null || typeof b !== 'object') return a;
  const B = b as Schema;
  const out: Schema = { ...a, ...B };
  if (a.properties || B.properties) out.properties = { ...(a.properties as Schema), ...(B.properties as Schema) };
  if (Array.isArray(a.required) || Array.isArray(B.required))
    out.required = [...((a.required as unknown[]) ?? []), ...((B.required as unknown[]) ?? [])];
  return out;
}

function resolveRef(root: unknown, ref: string): unknown {
  if (!ref.startsWith('#')) return undefined;
  let node: unknown = root;
  for (const raw of ref.slice(1).split('/').slice(1)) {
    const key = decodeURIComponent(raw).replace(/~1/g, '/').replace(/~0/g, '~');
    if (node === null || typeof node !== 'object') return undefined;
    node = (node as Schema)[key];
  }
  return node;
}

function num(v: unknown): number | undefined {
  return typeof v === 'number' && Number.isFinite(v) ? v : undefined;
}

function nonNeg(v: unknown): number | undefined {
  return typeof v === 'number' && Number.isInteger(v) && v >= 0 ? v : undefined;
}
