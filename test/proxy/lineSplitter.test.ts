import fc from 'fast-check';
import { describe, expect, it, vi } from 'vitest';
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

  it('copies a line that arrives in many chunks once, when it ends (not the whole line again for every chunk)', () => {
    // A 100 MB line in 64 KiB reads: copied again at each read, that is 80 GB of copying, the
    // gateway unresponsive for minutes.
    const concat = vi.spyOn(Buffer, 'concat');
    try {
      const s = new LineSplitter();
      const chunk = Buffer.alloc(1024, 120);
      for (let i = 0; i < 1000; i++) expect(s.push(chunk)).toEqual([]);
      const [line, ...more] = s.push(Buffer.from('x\n{"id":1}'));
      expect(more).toEqual([]);
      expect(line!.length).toBe(1000 * 1024 + 2);
      expect(s.end()!.toString()).toBe('{"id":1}');
      const copied = concat.mock.calls.reduce((n, [list]) => n + list.reduce((m, b) => m + b.length, 0), 0);
      expect(copied).toBeLessThanOrEqual(line!.length + 16);
    } finally {
      concat.mockRestore();
    }
  });
});
