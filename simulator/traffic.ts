import fc, { type Arbitrary } from 'fast-check';

/**
 * Traffic shapes: how the calls of a stream are spread in time.
 * - `bursts`: calls a few ms apart, bursts separated by twice a limit window;
 * - `window-edge`: bursts whose next one starts right around one window later (W-2 … W+2 ms),
 *   so they straddle the edge where a fixed-window limiter would reset;
 * - `idle-then-burst`: one call, a long silence (longer than every window), then a burst;
 * - `steady`: one call every `period` ms (periods near window/max included).
 * Listed in shrink order: a counterexample shrinks toward plain bursts.
 */
export const SHAPES = ['bursts', 'window-edge', 'idle-then-burst', 'steady'] as const;
export type Shape = (typeof SHAPES)[number];

/** Per-call timing draws; what they mean depends on the stream's shape. */
export interface Timing {
  /** Gap inside a burst, ms. */
  tiny: number;
  /** 7 = this call starts a new burst (1 in 8). */
  jump: number;
  /** Which window a jump is measured against. */
  window: number;
  /** Offset of a window-edge jump, -2 … +2 ms. */
  offset: number;
}

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
  const timing: Arbitrary<Timing> = fc.record({
    tiny: fc.integer({ min: 0, max: 50 }),
    jump: fc.integer({ min: 0, max: 7 }),
    window: fc.integer({ min: 0, max: ws.length - 1 }),
    offset: fc.integer({ min: -2, max: 2 }),
  });
  const params: Arbitrary<TrafficParams> = fc.record({
    shape: fc.constantFrom(...SHAPES),
    period: fc.oneof(fc.integer({ min: 1, max: 5_000 }), fc.constantFrom(...periods)),
  });
  const longest = ws[ws.length - 1]!;
  /** Absolute times (ms since the stream started) of calls with these timings. */
  const times = (p: TrafficParams, timings: readonly Timing[]): number[] => {
    const out: number[] = [];
    let at = 0;
    timings.forEach((t, i) => {
      let gap: number;
      if (p.shape === 'steady') gap = i === 0 ? 0 : p.period;
      else if (p.shape === 'idle-then-burst') gap = i === 1 ? longest * 3 : t.tiny;
      else if (t.jump === 7 && i > 0) gap = p.shape === 'bursts' ? ws[t.window]! * 2 : ws[t.window]! + t.offset;
      else gap = t.tiny;
      at = Math.max(0, at + gap);
      out.push(at);
    });
    return out;
  };
  return { timing, params, times, windows: ws };
}
