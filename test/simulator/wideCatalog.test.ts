import { describe, expect, it } from 'vitest';
import { simulate } from '../../simulator/index.js';
import { fixture, loadExpect, loadSimPolicy, loadTools } from './fixtures.js';

/** server-everything's tools/list as recorded (13 tools with their real inputSchemas). */
const everything = () => loadTools(fixture('everything.tools.json'));

describe('a rate hole on one tool of a wide catalog', () => {
  it('is found: a 59 s limit under an "atMost 3 per minute" expectation, 1 tool of 13', () => {
    const s = {
      policies: [loadSimPolicy(fixture('edge-window.policy.json'))],
      catalog: everything(),
      expectations: loadExpect(fixture('edge-window.expect.json')),
    };
    expect(s.catalog).toHaveLength(13);
    for (const seed of [1, 2, 3]) {
      const report = simulate({ ...s, runs: 300, seed });
      const cx = report.counterexamples.find((c) => c.property === 'expect[0]');
      expect(cx, `seed ${seed}`).toBeDefined();
      const over = cx!.highlight.map((i) => cx!.calls[i]!);
      expect(over.map((c) => c.tool)).toEqual(['get-sum', 'get-sum', 'get-sum', 'get-sum']);
      // More than 59 s apart (the limit holds) and less than a minute (the expectation does not).
      const span = over[3]!.at - over[0]!.at;
      expect(span).toBeGreaterThanOrEqual(59_000);
      expect(span).toBeLessThan(60_000);
    }
  });
});
