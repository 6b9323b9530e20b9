import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { compilePolicyValue, decide, type Limiter, type ToolCall } from '../../engine/index.js';

/** A fresh limiter with no recorded calls; `dispose` releases what it holds (a db file). */
export interface LimiterFixture {
  limiter: Limiter;
  dispose?: () => void;
}

/** How a fixture's limiter is made: `retainMs` is how long it keeps every time at least. */
export interface LimiterFixtureOptions {
  retainMs: number;
}

const DAY = 86_400_000;

/**
 * The naive reference: every allowed time of every key, kept forever. A call at `now` fits when
 * fewer than `max` times lie in (now - window, now]; otherwise it fits once the max-th most
 * recent of them has left the window.
 */
export class ReferenceLimiter implements Limiter {
  private readonly times = new Map<string, number[]>();

  wait(key: string, windowMs: number, max: number, now: number): number {
    if (max <= 0) return Infinity;
    const inWindow = (this.times.get(key) ?? []).filter((t) => t > now - windowMs && t <= now).sort((a, b) => a - b);
    if (inWindow.length < max) return 0;
    return inWindow[inWindow.length - max]! + windowMs - now;
  }

  record(key: string, now: number): void {
    const list = this.times.get(key) ?? [];
    list.push(now);
    this.times.set(key, list);
  }

  atomically<T>(fn: () => T): T {
    return fn();
  }
}

/**
 * The contract every `Limiter` keeps (STYLE.md: one suite, every implementation). Streams are
 * non-decreasing in time per key, as the engine feeds them.
 */
export function limiterContract(name: string, make: (options: LimiterFixtureOptions) => LimiterFixture): void {
  const using = <T>(fn: (limiter: Limiter) => T, options: LimiterFixtureOptions = { retainMs: 0 }): T => {
    const f = make(options);
    try {
      return fn(f.limiter);
    } finally {
      f.dispose?.();
    }
  };

  describe(`${name} keeps the limiter contract`, () => {
    it('lets the first call of an unknown key through', () => {
      using((l) => {
        expect(l.wait('k', 1000, 1, 0)).toBe(0);
        expect(l.wait('k', 1000, 5, 1e12)).toBe(0);
      });
    });

    it('never lets a call through when max is 0, recorded or not', () => {
      using((l) => {
        expect(l.wait('k', 1000, 0, 0)).toBe(Infinity);
        l.record('k', 0, 1000);
        expect(l.wait('k', 1000, 0, 5000)).toBe(Infinity);
        expect(l.wait('other', 1000, 0, 5000)).toBe(Infinity);
      });
    });

    it('uses half-open windows (now - window, now]', () => {
      using((l) => {
        l.record('k', 0, 1000);
        expect(l.wait('k', 1000, 1, 0)).toBe(1000);
        expect(l.wait('k', 1000, 1, 999)).toBe(1);
        expect(l.wait('k', 1000, 1, 999.5)).toBe(0.5);
        expect(l.wait('k', 1000, 1, 1000)).toBe(0); // the call at 0 is out of (0, 1000]
        expect(l.wait('k', 1000, 2, 0)).toBe(0); // one call in the window, room for a second
      });
    });

    it('answers the time until the max-th most recent call leaves the window', () => {
      using((l) => {
        for (const t of [0, 100, 200]) l.record('k', t, 1000);
        expect(l.wait('k', 1000, 3, 250)).toBe(750);
        expect(l.wait('k', 1000, 2, 250)).toBe(850);
        expect(l.wait('k', 1000, 1, 250)).toBe(950);
        expect(l.wait('k', 1000, 4, 250)).toBe(0);
        expect(l.wait('k', 1000, 3, 1000)).toBe(0);
        l.record('k', 1000, 1000);
        // (0, 1000] holds 100, 200, 1000: full until 100 leaves at 1100.
        expect(l.wait('k', 1000, 3, 1000)).toBe(100);
        expect(l.wait('k', 1000, 3, 1100)).toBe(0);
      });
    });

    it('counts calls at the same instant separately', () => {
      using((l) => {
        for (let i = 0; i < 3; i++) l.record('k', 5, 10);
        expect(l.wait('k', 10, 3, 5)).toBe(10);
        expect(l.wait('k', 10, 4, 5)).toBe(0);
        expect(l.wait('k', 10, 3, 15)).toBe(0);
      });
    });

    it('keeps keys apart, including keys that are prefixes of each other or hold NUL separators', () => {
      using((l) => {
        const keys = ['a', 'a\u0000', 'a\u0000grant\u0000x', 'a\u0000grant\u0000y', 'A', 'é', 'e\u0301'];
        keys.forEach((k, i) => {
          for (let n = 0; n <= i; n++) l.record(k, 100, 1000);
        });
        keys.forEach((k, i) => {
          expect(l.wait(k, 1000, i + 1, 100), k).toBe(1000);
          expect(l.wait(k, 1000, i + 2, 100), k).toBe(0);
        });
      });
    });

    it('shares one key between limits of different windows (a shared counter)', () => {
      using((l) => {
        // Two limits on one counter: 2 per 1 s and 3 per 5 s; an allowed call is charged once,
        // with the longer window.
        const fits = (now: number) => l.wait('c', 1000, 2, now) === 0 && l.wait('c', 5000, 3, now) === 0;
        const allowed: number[] = [];
        for (const now of [0, 100, 200, 1500, 2000, 4000, 5000, 5100, 5200]) {
          if (fits(now)) {
            l.record('c', now, 5000);
            allowed.push(now);
          }
        }
        // 200: two in (−800, 200]. 1500: ok (3rd in 5 s). 2000/4000: 3 in the last 5 s.
        // 5000: (0, 5000] holds 100, 1500 → ok. 5100: (100, 5100] holds 1500, 5000 → ok.
        // 5200: (4200, 5200] holds 5000, 5100 → 2 per second full.
        expect(allowed).toEqual([0, 100, 1500, 5000, 5100]);
        expect(l.wait('c', 5000, 3, 5200)).toBe(1500 + 5000 - 5200);
        expect(l.wait('c', 1000, 2, 5200)).toBe(5000 + 1000 - 5200);
      });
    });

    it('remembers a call as long as the longest window any limit asked of its key', () => {
      using((l) => {
        expect(l.wait('k', 60_000, 1, 0)).toBe(0); // a long limit looked at the key first
        l.record('k', 0, 1000); // charged with a short window
        l.record('k', 30_000, 1000); // would prune the first call under a 1 s retention
        expect(l.wait('k', 60_000, 2, 30_000)).toBe(30_000);
      });
    });

    it('forgets nothing a window can still reach after long idle gaps', () => {
      using((l) => {
        let now = 0;
        for (let i = 0; i < 50; i++) {
          now += i % 10 === 9 ? 1e7 : 7;
          if (l.wait('k', 100, 3, now) === 0) l.record('k', now, 100);
        }
        l.record('k', now + 1, 100);
        l.record('k', now + 2, 100);
        expect(l.wait('k', 100, 3, now + 2)).toBeGreaterThan(0);
        expect(l.wait('k', 100, 3, now + 1e9)).toBe(0);
      });
    });

    it('keeps counting exactly when a reload widens a window, as far back as it retains', () => {
      using(
        (l) => {
          // 2 per second: the call at 1100 is allowed, and a 1 s memory would forget 0 and 10 there.
          for (const t of [0, 10, 1100]) {
            expect(l.wait('k', 1000, 2, t)).toBe(0);
            l.record('k', t, 1000);
          }
          // The policy now says 2 per hour: (1200 - 1 h, 1200] holds all three calls, and stays
          // full until the one at 10 leaves the hour.
          expect(l.wait('k', 3_600_000, 2, 1200)).toBe(10 + 3_600_000 - 1200);
          expect(l.wait('k', 3_600_000, 4, 1200)).toBe(0);
          // A window wider than the retention reaches only what it kept: the last day.
          for (let t = 2 * DAY; t < 2 * DAY + 10; t++) l.record('k', t, 1000);
          expect(l.wait('k', 3 * DAY, 12, 2 * DAY + 10)).toBe(0);
        },
        { retainMs: DAY },
      );
    });

    it('with a retention, answers like the naive reference across reloads of any limits (model test)', () => {
      const keys = ['a', 'b\u0000grant\u0000x'];
      const limit = fc.record({
        windowMs: fc.constantFrom(1, 10, 100, 250.5, 1000, 5000),
        max: fc.integer({ min: 0, max: 5 }),
      });
      const step = fc.record({
        key: fc.integer({ min: 0, max: keys.length - 1 }),
        dt: fc.oneof(fc.constant(0), fc.integer({ min: 0, max: 300 }), fc.constant(2000)),
        // A reload: this key's limits change from this call on (window widened, max raised, …).
        reload: fc.option(fc.array(limit, { minLength: 1, maxLength: 2 }), { freq: 5 }),
      });
      fc.assert(
        fc.property(
          fc.array(fc.array(limit, { minLength: 1, maxLength: 2 }), { minLength: keys.length, maxLength: keys.length }),
          fc.array(step, { maxLength: 80 }),
          (first, steps) => {
            const ref = new ReferenceLimiter();
            const limitsByKey = first.slice();
            using(
              (l) => {
                let now = 1_700_000_000_000;
                for (const { key: k, dt, reload } of steps) {
                  now += dt;
                  if (reload) limitsByKey[k] = reload;
                  const key = keys[k]!;
                  const limits = limitsByKey[k]!;
                  const got = l.atomically(() => limits.map((x) => l.wait(key, x.windowMs, x.max, now)));
                  const want = limits.map((x) => ref.wait(key, x.windowMs, x.max, now));
                  expect(got).toEqual(want);
                  if (want.every((w) => w === 0)) {
                    l.record(key, now, Math.max(...limits.map((x) => x.windowMs)));
                    ref.record(key, now);
                  }
                }
              },
              { retainMs: 5000 },
            );
          },
        ),
        { numRuns: 60 },
      );
    });

    it('runs atomically() and returns its value', () => {
      using((l) => {
        expect(l.atomically(() => l.atomically(() => 42))).toBe(42);
        expect(() =>
          l.atomically(() => {
            throw new Error('boom');
          }),
        ).toThrow('boom');
        l.record('k', 0, 10);
        expect(l.wait('k', 10, 1, 1)).toBe(9);
      });
    });

    it('drives decide() to the hand-computed verdicts', () => {
      using((l) => {
        const compiled = compilePolicyValue({
          version: '1',
          default: 'deny',
          tools: {
            get_sum: { limits: [{ window: '1m', max: 2, scope: 'session' }] },
            echo: { limits: [{ counter: 'shared', window: '10s', max: 3, scope: 'global' }] },
            ping: { limits: [{ counter: 'shared', window: '10s', max: 3, scope: 'global' }] },
          },
        });
        if (!compiled.ok) throw new Error(JSON.stringify(compiled.errors));
        const p = compiled.policy;
        const call = (tool: string, session = 's1'): ToolCall => ({ tool, args: {}, session, grant: 'g' });
        const seen = [
          [0, call('get_sum')],
          [1, call('get_sum')],
          [2, call('get_sum')],
          [3, call('get_sum', 's2')],
          [4, call('echo')],
          [5, call('ping', 's2')],
          [6, call('echo')],
          [7, call('ping')],
          [8, call('nope')],
          [60_000, call('get_sum')],
          [60_001, call('get_sum')],
          [60_002, call('get_sum')],
        ].map(([t, c]) => {
          const v = decide(p, l, c as ToolCall, 1_700_000_000_000 + (t as number));
          return [v.decision, v.retryAfterMs];
        });
        expect(seen).toEqual([
          ['allow', undefined],
          ['allow', undefined],
          ['throttle', 59_998],
          ['allow', undefined],
          ['allow', undefined],
          ['allow', undefined],
          ['allow', undefined],
          ['throttle', 9_997],
          ['deny', undefined],
          ['allow', undefined], // (0, 60000] holds the call at 1
          ['allow', undefined], // (1, 60001] holds the call at 60000
          ['throttle', 59_998], // full until 60000 leaves at 120000
        ]);
      });
    });

    it('through decide(), keeps a shared counter exact when its limits have different windows', () => {
      using((l) => {
        // Tool a charges counter c with a 1 s limit, tool b reads it with a 1 min limit: a's calls
        // must be kept a minute, or b would not see them.
        const compiled = compilePolicyValue({
          version: '1',
          default: 'deny',
          tools: {
            a: { limits: [{ counter: 'c', window: '1s', max: 100, scope: 'global' }] },
            b: { limits: [{ counter: 'c', window: '1m', max: 2, scope: 'global' }] },
          },
        });
        if (!compiled.ok) throw new Error(JSON.stringify(compiled.errors));
        const call = (tool: string): ToolCall => ({ tool, args: {}, session: 's', grant: 'g' });
        const seen = [
          ['a', 0],
          ['a', 2000],
          ['a', 4000],
          ['b', 4500],
          ['b', 60_001],
        ].map(([tool, t]) => decide(compiled.policy, l, call(tool as string), 1e12 + (t as number)).decision);
        // At 4.5 s the last minute holds 3 calls of a; at 60.001 s only the ones at 2 s and 4 s.
        expect(seen).toEqual(['allow', 'allow', 'allow', 'throttle', 'throttle']);
      });
    });

    it('answers exactly like the naive reference on generated streams (model test)', () => {
      const keys = ['a', 'a\u0000', 'b\u0000grant\u0000x'];
      const limit = fc.record({
        windowMs: fc.constantFrom(1, 10, 100, 250.5, 1000),
        max: fc.integer({ min: 0, max: 4 }),
      });
      const step = fc.record({
        key: fc.integer({ min: 0, max: keys.length - 1 }),
        dt: fc.oneof(
          fc.constant(0),
          fc.integer({ min: 0, max: 300 }),
          fc.double({ min: 0, max: 300, noNaN: true }),
          fc.constant(2000),
        ),
      });
      fc.assert(
        fc.property(
          fc.array(fc.array(limit, { minLength: 1, maxLength: 3 }), { minLength: keys.length, maxLength: keys.length }),
          fc.array(step, { maxLength: 80 }),
          (limitsByKey, steps) => {
            const ref = new ReferenceLimiter();
            using((l) => {
              let now = 1_700_000_000_000;
              for (const { key: k, dt } of steps) {
                now += dt;
                const key = keys[k]!;
                const limits = limitsByKey[k]!;
                const got = l.atomically(() => limits.map((x) => l.wait(key, x.windowMs, x.max, now)));
                const want = limits.map((x) => ref.wait(key, x.windowMs, x.max, now));
                expect(got).toEqual(want);
                if (want.every((w) => w === 0)) {
                  const keep = Math.max(...limits.map((x) => x.windowMs));
                  l.record(key, now, keep);
                  ref.record(key, now);
                }
              }
            });
          },
        ),
        { numRuns: 60 },
      );
    });
  });
}
