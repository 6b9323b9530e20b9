import { describe, expect, it } from 'vitest';
import { parseExpectations, simulate } from '../../simulator/index.js';
import { fixture, loadSimPolicy, loadTools, scenario } from './fixtures.js';

const SEEDS = [1, 2, 3, 4, 5, 6, 7, 8];

/** The arguments of the call a counterexample points at. */
function shrunkArgs(report: ReturnType<typeof simulate>): unknown {
  const [cx] = report.counterexamples;
  expect(cx?.property).toBe('expect[0]');
  expect(cx!.calls).toHaveLength(1);
  return cx!.calls[cx!.highlight[0]!]!.args;
}

describe('counterexamples shrink to the arguments that matter', () => {
  it('an adversarial string shrinks to the shortest one that still shows the hole', () => {
    // Every path under /srv/ violates: the shortest adversarial one is the pattern's literal itself.
    const s = {
      policies: [loadSimPolicy(fixture('srv-prefix.policy.json'))],
      catalog: loadTools(fixture('srv-prefix.tools.json')),
      expectations: parseExpectations(
        'inline.json',
        JSON.stringify({
          expect: [
            {
              tool: 'read_file',
              when: { properties: { path: { pattern: '^/srv/' } }, required: ['path'] },
              never: 'allow',
            },
          ],
        }),
      ),
    };
    for (const seed of SEEDS)
      expect(shrunkArgs(simulate({ ...s, runs: 100, seed })), `seed ${seed}`).toEqual({ path: '/srv/' });
  });

  it('an extra field that does not matter is dropped', () => {
    for (const seed of SEEDS) {
      const args = shrunkArgs(simulate({ ...scenario('srv-prefix'), runs: 100, seed }));
      expect(Object.keys(args as object), `seed ${seed}`).toEqual(['path']);
    }
  });
});
