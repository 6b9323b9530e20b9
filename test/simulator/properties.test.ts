import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { compilePolicyValue, type Decision } from '../../engine/index.js';
import { propertiesFor, type SimCall, type SimPolicy } from '../../simulator/index.js';
import { overfullWindow } from '../../simulator/windowCount.js';
import { parseExpectations } from '../../simulator/expectations.js';

const policyOf = (doc: object): SimPolicy => {
  const c = compilePolicyValue(doc);
  if (!c.ok) throw new Error(JSON.stringify(c.errors));
  return { name: 'p.json', policy: c.policy, doc };
};
const call = (at: number, tool: string, session = 's1', grant = 'agent-a'): SimCall => ({
  at,
  tool,
  session,
  grant,
  args: {},
});
const decided = (d: Decision) => ({ decision: d, reason: '', rule: 'x' });
const byId = (id: string, n = 0, expect: ReturnType<typeof parseExpectations> = []) =>
  propertiesFor(n || 1, expect).find((p) => p.id === id)!;

describe('overfullWindow (the independent sliding-window check)', () => {
  it('agrees with counting every window by brute force', () => {
    fc.assert(
      fc.property(
        fc.array(fc.integer({ min: 0, max: 200 }), { maxLength: 30 }),
        fc.integer({ min: 1, max: 60 }),
        fc.integer({ min: 0, max: 5 }),
        (raw, window, max) => {
          const times = [...raw].sort((a, b) => a - b);
          // Any interval (t - window, t] with t at a call time holds the most calls ending there.
          const brute = times.some((t) => times.filter((u) => u > t - window && u <= t).length > max);
          const found = overfullWindow(times, window, max);
          expect(found !== undefined).toBe(brute);
          if (found) {
            expect(found.length).toBe(max + 1);
            expect(times[found.at(-1)!]! - times[found[0]!]!).toBeLessThan(window);
          }
        },
      ),
      { numRuns: 300, seed: 11 },
    );
  });
});

describe('built-in properties catch what a broken engine would do', () => {
  const limited = policyOf({
    version: '1',
    default: 'deny',
    tools: {
      a: { limits: [{ counter: 'shared', window: '10s', max: 2 }] },
      b: { limits: [{ counter: 'shared', window: '10s', max: 2 }] },
      c: {},
    },
  });

  it('limits: more than max allowed calls of a shared counter in one window is a violation', () => {
    const calls = [call(0, 'a'), call(5_000, 'b'), call(9_999, 'a')];
    const v = byId('limits').check([limited], { calls, decisions: [calls.map(() => decided('allow'))] });
    expect(v?.calls).toEqual([0, 1, 2]);
    // The same calls with the third throttled, or spread over two windows, or in two grants, hold.
    const held = [decided('allow'), decided('allow'), decided('throttle')];
    expect(byId('limits').check([limited], { calls, decisions: [held] })).toBeUndefined();
    const spread = [call(0, 'a'), call(5_000, 'b'), call(10_000, 'a')];
    expect(
      byId('limits').check([limited], { calls: spread, decisions: [spread.map(() => decided('allow'))] }),
    ).toBeUndefined();
    const grants = [call(0, 'a'), call(1, 'a'), call(2, 'a', 's2', 'agent-b')];
    expect(
      byId('limits').check([limited], { calls: grants, decisions: [grants.map(() => decided('allow'))] }),
    ).toBeUndefined();
    // Calls of a tool without that counter do not count.
    const other = [call(0, 'a'), call(1, 'a'), call(2, 'c')];
    expect(
      byId('limits').check([limited], { calls: other, decisions: [other.map(() => decided('allow'))] }),
    ).toBeUndefined();
  });

  it('limits: a shared counter is bounded by each limit at the calls that limit decides (as the engine does)', () => {
    const uneven = policyOf({
      version: '1',
      default: 'deny',
      tools: {
        a: { limits: [{ counter: 'shared', window: '10s', max: 5 }] },
        b: { limits: [{ counter: 'shared', window: '10s', max: 2 }] },
      },
    });
    const allow = (calls: SimCall[]) => ({ calls, decisions: [calls.map(() => decided('allow'))] });
    // a, b, a: b's limit decided one call (the 2nd: 2 charged); a's may charge past 2. It held.
    expect(byId('limits').check([uneven], allow([call(0, 'a'), call(1, 'b'), call(2, 'a')]))).toBeUndefined();
    // A third charge before b's call: b's limit let it through with 3 in the window.
    const v = byId('limits').check([uneven], allow([call(0, 'a'), call(1, 'a'), call(2, 'b')]));
    expect(v?.message).toMatch(/tools\.b\.limits\[0\].*let 3 calls through/);
  });

  it('denied: a denied-outright tool decided anything but deny is a violation', () => {
    const p = policyOf({
      version: '1',
      default: 'deny',
      hide: ['secret'],
      tools: { 'rm_*': { action: 'deny' }, ok: {} },
    });
    for (const tool of ['rm_x', 'secret', 'unknown']) {
      const calls = [call(0, 'ok'), call(1, tool)];
      expect(byId('denied').check([p], { calls, decisions: [[decided('allow'), decided('approval')]] })?.calls).toEqual(
        [1],
      );
      expect(byId('denied').check([p], { calls, decisions: [[decided('allow'), decided('deny')]] })).toBeUndefined();
    }
  });

  it('deterministic: decisions that differ from a fresh decide are a violation', () => {
    const calls = [call(0, 'a'), call(1, 'a'), call(2, 'a')];
    const decide = (d: Decision[]) => d.map((x) => ({ decision: x, reason: '', rule: '' }));
    const v = byId('deterministic').check([limited], { calls, decisions: [decide(['allow', 'allow', 'allow'])] });
    expect(v).toBeDefined();
  });

  it('expectations: never, always and atMost', () => {
    const expectations = parseExpectations(
      'e.json',
      JSON.stringify({
        expect: [
          { tool: 'a', never: 'allow' },
          { tool: '?', always: 'deny' },
          { tool: '*', atMost: 1, per: '1s' },
        ],
      }),
    );
    const calls = [call(0, 'a'), call(999, 'b'), call(1_999, 'c')];
    const run = { calls, decisions: [[decided('deny'), decided('allow'), decided('approval')]] };
    expect(byId('expect[0]', 1, expectations).check([limited], run)).toBeUndefined();
    expect(byId('expect[1]', 1, expectations).check([limited], run)?.calls).toEqual([1]);
    // b (999) and c (1999) are 1000 ms apart: never in one 1 s window; approvals count as allowed.
    expect(byId('expect[2]', 1, expectations).check([limited], run)).toBeUndefined();
    const close = { calls: [call(0, 'a'), call(999, 'b'), call(1_998, 'c')], decisions: run.decisions };
    expect(byId('expect[2]', 1, expectations).check([limited], close)?.calls).toEqual([1, 2]);
  });

  it('agree: the first call two policies decide differently', () => {
    const calls = [call(0, 'a'), call(1, 'b')];
    const v = byId('agree', 2).check([limited, limited], {
      calls,
      decisions: [
        [decided('allow'), decided('allow')],
        [decided('allow'), decided('deny')],
      ],
    });
    expect(v?.calls).toEqual([1]);
  });
});
