import safeRegex from 'safe-regex2';

/**
 * Where an `args` schema holds a regular expression that can take exponential time on some
 * inputs (`^(/|[a-z]+)+$`: a quantified group that itself repeats). V8's engine backtracks: one
 * argument of a few dozen characters, chosen by the agent, then freezes the gateway (seconds to
 * hours, on its one thread). Found by safe-regex2's star-height check: a warning, not a proof.
 * Yields the JSON path, below the schema, of each `pattern` and `patternProperties` key.
 */
export function* unsafePatterns(schema: unknown, at: PropertyKey[] = [], depth = 0): Generator<PropertyKey[]> {
  if (depth > 64 || schema === null || typeof schema !== 'object') return;
  if (Array.isArray(schema)) {
    for (const [i, v] of schema.entries()) yield* unsafePatterns(v, [...at, i], depth + 1);
    return;
  }
  const node = schema as Record<string, unknown>;
  if (typeof node.pattern === 'string' && !isSafe(node.pattern)) yield [...at, 'pattern'];
  const pp = node.patternProperties;
  if (pp !== null && typeof pp === 'object' && !Array.isArray(pp))
    for (const key of Object.keys(pp)) if (!isSafe(key)) yield [...at, 'patternProperties', key];
  for (const [k, v] of Object.entries(node)) yield* unsafePatterns(v, [...at, k], depth + 1);
}

function isSafe(pattern: string): boolean {
  try {
    return safeRegex(pattern);
  } catch {
    return true; // not a pattern it can read: ajv judges it
  }
}
