import { fc, test } from '@fast-check/vitest';
import { describe, expect } from 'vitest';
import { compilePolicyValue, decide, MemoryLimiter, type Policy, type Verdict } from '../../engine/index.js';
import {
  referenceDecide,
  wildcard,
  type RefCall,
  type RefLimit,
  type RefPolicy,
  type RefRule,
} from './referenceModel.js';

const TOOLS = ['read', 'read_file', 'write_file', 'delete_bucket', 'delete_temp', 'Read', 'run', 'ab', 'x'];
const KEYS = [...TOOLS, 'read*', '*_file', 'delete_*', 'delete_t*', '?b', '*', 'r??d', 're*d'];
const COUNTERS = ['c1', 'c2', 'shared'];

const limitArb: fc.Arbitrary<RefLimit> = fc.record(
  {
    counter: fc.constantFrom(...COUNTERS),
    window: fc.constantFrom(1000, 5000, 30_000, 60_000),
    max: fc.integer({ min: 0, max: 5 }),
    scope: fc.constantFrom('global' as const, 'grant' as const, 'session' as const),
  },
  { requiredKeys: ['window', 'max'] },
);

const ruleArb: fc.Arbitrary<RefRule> = fc.record(
  {
    action: fc.constantFrom('allow' as const, 'deny' as const, 'require_approval' as const),
    args: fc.constant({ type: 'object', properties: { path: { type: 'string', pattern: '^/srv/' } } }),
    limits: fc.array(limitArb, { maxLength: 3 }),
  },
  { requiredKeys: [] },
);

const policyArb: fc.Arbitrary<RefPolicy> = fc.record(
  {
    default: fc.constantFrom('allow' as const, 'deny' as const),
    tools: fc.uniqueArray(fc.tuple(fc.constantFrom(...KEYS), ruleArb), { selector: ([k]) => k, maxLength: 6 }),
    all_tools: fc.array(limitArb, { maxLength: 2 }),
    hide: fc.array(fc.constantFrom(...KEYS), { maxLength: 2 }),
  },
  { requiredKeys: ['default', 'tools'] },
);

/** Calls in time order, integer ms, with bursts (gap 0) and pauses. */
const streamArb: fc.Arbitrary<RefCall[]> = fc
  .array(
    fc.record({
      gap: fc.oneof(fc.constant(0), fc.integer({ min: 0, max: 1500 }), fc.integer({ min: 0, max: 70_000 })),
      tool: fc.constantFrom(...TOOLS),
      path: fc.constantFrom('/srv/a', '/etc/passwd', undefined),
      session: fc.constantFrom('s1', 's2', 's3'),
      grant: fc.constantFrom('g1', 'g2'),
    }),
    { maxLength: 60 },
  )
  .map((items) => {
    let at = 1_700_000_000_000;
    return items.map(({ gap, tool, path, session, grant }) => ({
      tool,
      args: path === undefined ? {} : { path },
      session,
      grant,
      at: (at += gap),
    }));
  });

function toFile(p: RefPolicy): unknown {
  const lim = (l: RefLimit) => ({ ...l, window: `${l.window}ms` });
  const file: Record<string, unknown> = {
    version: '1',
    default: p.default,
    tools: Object.fromEntries(
      p.tools.map(([k, r]) => [k, { ...r, ...(r.limits ? { limits: r.limits.map(lim) } : {}) }]),
    ),
  };
  if (p.all_tools) file.all_tools = { limits: p.all_tools.map(lim) };
  if (p.hide) file.hide = p.hide;
  return file;
}

function compile(p: RefPolicy): Policy {
  const r = compilePolicyValue(toFile(p));
  if (!r.ok) throw new Error(JSON.stringify(r.errors));
  return r.policy;
}

function run(policy: Policy, calls: readonly RefCall[], shift = 0): Verdict[] {
  const limiter = new MemoryLimiter();
  return calls.map((c) => decide(policy, limiter, c, c.at + shift));
}

const brief = (v: Verdict) => ({
  decision: v.decision,
  rule: v.rule,
  ...(v.retryAfterMs !== undefined ? { retryAfterMs: v.retryAfterMs } : {}),
});

describe('decide against a naive reference model', () => {
  test.prop([policyArb, streamArb], { numRuns: 300 })(
    'gives identical decisions, rules and retry hints',
    (p, calls) => {
      expect(run(compile(p), calls).map(brief)).toEqual(referenceDecide(p, calls));
    },
  );

  test.prop([policyArb, streamArb], { numRuns: 200 })(
    'never lets more than max calls charge a counter in any window',
    (p, calls) => {
      const policy = compile(p);
      const verdicts = run(policy, calls);
      // Every allowed (or approved) call's charges, by counter key: its index in the stream and time.
      const times = new Map<string, { i: number; at: number }[]>();
      verdicts.forEach((v, i) => {
        if (v.decision === 'allow' || v.decision === 'approval') {
          for (const c of v.charges) times.set(c.key, [...(times.get(c.key) ?? []), { i, at: calls[i]!.at }]);
        }
      });
      // For every limit of the policy, every half-open window [s, s + W) that starts at a charge holds ≤ max.
      const limits = [...policy.rules.flatMap((r) => r.limits), ...policy.allToolsLimits];
      for (const l of limits) {
        for (const [key, ts] of times) {
          if (!key.startsWith(l.keyPrefix)) continue;
          // Only the calls this limit governed bound it: those whose tool's entry (or all_tools) holds l.
          for (const { at: s } of ts) {
            const governed = calls.flatMap((c, i) =>
              verdicts[i]!.charges.some((ch) => ch.key === key) &&
              c.at >= s &&
              c.at < s + l.windowMs &&
              (policy.allToolsLimits.includes(l) || policy.ruleFor(c.tool)?.limits.includes(l))
                ? [i]
                : [],
            );
            if (governed.length === 0) continue;
            // When the last governed call was decided: the charges before it (in stream order, so a
            // later call at the same millisecond, governed by another limit only, does not count).
            const lastIdx = governed[governed.length - 1]!;
            const last = calls[lastIdx]!.at;
            const inWindow = ts.filter((t) => t.i <= lastIdx && t.at > last - l.windowMs && t.at <= last).length;
            expect(inWindow).toBeLessThanOrEqual(l.max);
          }
        }
      }
    },
  );

  test.prop([policyArb, streamArb, fc.nat()], { numRuns: 200 })(
    'denied and throttled calls consume nothing: removing one changes no other decision',
    (p, calls, pick) => {
      const policy = compile(p);
      const verdicts = run(policy, calls);
      const refused = verdicts.flatMap((v, i) => (v.decision === 'deny' || v.decision === 'throttle' ? [i] : []));
      fc.pre(refused.length > 0);
      const drop = refused[pick % refused.length]!;
      const without = run(
        policy,
        calls.filter((_, i) => i !== drop),
      ).map(brief);
      expect(without).toEqual(verdicts.filter((_, i) => i !== drop).map(brief));
    },
  );

  test.prop([policyArb, streamArb], { numRuns: 100 })('is deterministic', (p, calls) => {
    expect(run(compile(p), calls).map(brief)).toEqual(run(compile(p), calls).map(brief));
  });

  test.prop([policyArb, streamArb, fc.integer({ min: -1_000_000_000, max: 1_000_000_000 })], { numRuns: 150 })(
    'does not change when every time is shifted by a constant',
    (p, calls, shift) => {
      const policy = compile(p);
      expect(run(policy, calls, shift).map(brief)).toEqual(run(policy, calls).map(brief));
    },
  );

  test.prop([policyArb, streamArb], { numRuns: 150 })(
    'throttles nothing when every max is at least the stream length',
    (p, calls) => {
      const roomy = (l: RefLimit) => ({ ...l, max: Math.max(l.max, calls.length) });
      const loose: RefPolicy = {
        ...p,
        tools: p.tools.map(([k, r]) => [k, { ...r, ...(r.limits ? { limits: r.limits.map(roomy) } : {}) }]),
        ...(p.all_tools ? { all_tools: p.all_tools.map(roomy) } : {}),
      };
      expect(run(compile(loose), calls).filter((v) => v.decision === 'throttle')).toEqual([]);
    },
  );
});

describe('the reference model itself', () => {
  test.prop([fc.string({ maxLength: 6 })])('wildcard "*" matches everything', (s) => {
    expect(wildcard('*', s)).toBe(true);
  });
});
