import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { SHAPES, trafficArbitraries } from '../../simulator/traffic.js';

describe('traffic shapes', () => {
  it('give non-decreasing times from 0, whatever the draws and windows', () => {
    fc.assert(
      fc.property(
        fc.array(fc.integer({ min: 1, max: 100_000 }), { maxLength: 3 }),
        fc.constantFrom(...SHAPES),
        fc.integer({ min: 1, max: 5_000 }),
        fc.array(fc.tuple(fc.nat(50), fc.nat(1_000))),
        (windows, shape, period, timings) => {
          const t = trafficArbitraries(windows);
          const codes = timings.map(([tiny, code]) => [tiny, code % (8 * t.windows.length * 5)] as const);
          const at = t.times({ shape, period }, codes);
          expect(at).toHaveLength(codes.length);
          if (at.length > 0) expect(at[0]).toBeGreaterThanOrEqual(0);
          for (let i = 1; i < at.length; i++) expect(at[i]).toBeGreaterThanOrEqual(at[i - 1]!);
        },
      ),
      { numRuns: 200, seed: 8 },
    );
  });

  it('put window-edge bursts around window edges', () => {
    const t = trafficArbitraries([60_000]);
    // kind 7: one window (+offset) after the previous call; kind 6: 2 ms before the next edge, then across it.
    const at = t.times({ shape: 'window-edge', period: 1 }, [
      [5, 0],
      [3, 6],
      [1, 0],
      [2, 0],
      [0, 7],
      [0, 7 + 8 * 1],
    ]);
    expect(at).toEqual([5, 59_998, 59_999, 60_001, 120_001, 180_000]);
    const idle = t.times({ shape: 'idle-then-burst', period: 1 }, [
      [9, 0],
      [9, 0],
      [1, 0],
    ]);
    expect(idle).toEqual([9, 180_009, 180_010]);
    expect(
      t.times({ shape: 'steady', period: 250 }, [
        [7, 7],
        [7, 7],
        [7, 7],
      ]),
    ).toEqual([0, 250, 500]);
  });
});
