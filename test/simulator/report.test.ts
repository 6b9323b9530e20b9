import { describe, expect, it } from 'vitest';
import { humanReport, jsonReport, simulate, streamAt, simulationArbitrary } from '../../simulator/index.js';
import { printable } from '../../simulator/report.js';
import { fixture, loadExpect, loadSimPolicy, loadTools, scenario } from './fixtures.js';

const ctx = (s: ReturnType<typeof scenario>) => ({
  policies: s.policies,
  command: 'mcp-replay simulate',
  catalog: 'test',
});
const render = (seed: number) => {
  const s = scenario('session-limit');
  const report = simulate({ ...s, runs: 60, seed });
  return [...humanReport(report, ctx(s)), ...jsonReport(report, ctx(s)).map((l) => JSON.stringify(l))].join('\n');
};

describe('simulate reports', () => {
  it('the same seed gives the same report, byte for byte', () => {
    const a = render(42);
    expect(render(42)).toBe(a);
    expect(render(43)).not.toBe(a);
  });

  it('with no violation, says how many streams and calls were tried', () => {
    const s = {
      policies: [loadSimPolicy(fixture('sound.policy.json'))],
      catalog: loadTools(fixture('srv-prefix.tools.json')),
      expectations: loadExpect(fixture('sound.expect.json')),
    };
    const report = simulate({ ...s, runs: 120, seed: 5 });
    expect(report.counterexamples).toEqual([]);
    expect(report.properties.map((p) => p.ok)).toEqual([true, true, true, true, true, true]);
    expect(report.streams).toBe(120);
    expect(report.calls).toBeGreaterThan(120);
    const text = humanReport(report, ctx(s));
    expect(text[1]).toBe(`tried 120 streams (${report.calls} calls) against 6 properties`);
    expect(text.at(-1)).toBe(`no violation in 120 streams (${report.calls} calls)`);
    // Outcome shares: every decision the sound policy can make shows up under generated traffic.
    const readFile = report.byTool[0]!.get('read_file')!;
    expect(readFile.allow).toBeGreaterThan(0);
    expect(readFile.deny).toBeGreaterThan(0);
    expect(readFile.throttle).toBeGreaterThan(0);
    const summary = jsonReport(report, ctx(s)).at(-1) as {
      type: string;
      byTool: Record<string, { shares: Record<string, number> }>;
    };
    expect(summary.type).toBe('summary');
    const shares = summary.byTool.read_file!.shares;
    expect(shares.allow! + shares.deny! + shares.throttle! + shares.approval!).toBeCloseTo(1, 3);
  });

  it('a reported seed and path reproduce the counterexample', () => {
    const s = scenario('glob-hole');
    const report = simulate({ ...s, runs: 100, seed: 9 });
    const [cx] = report.counterexamples;
    expect(streamAt(simulationArbitrary({ ...s, runs: 100, seed: 9 }), 9, cx!.path)).toEqual(cx!.calls);
    const again = simulate({ ...s, runs: 100, seed: 9, path: cx!.path });
    expect(again.streams).toBe(1);
    expect(again.counterexamples).toEqual([cx]);
  });

  it('with two policies, finds the smallest stream they decide differently', () => {
    const policies = [
      loadSimPolicy(fixture('glob-hole.policy.json')),
      loadSimPolicy(fixture('glob-hole-fixed.policy.json')),
    ];
    const report = simulate({ policies, catalog: loadTools(fixture('glob-hole.tools.json')), runs: 100, seed: 3 });
    const cx = report.counterexamples.find((c) => c.property === 'agree')!;
    expect(cx.calls).toHaveLength(1);
    expect(cx.calls[0]!.tool).toMatch(/^delete_temp_/);
    expect([cx.decisions[0]![0]!.decision, cx.decisions[1]![0]!.decision]).toEqual(['allow', 'deny']);
    const line = jsonReport(report, { policies, command: 'x', catalog: 'y' })[0] as {
      calls: { a: unknown; b: unknown }[];
    };
    expect(line.calls[0]).toMatchObject({ a: { decision: 'allow' }, b: { decision: 'deny' } });
  });

  it('derives a catalog from the policy keys when none is given (globs instantiated)', () => {
    const report = simulate({ policies: [loadSimPolicy(fixture('glob-hole.policy.json'))], runs: 50, seed: 1 });
    const tools = [...report.byTool[0]!.keys()];
    expect(tools).toEqual(expect.arrayContaining(['delete_x', 'delete_temp_x', 'read_file']));
  });

  it('with no tool to call at all, says what to give', () => {
    const empty = loadSimPolicy(fixture('glob-hole.policy.json'));
    const none = { ...empty, doc: { version: '1', default: 'allow' } };
    expect(() => simulate({ policies: [none], runs: 10, seed: 1 })).toThrow(
      /no tools to call.*--tools FILE or --from SESSION/,
    );
  });

  it('shows a tool name as it is: look-alike letters, bidi overrides and spaces escaped or quoted', () => {
    expect(printable('read_file')).toBe('read_file');
    expect(printable('r\u0435ad_file')).toBe('"r\\u0435ad_file"'); // a Cyrillic е
    expect(printable('echo\u202e')).toBe('"echo\\u202e"');
    expect(printable('a b')).toBe('"a b"');
    expect(printable('\u{1f600}')).toBe('"\\u{1f600}"');
  });
});
