import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { LineSplitter } from '../../proxy/lineSplitter.js';

describe('LineSplitter', () => {
  it('gives back every byte, in order, as newline-terminated lines however the stream is cut', () => {
    const bytes = fc.uint8Array({ maxLength: 200 }).map((a) => a.map((b) => (b % 4 === 0 ? 10 : b)));
    fc.assert(
      fc.property(bytes, fc.array(fc.nat(200), { maxLength: 10 }), (input, cuts) => {
        const at = [...new Set(cuts.map((c) => Math.min(c, input.length)))].sort((a, b) => a - b);
        const chunks = [0, ...at, input.length].slice(1).map((end, i, all) => input.subarray(i ? all[i - 1] : 0, end));
        const s = new LineSplitter();
        const lines = chunks.filter((c) => c.length > 0).flatMap((c) => s.push(Buffer.from(c)));
        for (const line of lines) {
          expect(line.at(-1)).toBe(10);
          expect(line.indexOf(10)).toBe(line.length - 1);
        }
        const rest = s.end();
        expect(Buffer.concat([...lines, ...(rest ? [rest] : [])])).toEqual(Buffer.from(input));
        expect(rest?.includes(10) ?? false).toBe(false);
      }),
    );
  });

  it('a chunk that is one whole line is passed on as it is (no copy, no slice)', () => {
    const chunk = Buffer.from('{"jsonrpc":"2.0","id":1,"method":"ping"}\n');
    const [line] = new LineSplitter().push(chunk);
    expect(line).toBe(chunk);
  });
});
