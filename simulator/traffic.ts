import fc, { type Arbitrary } from 'fast-check';

/**
 * Traffic shapes: how the calls of a stream are spread in time.
 * - `bursts`: calls a few ms apart, bursts separated by twice a limit window;
 * - `window-edge`: bursts that start right around a window edge: W-2 … W+2 ms after the previous
 *   call (the sliding window's exact boundary), or 0 … 4 ms before the next multiple of W since
 *   the stream started, running across it (where a fixed-window limiter would reset);
 * - `idle-then-burst`: one call, a long silence (longer than every window), then a burst;
 * - `steady`: one call every `period` ms (periods near window/max included).
 * Listed in shrink order: a counterexample shrinks toward plain bursts.
 */
const OFFSETS = [0, -1, 1, -2, 2];

export const SHAPES = ['bursts', 'window-edge', 'idle-then-burst', 'steady'] as const;
export type Shape = (typeof SHAPES)[number];

/**
 * Per-call timing draws; what they mean depends on the stream's shape. Two integers (cheap to
 * draw, both shrink to 0 = "the next call of this burst, 0 ms later"):
 * - `tiny`: gap inside a burst, 0 … 50 ms;
 * - `code`: `code % 8 === 7` starts a new burst one window after the previous call (1 in 8;
 *   `bursts`: two windows), `code % 8 === 6` in `window-edge` streams starts one just before the
 *   next window edge; the window is `(code >> 3) % windows`, the offset (-2 … +2 ms) comes from
 *   `code / (8 × windows)`.
 */
export type Timing = readonly [tiny: number, code: number];

export interface TrafficParams {
  shape: Shape;
  period: number;
}

/** The windows (ms) of the limits and expectations in play; timings are drawn around them. */
export function trafficArbitraries(windows: readonly number[]) {
  const ws = windows.length > 0 ? [...new Set(windows)].sort((a, b) => a - b) : [1_000, 60_000];
  const periods = [...new Set(ws.flatMap((w) => [w, w - 1, w + 1, Math.max(1, Math.floor(w / 10))]))].filter(
    (p) => p > 0,
  );
  const tiny = fc.integer({ min: 0, max: 50 });
  const code = fc.integer({ min: 0, max: 8 * ws.length * OFFSETS.length - 1 });
  const params: Arbitrary<TrafficParams> = fc.record({
    shape: fc.constantFrom(...SHAPES),
    period: fc.oneof(fc.integer({ min: 1, max: 5_000 }), fc.constantFrom(...periods)),
  });
  const longest = ws[ws.length - 1]!;
  /** Absolute times (ms since the stream started) of calls with these timings. */
  const times = (p: TrafficParams, timings: readonly Timing[]): number[] => {
    const out: number[] = [];
    let at = 0;
    timings.forEach(([tiny, code], i) => {
      const kind = i === 0 ? 0 : code % 8;
      const w = ws[(code >> 3) % ws.length]!;
      const offset = OFFSETS[Math.floor(code / (8 * ws.length))]!;
      let gap: number;
      if (p.shape === 'steady') gap = i === 0 ? 0 : p.period;
      else if (p.shape === 'idle-then-burst') gap = i === 1 ? longest * 3 : tiny;
      else if (kind === 7) gap = p.shape === 'bursts' ? w * 2 : w + offset;
      else if (kind === 6 && p.shape === 'window-edge') gap = (Math.floor(at / w) + 1) * w - 2 + offset - at;
      else gap = tiny;
      at += Math.max(0, gap); // never back in time: calls stay in order
      out.push(at);
    });
    return out;
  };
  return { tiny, code, params, times, windows: ws };
}
