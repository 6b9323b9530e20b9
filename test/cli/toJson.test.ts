import { describe, expect, it } from 'vitest';
import { toJson } from '../../cli/output.js';

describe('toJson', () => {
  it('is JSON.stringify for ordinary values', () => {
    const v = { a: [1, 'x', null, { b: true }], c: 'é\n' };
    expect(toJson(v)).toBe(JSON.stringify(v));
  });

  it('writes a marker below 500 levels instead of failing on a value deeper than the stack', () => {
    let deep: unknown = 1;
    for (let i = 0; i < 100_000; i++) deep = i % 2 ? [deep] : { k: deep };
    expect(() => JSON.stringify({ args: deep })).toThrow(RangeError);
    const text = toJson({ seq: 3, args: deep });
    expect(text.startsWith('{"seq":3,"args":')).toBe(true);
    expect(text).toContain('"[nested too deep]"');
    let depth = 0;
    let v: unknown = (JSON.parse(text) as { args: unknown }).args;
    while (typeof v === 'object' && v !== null) {
      v = Array.isArray(v) ? v[0] : (v as { k: unknown }).k;
      depth++;
    }
    expect([depth, v]).toEqual([499, '[nested too deep]']);
  });
});
