import type { ErrorObject } from 'ajv/dist/2020.js';

/**
 * Where in an `args` schema ajv's refusal points, as path parts below the schema, and what it
 * says there. Ajv names no place for most refusals (an unknown keyword, a bad regular
 * expression, an unresolved `$ref`): in a schema of a hundred properties the author must be told
 * which one. What ajv does not place is found by walking the schema's subschemas.
 */
export interface SchemaWhere {
  path: PropertyKey[];
  message: string;
}

/** Keywords whose value is one subschema, an array of them, or an object of them (2020-12, and draft-07's that ajv reads). */
const ONE = [
  'not',
  'if',
  'then',
  'else',
  'contains',
  'additionalProperties',
  'unevaluatedProperties',
  'unevaluatedItems',
  'propertyNames',
  'contentSchema',
  'additionalItems',
  'items',
];
const MANY = ['allOf', 'anyOf', 'oneOf', 'prefixItems', 'items'];
const NAMED = ['properties', 'patternProperties', '$defs', 'definitions', 'dependentSchemas', 'dependencies'];

/** Every object subschema of `schema` with its path, depth first in the written order. */
function* subschemas(schema: unknown, path: PropertyKey[] = []): Generator<[Record<string, unknown>, PropertyKey[]]> {
  if (typeof schema !== 'object' || schema === null || Array.isArray(schema)) return;
  const node = schema as Record<string, unknown>;
  yield [node, path];
  for (const [key, value] of Object.entries(node)) {
    if (ONE.includes(key)) yield* subschemas(value, [...path, key]);
    if (MANY.includes(key) && Array.isArray(value)) {
      for (const [i, v] of value.entries()) yield* subschemas(v, [...path, key, i]);
    }
    if (NAMED.includes(key) && typeof value === 'object' && value !== null && !Array.isArray(value)) {
      for (const [name, v] of Object.entries(value as Record<string, unknown>))
        yield* subschemas(v, [...path, key, name]);
    }
  }
}

/** The path of the first subschema for which `found` names a key, and that key (none found: the schema's own, []). */
function find(schema: unknown, found: (node: Record<string, unknown>) => PropertyKey[] | undefined): PropertyKey[] {
  for (const [node, path] of subschemas(schema)) {
    const rest = found(node);
    if (rest) return [...path, ...rest];
  }
  return [];
}

/**
 * A JSON pointer's parts. Ajv writes a schema path (`#/properties/a%20b`) URI-encoded, but an
 * instance path (the meta-schema's errors: `/properties/a b`) not.
 */
function pointerParts(pointer: string, uriEncoded: boolean): PropertyKey[] {
  if (pointer === '' || pointer === '#') return [];
  const decode = (s: string) => {
    try {
      return uriEncoded ? decodeURIComponent(s) : s;
    } catch {
      return s;
    }
  };
  return pointer
    .replace(/^#/, '')
    .split('/')
    .slice(1)
    .map((s) => decode(s).replace(/~1/g, '/').replace(/~0/g, '~'))
    .map((s) => (/^(0|[1-9][0-9]*)$/.test(s) ? Number(s) : s));
}

/**
 * Places ajv's refusal of `schema`. `metaErrors`: ajv's errors when the schema failed its
 * meta-schema (they point into the schema); else the thrown message is read.
 */
export function schemaWhere(schema: unknown, err: unknown, metaErrors: ErrorObject[] | null | undefined): SchemaWhere {
  const message = (err as Error).message;
  const first = metaErrors?.[0];
  if (message.startsWith('schema is invalid:') && first) {
    const allowed = (first.params as { allowedValues?: unknown[] }).allowedValues;
    const values = Array.isArray(allowed) ? ` (${allowed.map((v) => String(v)).join(', ')})` : '';
    return { path: pointerParts(first.instancePath, false), message: `${first.message ?? 'is invalid'}${values}` };
  }
  let m = /^strict mode: unknown keyword: "(.*)"$/.exec(message);
  if (m) {
    const keyword = m[1]!;
    return {
      path: find(schema, (n) => (Object.hasOwn(n, keyword) ? [keyword] : undefined)),
      message: `unknown keyword "${keyword}"`,
    };
  }
  m = /^unknown format "(.*)" ignored in schema at path "(.*)"$/.exec(message);
  if (m) return { path: [...pointerParts(m[2]!, true), 'format'], message: `unknown format "${m[1]}"` };
  m = /^Invalid regular expression: \/(.*)\/[a-z]*: /s.exec(message);
  if (m) {
    const source = m[1]!;
    const path = find(schema, (n) => {
      if (n.pattern === source) return ['pattern'];
      const props = n.patternProperties;
      if (typeof props === 'object' && props !== null && Object.hasOwn(props, source))
        return ['patternProperties', source];
      return undefined;
    });
    return { path, message };
  }
  m = /^can't resolve reference (.*) from id /.exec(message);
  if (m) {
    const ref = m[1]!;
    return {
      path: find(schema, (n) =>
        n.$ref === ref || n.$dynamicRef === ref ? [n.$ref === ref ? '$ref' : '$dynamicRef'] : undefined,
      ),
      message,
    };
  }
  return { path: [], message };
}
