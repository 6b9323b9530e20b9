import { describe, expect, it } from 'vitest';
import { compilePolicyValue } from '../../engine/index.js';
import { humanReport, parseExpectations, simulate } from '../../simulator/index.js';

const catalog = [
  {
    name: 'get-sum',
    inputSchema: { type: 'object', properties: { a: { type: 'number' }, b: { type: 'number' } }, required: ['a', 'b'] },
  },
];

function run(tools: object, expect: object[], seed: number, onDecided?: (calls: number) => void) {
  const doc = { version: '1', default: 'allow', tools };
  const compiled = compilePolicyValue(doc);
  if (!compiled.ok) throw new Error(JSON.stringify(compiled.errors));
  const policies = [{ name: 'p.json', policy: compiled.policy, doc }];
  const report = simulate({
    policies,
    catalog,
    expectations: parseExpectations('e.json', JSON.stringify({ expect })),
    runs: 100,
    seed,
    onDecided,
  });
  return { report, text: humanReport(report, { policies, command: 'mcp-replay simulate', catalog: 'test' }) };
}

describe('a bound larger than a default stream can break', () => {
  it('an atMost above --max-calls is still tested: streams grow to one call past it', () => {
    for (const seed of [1, 2]) {
      const { report } = run({}, [{ tool: 'get-sum', atMost: 50, per: 'minute' }], seed);
      const cx = report.counterexamples.find((c) => c.property === 'expect[0]');
      expect(cx, `seed ${seed}`).toBeDefined();
      expect(cx!.highlight).toHaveLength(51);
    }
  });

  it('a per-session limit under an overall atMost is tested with as many sessions as it takes', () => {
    // 2 a minute per session, at most 10 a minute overall: 6 sessions are needed to break it.
    for (const seed of [1, 2]) {
      const { report } = run(
        { 'get-sum': { limits: [{ window: 'minute', max: 2, scope: 'session' }] } },
        [{ tool: 'get-sum', atMost: 10, per: 'minute' }],
        seed,
      );
      const cx = report.counterexamples.find((c) => c.property === 'expect[0]');
      expect(cx, `seed ${seed}`).toBeDefined();
      expect(new Set(cx!.highlight.map((i) => cx!.calls[i]!.session)).size).toBeGreaterThanOrEqual(6);
    }
  });

  it('shrinking a counterexample of hundreds of calls stops within a budget of decided calls', () => {
    // Every candidate of a shrink decides its whole stream: unbounded, a 201-call counterexample
    // took tens of millions of decided calls (minutes).
    let decided = 0;
    const { report } = run({}, [{ tool: 'get-sum', atMost: 200, per: 'hour' }], 1, (n) => {
      decided += n;
      if (decided > 2_000_000) throw new Error(`${decided} calls decided`);
    });
    const cx = report.counterexamples.find((c) => c.property === 'expect[0]');
    expect(cx).toBeDefined();
    expect(cx!.highlight).toHaveLength(201);
  });

  it('a bound past what streams can hold is reported untested, not ok', () => {
    const { report, text } = run({}, [{ tool: 'get-sum', atMost: 5000, per: 'day' }], 1);
    expect(report.counterexamples).toEqual([]);
    const line = text.find((l) => l.includes('expect[0]'))!;
    expect(line).toMatch(/^ {2}---- {2}expect\[0\]: get-sum atMost 5000 per day \(untested: .*5001 calls/);
  });
});
