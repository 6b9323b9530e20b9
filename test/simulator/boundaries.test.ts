import { describe, expect, it } from 'vitest';
import { compilePolicyValue } from '../../engine/index.js';
import { parseExpectations, simulate } from '../../simulator/index.js';
import { fixture, loadTools } from './fixtures.js';

/** server-everything's recorded tools/list, a policy on one of its tools, one expectation. */
function run(args: object, when: object, seed: number) {
  const doc = { version: '1', default: 'deny', tools: { 'get-sum': { args }, echo: {} } };
  const compiled = compilePolicyValue(doc);
  if (!compiled.ok) throw new Error(JSON.stringify(compiled.errors));
  return simulate({
    policies: [{ name: 'p.json', policy: compiled.policy, doc }],
    catalog: loadTools(fixture('everything.tools.json')),
    expectations: parseExpectations('e.json', JSON.stringify({ expect: [{ tool: 'get-sum', when, never: 'allow' }] })),
    runs: 300,
    seed,
  });
}

/** The argument the counterexample of expect[0] shows the hole with. */
function holeArg(report: ReturnType<typeof simulate>, key: string): unknown {
  const cx = report.counterexamples.find((c) => c.property === 'expect[0]');
  expect(cx).toBeDefined();
  return (cx!.calls[cx!.highlight[0]!]!.args as Record<string, unknown>)[key];
}

describe('an off-by-one bound in an args schema', () => {
  it('is found with the bound itself: maximum 100 lets a = 100 through where ≥ 100 must never be allowed', () => {
    for (const seed of [1, 2, 3])
      expect(
        holeArg(
          run(
            { properties: { a: { type: 'number', maximum: 100 } }, required: ['a'] },
            {
              properties: { a: { minimum: 100 } },
              required: ['a'],
            },
            seed,
          ),
          'a',
        ),
        `seed ${seed}`,
      ).toBe(100);
  });

  it('is found at an integer bound: minimum -1 lets b = -1 through where b < 0 must never be allowed', () => {
    for (const seed of [1, 2, 3])
      expect(
        holeArg(
          run(
            { properties: { b: { type: 'integer', minimum: -1 } }, required: ['b'] },
            {
              properties: { b: { exclusiveMaximum: 0 } },
              required: ['b'],
            },
            seed,
          ),
          'b',
        ),
        `seed ${seed}`,
      ).toBe(-1);
  });
});
