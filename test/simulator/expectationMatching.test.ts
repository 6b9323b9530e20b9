import { describe, expect, it } from 'vitest';
import { simulate } from '../../simulator/index.js';
import type { Expectation } from '../../simulator/expectations.js';
import { fixture, loadExpect, loadSimPolicy, loadTools } from './fixtures.js';

/**
 * The expectations with their matchers wrapped to count how often a call is looked at, once
 * streams are being decided (`start()`: building the tool pool asks which tools they are about).
 */
function counted(expectations: Expectation[]) {
  const seen = { tool: 0, args: 0 };
  let on = false;
  const wrapped = expectations.map((e): Expectation => {
    const { matchesTool, matchesArgs } = e;
    return {
      ...e,
      matchesTool: (t) => (on && seen.tool++, matchesTool(t)),
      matchesArgs: matchesArgs && ((a) => (on && seen.args++, matchesArgs(a))),
    };
  });
  return { wrapped, seen, start: () => (on = true) };
}

describe('expectations on the exploring pass', () => {
  it('are matched once per generated call, not once for the tally and again for the check', () => {
    const expectations = loadExpect(fixture('sound.expect.json'));
    const { wrapped, seen, start } = counted(expectations);
    const report = simulate({
      policies: [loadSimPolicy(fixture('sound.policy.json'))],
      catalog: loadTools(fixture('srv-prefix.tools.json')),
      expectations: wrapped,
      runs: 40,
      seed: 5,
      onDecided: start,
    });
    // No violation, so no shrinking pass: every match is the exploring pass's.
    expect(report.counterexamples).toEqual([]);
    expect(seen.tool).toBe(expectations.length * report.calls);
    // A `when` schema is checked once per call of a tool the expectation is about.
    const toolCalls = [...report.byTool[0]!];
    const whenChecks = expectations
      .filter((e) => e.matchesArgs)
      .reduce((n, e) => n + toolCalls.reduce((m, [tool, c]) => m + (e.matchesTool(tool) ? c.calls : 0), 0), 0);
    expect(whenChecks).toBeGreaterThan(0);
    expect(seen.args).toBe(whenChecks);
  });
});
