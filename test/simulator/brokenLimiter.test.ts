import { describe, expect, it } from 'vitest';
import type { Limiter } from '../../engine/index.js';
import { simulate } from '../../simulator/index.js';
import { fixture, loadSimPolicy, loadTools } from './fixtures.js';

/**
 * A classic limiter bug: fixed windows (counts reset at every multiple of the window), which let
 * up to 2 × max calls through across an edge. The engine's sliding window does not.
 */
class FixedWindowLimiter implements Limiter {
  private readonly counts = new Map<string, number>();
  private bucket = (key: string, windowMs: number, now: number) => `${key}@${Math.floor(now / windowMs)}`;
  wait(key: string, windowMs: number, max: number, now: number): number {
    const n = this.counts.get(this.bucket(key, windowMs, now)) ?? 0;
    return n < max ? 0 : (Math.floor(now / windowMs) + 1) * windowMs - now;
  }
  record(key: string, now: number, windowMs: number): void {
    const b = this.bucket(key, windowMs, now);
    this.counts.set(b, (this.counts.get(b) ?? 0) + 1);
  }
  atomically<T>(fn: () => T): T {
    return fn();
  }
}

describe('the limits invariant, under generated traffic', () => {
  const options = {
    policies: [loadSimPolicy(fixture('rate.policy.json'))],
    catalog: loadTools(fixture('session-limit.tools.json')),
    runs: 100,
  };

  it('catches a fixed-window limiter letting a burst through across a window edge', () => {
    const report = simulate({ ...options, seed: 3, newLimiter: () => new FixedWindowLimiter() });
    const cx = report.counterexamples.find((c) => c.property === 'limits');
    expect(cx, 'limits violated').toBeDefined();
    expect(cx!.message).toMatch(/tools\.invoke_agent_runtime\.limits\[0\].*let 6 calls through within 60000 ms/);
    const times = cx!.highlight.map((i) => cx!.calls[i]!.at);
    // The 6 calls lie within one sliding minute but across a fixed-window edge.
    expect(times.at(-1)! - times[0]!).toBeLessThan(60_000);
    expect(Math.floor(times[0]! / 60_000)).toBeLessThan(Math.floor(times.at(-1)! / 60_000));
  });

  it('finds nothing wrong with the engine’s own sliding window on the same streams', () => {
    const report = simulate({ ...options, seed: 3 });
    expect(report.counterexamples).toEqual([]);
    expect(report.byTool[0]!.get('invoke_agent_runtime')!.throttle).toBeGreaterThan(0);
  });
});
