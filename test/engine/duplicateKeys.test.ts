import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { duplicateKeys, hasDuplicateKeys } from '../../engine/sourceLocation.js';

/** JSON text whose objects are written from [key, value] pairs: keys may repeat, as an attacker writes them. */
const text: fc.Arbitrary<string> = fc.letrec<{ value: string }>((tie) => ({
  value: fc.oneof(
    { depthSize: 'small', withCrossShrink: true },
    fc.json({ maxDepth: 0 }),
    fc.array(tie('value'), { maxLength: 4 }).map((xs) => `[${xs.join(',')}]`),
    fc
      .array(fc.tuple(fc.constantFrom('a', 'b', 'name', '__proto__', 'x:y', '"', '\\', ':'), fc.nat(3), tie('value')), {
        maxLength: 5,
      })
      .map((ps) => `{${ps.map(([k, sp, v]) => `${JSON.stringify(k)}${' '.repeat(sp)}:${v}`).join(',')}}`),
  ),
})).value;

describe('hasDuplicateKeys', () => {
  it('agrees with the full duplicateKeys on any JSON text, duplicated keys or not', () => {
    fc.assert(
      fc.property(text, (t) => {
        expect(hasDuplicateKeys(t, JSON.parse(t))).toBe(duplicateKeys(t).length > 0);
      }),
      { numRuns: 2000 },
    );
  });

  it('sees a repeat that colons inside strings would hide', () => {
    const t =
      '{"jsonrpc":"2.0","id":1,"method":"tools/call","params":{"name":"echo","name":"rm: -rf","arguments":{"s":"a:b\\":c"}}}';
    expect(hasDuplicateKeys(t, JSON.parse(t))).toBe(true);
    const ok = '{"params":{"name":"rm: -rf","arguments":{"s":"a:b\\":c"}}}';
    expect(hasDuplicateKeys(ok, JSON.parse(ok))).toBe(false);
  });

  it('counts a call nested far deeper than the stack (a deep call is judged, not refused)', () => {
    const depth = 200_000;
    const deep = `{"a":${'{"b":['.repeat(depth)}1${']}'.repeat(depth)}}`;
    expect(hasDuplicateKeys(deep, JSON.parse(deep))).toBe(false);
    const twice = `{"a":${'{"b":['.repeat(depth)}{"c":1,"c":2}${']}'.repeat(depth)}}`;
    expect(hasDuplicateKeys(twice, JSON.parse(twice))).toBe(true);
  });
});
