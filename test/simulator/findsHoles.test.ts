import { describe, expect, it } from 'vitest';
import { compilePolicy } from '../../engine/index.js';
import { parseExpectations, simulate } from '../../simulator/index.js';
import { scenario } from './fixtures.js';

const RUNS = 150;

describe('simulate finds and shrinks the holes of issue 6', () => {
  it('(a) a glob-precedence hole: delete_temp_* allowed under a delete_* deny', () => {
    const report = simulate({ ...scenario('glob-hole'), runs: RUNS, seed: 1 });
    expect(report.properties.filter((p) => !p.ok).map((p) => p.id)).toEqual(['expect[0]']);
    const [cx] = report.counterexamples;
    expect(cx!.calls.length).toBeLessThanOrEqual(3);
    const shown = cx!.highlight.map((i) => [cx!.calls[i]!.tool, cx!.decisions[0]![i]!.decision]);
    expect(shown).toHaveLength(1);
    expect(shown[0]![0]).toMatch(/^delete_temp_/);
    expect(shown[0]![1]).toBe('allow');
    expect(cx!.decisions[0]![cx!.highlight[0]!]!.rule).toBe('tools.delete_temp_*');
  });

  it('(b) a per-session limit that lets more than N calls a minute through across sessions', () => {
    const report = simulate({ ...scenario('session-limit'), runs: RUNS, seed: 1 });
    // The engine keeps its own limit (limits holds); the user's global bound does not.
    expect(report.properties.find((p) => p.id === 'limits')!.ok).toBe(true);
    const [cx] = report.counterexamples;
    expect(cx!.property).toBe('expect[0]');
    // 3 per minute per session: the smallest violation is 4 allowed calls in 2 sessions.
    expect(cx!.calls.length).toBeLessThanOrEqual(6);
    const over = cx!.highlight.map((i) => cx!.calls[i]!);
    expect(over.length).toBe(4);
    expect(new Set(over.map((c) => c.session)).size).toBeGreaterThanOrEqual(2);
    expect(Math.max(...over.map((c) => c.at)) - Math.min(...over.map((c) => c.at))).toBeLessThan(60_000);
    expect(cx!.highlight.every((i) => cx!.decisions[0]![i]!.decision === 'allow')).toBe(true);
  });

  it('(c) an args pattern ^/srv/ that admits /srv/../etc/passwd — found only with adversarial values', () => {
    for (const seed of [1, 2, 3]) {
      const report = simulate({ ...scenario('srv-prefix'), runs: RUNS, seed });
      const [cx] = report.counterexamples;
      expect(cx?.property).toBe('expect[0]');
      expect(cx!.calls.length).toBeLessThanOrEqual(3);
      const path = (cx!.calls[cx!.highlight[0]!]!.args as { path: string }).path;
      expect(path.startsWith('/srv/')).toBe(true);
      expect(path).toMatch(/\/etc\//);
      expect(path).toMatch(/\.\.|%2e/);
      // Schema-only values never reach it: the adversarial generator is what finds the hole.
      const plain = simulate({ ...scenario('srv-prefix'), runs: RUNS, seed, adversarial: false });
      expect(plain.counterexamples).toEqual([]);
      expect(plain.calls).toBeGreaterThan(0);
    }
  });

  it('finds all three whatever the seed (a random one, printed on failure)', () => {
    const seed = Math.floor(Math.random() * 2 ** 31);
    for (const [name, size] of [
      ['glob-hole', 3],
      ['session-limit', 6],
      ['srv-prefix', 3],
    ] as const) {
      const report = simulate({ ...scenario(name), runs: RUNS, seed });
      const cx = report.counterexamples.find((c) => c.property === 'expect[0]');
      expect(cx, `${name} --seed ${seed}`).toBeDefined();
      expect(cx!.calls.length, `${name} --seed ${seed}`).toBeLessThanOrEqual(size);
    }
  });
});

describe('simulate calls what the expectations and overlapping globs name', () => {
  const sim = (policy: object, expect: object, seed = 1) => {
    const text = JSON.stringify(policy);
    const compiled = compilePolicy(text);
    if (!compiled.ok) throw new Error(JSON.stringify(compiled.errors));
    return simulate({
      policies: [{ name: 'p.json', policy: compiled.policy, doc: policy }],
      expectations: parseExpectations('e.json', JSON.stringify(expect)),
      runs: RUNS,
      seed,
    });
  };

  it('an expectation about a tool no policy key names is tested (default allow lets it through)', () => {
    const report = sim(
      { version: '1', default: 'allow', tools: { read_file: {} } },
      { expect: [{ tool: 'exec', never: 'allow' }] },
    );
    expect(report.counterexamples.map((c) => c.calls[c.highlight[0]!]!.tool)).toEqual(['exec']);
  });

  it('a name two globs both match is drawn: the one with the longer literal wins it', () => {
    const report = sim(
      { version: '1', default: 'deny', tools: { 'delete_*': { action: 'deny' }, '*_temp_file': {} } },
      { expect: [{ tool: 'delete_*', never: 'allow' }] },
    );
    const [cx] = report.counterexamples;
    expect(cx!.calls[cx!.highlight[0]!]!.tool).toMatch(/^delete_.*_temp_file$/);
    expect(cx!.decisions[0]![cx!.highlight[0]!]!.rule).toBe('tools.*_temp_file');
  });

  it('an unanchored args pattern (/srv/) admits /etc/…/srv/: found with the expectation SPEC §6 writes', () => {
    const policy = {
      version: '1',
      default: 'deny',
      tools: {
        read_file: {
          args: { type: 'object', properties: { path: { type: 'string', pattern: '/srv/' } }, required: ['path'] },
        },
      },
    };
    const etc = { properties: { path: { pattern: '^/etc/' } }, required: ['path'] };
    for (const seed of [1, 2, 3]) {
      const [cx] = sim(policy, { expect: [{ tool: 'read_file', when: etc, never: 'allow' }] }, seed).counterexamples;
      expect((cx!.calls[cx!.highlight[0]!]!.args as { path: string }).path, `seed ${seed}`).toMatch(
        /^\/etc\/.*\/srv\//,
      );
    }
  });

  it('a pattern that admits any last segment (^/tmp/x/[^/]+$) lets /tmp/x/.. (the parent) through: found', () => {
    const policy = {
      version: '1',
      default: 'deny',
      tools: { write_file: { args: { properties: { path: { type: 'string', pattern: '^/tmp/x/[^/]+$' } } } } },
    };
    const inside = { properties: { path: { not: { pattern: '^/tmp/x/(?!\\.\\.?$)[^/]+$' } } }, required: ['path'] };
    for (const seed of [1, 2, 3]) {
      const [cx] = sim(
        policy,
        { expect: [{ tool: 'write_file', when: inside, never: 'allow' }] },
        seed,
      ).counterexamples;
      expect(cx?.calls[cx.highlight[0]!]!.args, `seed ${seed}`).toEqual({ path: '/tmp/x/.' });
    }
  });

  it('a value an expectation names (const, enum) is drawn where a string goes', () => {
    for (const seed of [1, 2, 3]) {
      const report = sim(
        { version: '1', default: 'allow', tools: { search: {} } },
        {
          expect: [
            { tool: 'search', when: { properties: { q: { const: 'admin' } }, required: ['q'] }, never: 'allow' },
            { tool: 'search', when: { properties: { r: { enum: ['root'] } }, required: ['r'] }, never: 'allow' },
          ],
        },
        seed,
      );
      const args = report.counterexamples.map((c) => c.calls[c.highlight[0]!]!.args);
      expect(args, `seed ${seed}`).toEqual([{ q: 'admin' }, { r: 'root' }]);
    }
  });

  it('says which expectations no generated call matched (they tested nothing)', () => {
    const report = sim(
      { version: '1', default: 'deny', tools: { a: {} } },
      {
        expect: [
          // No arguments satisfy `not: {}`: nothing drawn can match it.
          { tool: 'a', when: { not: {} }, never: 'allow' },
          { tool: 'a', never: 'deny' },
        ],
      },
    );
    expect(report.properties.filter((p) => p.id.startsWith('expect')).map((p) => [p.id, p.calls! > 0])).toEqual([
      ['expect[0]', false],
      ['expect[1]', true],
    ]);
  });
});
