import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';

const root = join(import.meta.dirname, '../..');
const tmp = mkdtempSync(join(tmpdir(), 'mcp-replay-simulate-'));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

function cli(...args: string[]) {
  const r = spawnSync(process.execPath, [join(root, 'dist/cli/main.js'), ...args], {
    cwd: root,
    encoding: 'utf8',
    env: { ...process.env, MCP_REPLAY_DB: join(tmp, 'test.db') },
  });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr };
}
const jsonLines = (text: string) =>
  text
    .trim()
    .split('\n')
    .map((l) => JSON.parse(l) as Record<string, unknown>);
const f = (name: string) => `fixtures/simulate/${name}`;
const scenario = (name: string) => [
  '--policy',
  f(`${name}.policy.json`),
  '--tools',
  f(`${name}.tools.json`),
  '--expect',
  f(`${name}.expect.json`),
];

interface CxCall {
  at: number;
  session: string;
  tool: string;
  args: unknown;
  decision?: string;
  a?: { decision: string };
  b?: { decision: string };
}

describe('mcp-replay simulate (built CLI)', () => {
  it('finds the glob-precedence hole, exits 3, prints the seed and path that reproduce it', () => {
    const r = cli('simulate', ...scenario('glob-hole'), '--seed', '1', '--runs', '100');
    expect(r.code).toBe(3);
    expect(r.stdout).toContain('FAIL  expect[0]: delete_* never allow');
    const repro = /reproduce: (.*) --seed 1 --path (\S+)/.exec(r.stdout)!;
    expect(repro[1]).toBe(`mcp-replay simulate ${scenario('glob-hole').join(' ')}`);
    // The printed command reproduces the same counterexample, line for line.
    const again = cli('simulate', ...scenario('glob-hole'), '--seed', '1', '--path', repro[2]!);
    expect(again.code).toBe(3);
    const block = (text: string) => text.slice(text.indexOf('counterexample for'), text.indexOf('reproduce:'));
    expect(block(again.stdout)).toBe(block(r.stdout));
    expect(block(r.stdout)).toMatch(/shrunk to 1 call:/);
  });

  it('--json: counterexample lines, then a summary with outcome shares per tool', () => {
    const r = cli('simulate', ...scenario('session-limit'), '--seed', '2', '--runs', '80', '--json');
    expect(r.code).toBe(3);
    const lines = jsonLines(r.stdout);
    expect(lines.map((l) => l.type)).toEqual(['counterexample', 'summary']);
    expect(lines[0]).toMatchObject({ type: 'counterexample', property: 'expect[0]', seed: 2 });
    expect(typeof lines[0]!.path).toBe('string');
    const calls = lines[0]!.calls as CxCall[];
    expect(calls[0]).toEqual(
      expect.objectContaining({ at: expect.any(Number), session: 's1', tool: 'invoke_agent_runtime' }),
    );
    const summary = lines[1]!;
    expect(summary).toMatchObject({ type: 'summary', seed: 2, streams: 80, violations: 1 });
    const byTool = summary.byTool as Record<string, { calls: number; shares: Record<string, number> }>;
    expect(byTool.invoke_agent_runtime!.calls).toBeGreaterThan(0);
    expect(Object.keys(byTool.invoke_agent_runtime!.shares)).toEqual(['allow', 'deny', 'throttle', 'approval']);
  });

  it('--out onto the db is refused before the run (writing the counterexample truncated every recording)', () => {
    const db = join(tmp, 'out.db');
    expect(cli('sessions', 'import', '--db', db, 'fixtures/sessions/seed-15-calls.jsonl').code).toBe(0);
    const size = statSync(db).size;
    const r = cli('simulate', ...scenario('session-limit'), '--seed', '3', '--runs', '80', '--db', db, '--out', db);
    expect([r.code, r.stdout, r.stderr]).toEqual([2, '', `mcp-replay: --out ${db}: it is the database ${db} (--db)\n`]);
    expect(statSync(db).size).toBe(size);
    expect(cli('sessions', 'list', '--json', '--db', db).stdout).toContain('"id":"seed-15-calls"');
  });

  it('--out a folder is refused before the run; a file it cannot write is not reported as written', () => {
    const dir = mkdtempSync(join(tmp, 'outdir-'));
    const r = cli('simulate', ...scenario('session-limit'), '--seed', '3', '--runs', '80', '--out', dir);
    expect([r.code, r.stdout, r.stderr]).toEqual([
      2,
      '',
      `mcp-replay: --out ${dir}: is a directory (give a file name)\n`,
    ]);
    // The second session's file beside it cannot be written (a folder has its name).
    const out = join(dir, 'cx.jsonl');
    mkdirSync(join(dir, 'cx.s2.jsonl'));
    const half = cli('simulate', ...scenario('session-limit'), '--seed', '3', '--runs', '80', '--json', '--out', out);
    expect(half.code).toBe(3);
    expect(half.stderr).toContain(`mcp-replay: --out ${join(dir, 'cx.s2.jsonl')}: cannot write: is a directory\n`);
    expect(half.stderr).not.toContain('simulate: wrote');
    expect(half.stderr).toContain('simulate: the counterexample was not written whole');
  });

  it('--out writes the counterexample as JSONL that replay reproduces decision for decision (one file per session)', () => {
    const out = join(tmp, 'limit.jsonl');
    const r = cli('simulate', ...scenario('session-limit'), '--seed', '3', '--runs', '80', '--json', '--out', out);
    expect(r.code).toBe(3);
    const cx = jsonLines(r.stdout)[0]!;
    const calls = cx.calls as CxCall[];
    const sessions = [...new Set(calls.map((c) => c.session))].sort();
    expect(sessions.length).toBeGreaterThanOrEqual(2);
    const files = sessions.map((s, i) => (i === 0 ? out : out.replace(/\.jsonl$/, `.${s}.jsonl`)));
    for (const file of files) expect(existsSync(file)).toBe(true);
    expect(r.stderr).toContain(files.join(', '));
    const replay = cli('replay', '--policy', f('session-limit.policy.json'), '--json', ...files);
    expect(replay.code).toBe(0);
    const decisions = jsonLines(replay.stdout).filter((l) => l.type === 'decision');
    expect(decisions.map((d) => [d.tool, d.args, d.decision])).toEqual(calls.map((c) => [c.tool, c.args, c.decision]));
    // Times are the stream's own (µs since the common start).
    expect(decisions.map((d) => d.t)).toEqual(calls.map((c) => c.at * 1000));
  });

  const agreeArgs = [
    '--policy',
    f('glob-hole.policy.json'),
    '--policy',
    f('glob-hole-fixed.policy.json'),
    '--tools',
    f('glob-hole.tools.json'),
    '--seed',
    '4',
    '--runs',
    '80',
    '--json',
  ];

  it('two policies: the smallest stream they decide differently, written for replay under each', () => {
    const out = join(tmp, 'agree.jsonl');
    const r = cli('simulate', ...agreeArgs, '--out', out);
    expect(r.code).toBe(3);
    const lines = jsonLines(r.stdout);
    // The only violated property is "agree", so it is the counterexample --out wrote.
    expect(lines.filter((l) => l.type === 'counterexample').map((l) => l.property)).toEqual(['agree']);
    const calls = lines[0]!.calls as CxCall[];
    expect(calls).toHaveLength(1);
    expect([calls[0]!.a!.decision, calls[0]!.b!.decision]).toEqual(['allow', 'deny']);
    const decisionsUnder = (policy: string) =>
      jsonLines(cli('replay', '--policy', policy, '--json', out).stdout)
        .filter((l) => l.type === 'decision')
        .map((l) => [l.tool, l.decision]);
    expect(decisionsUnder(f('glob-hole.policy.json'))).toEqual([[calls[0]!.tool, 'allow']]);
    expect(decisionsUnder(f('glob-hole-fixed.policy.json'))).toEqual([[calls[0]!.tool, 'deny']]);
  });

  // diff is built on another branch; this runs once it is merged.
  const hasDiff = cli('diff', '--help').stdout.includes('Usage: mcp-replay diff');
  it.skipIf(!hasDiff)('diff accepts the counterexample file and shows the change simulate found', () => {
    const out = join(tmp, 'agree-diff.jsonl');
    const r = cli('simulate', ...agreeArgs, '--out', out);
    const call = (jsonLines(r.stdout)[0]!.calls as CxCall[])[0]!;
    const d = cli(
      'diff',
      '--policy',
      f('glob-hole.policy.json'),
      '--policy',
      f('glob-hole-fixed.policy.json'),
      '--json',
      out,
    );
    expect(d.code).toBe(0);
    const changes = jsonLines(d.stdout).filter((l) => l.type === 'change');
    expect(changes).toHaveLength(1);
    expect(changes[0]).toMatchObject({ tool: call.tool, a: { decision: 'allow' }, b: { decision: 'deny' } });
  });

  it('bad input: one line naming the file and JSON path, exit 2', () => {
    const bad = join(tmp, 'bad.expect.json');
    writeFileSync(bad, '{ "expect": [\n  { "tool": "x", "never": "alow" }\n] }\n');
    const r = cli('simulate', '--policy', f('glob-hole.policy.json'), '--expect', bad);
    expect(r.code).toBe(2);
    expect(r.stderr).toBe(`mcp-replay: ${bad}:2:18: expect[0].never: expected "allow"|"deny"|"throttle"|"approval"\n`);
    const tools = join(tmp, 'bad.tools.json');
    writeFileSync(tools, '[{ "name": "x" }]');
    const t = cli('simulate', '--policy', f('glob-hole.policy.json'), '--tools', tools);
    expect(t.code).toBe(2);
    expect(t.stderr).toMatch(new RegExp(`^mcp-replay: ${tools}:1:\\d+: \\[0\\]\\.inputSchema: .*\\n$`));
    for (const flags of [
      ['--seed', 'x'],
      ['--runs', '0'],
      ['--path', '1:a', '--seed', '1'],
      ['--path', '1'],
    ]) {
      const u = cli('simulate', '--policy', f('glob-hole.policy.json'), ...flags);
      expect(u.code).toBe(2);
      expect(u.stderr.trim().split('\n')[0]).toMatch(/--seed|--runs|--path/);
      expect(u.stderr).not.toMatch(/\n\s+at /);
    }
  });

  it('with no catalog, derives names from the policy keys and says so; no violation exits 0', () => {
    const r = cli('simulate', '--policy', f('glob-hole-fixed.policy.json'), '--seed', '5', '--runs', '50');
    expect(r.code).toBe(0);
    expect(r.stdout).toContain('tool names derived from the policy keys');
    expect(r.stdout).toMatch(/no violation in 50 streams \(\d+ calls\)/);
    expect(cli('simulate', '--help').stdout).toContain('--expect <file>');
  });

  it('--from reads the catalog from the tools/list of a session in the db', () => {
    expect(cli('sessions', 'import', f('with-tools-list.jsonl')).code).toBe(0);
    const r = cli(
      'simulate',
      '--policy',
      f('glob-hole.policy.json'),
      '--from',
      'with-tools-list',
      '--expect',
      f('glob-hole.expect.json'),
      '--seed',
      '6',
      '--runs',
      '80',
    );
    expect(r.code).toBe(3);
    expect(r.stdout).toContain('2 tools from the tools/list recorded in with-tools-list');
    expect(r.stdout).toContain('FAIL  expect[0]: delete_* never allow');
  });

  it('exits 2, not 1, for a --path the seed never reported, an --out folder that is not there, an empty catalog', () => {
    const policy = f('glob-hole.policy.json');
    const badPath = cli('simulate', '--policy', policy, '--seed', '1', '--path', '3:99:99:99');
    expect([badPath.code, badPath.stderr.trim()]).toEqual([
      2,
      'mcp-replay: --path 3:99:99:99: names no stream for seed 1',
    ]);
    const badOut = cli('simulate', '--policy', policy, '--out', join(tmp, 'no/such/x.jsonl'));
    expect(badOut.code).toBe(2);
    expect(badOut.stderr).toMatch(/--out .*: no such folder/);
    writeFileSync(join(tmp, 'empty.tools.json'), '[]');
    const empty = cli('simulate', '--policy', policy, '--tools', join(tmp, 'empty.tools.json'));
    expect(empty.code).toBe(2);
    expect(empty.stderr).toMatch(/empty\.tools\.json:1:1: .*lists no tools/);
  });

  it('reads a policy with a byte order mark, or from a pipe, as replay does (it was read twice)', () => {
    const text = JSON.stringify({ version: '1', default: 'deny', tools: { 'delete_*': { action: 'deny' } } });
    writeFileSync(join(tmp, 'bom.policy.json'), '\ufeff' + text);
    const bom = cli('simulate', '--policy', join(tmp, 'bom.policy.json'), '--runs', '5', '--seed', '1', '--json');
    expect([bom.code, bom.stderr]).toEqual([0, '']);
    // A pipe, as a shell makes one (`cat p.json | …`, `<(…)`): it can be read only once.
    writeFileSync(join(tmp, 'plain.policy.json'), text);
    const piped = spawnSync(
      'bash',
      [
        '-c',
        `cat "${join(tmp, 'plain.policy.json')}" | "${process.execPath}" dist/cli/main.js simulate --policy /dev/stdin --runs 5 --seed 1 --json`,
      ],
      { cwd: root, encoding: 'utf8', env: { ...process.env, MCP_REPLAY_DB: join(tmp, 'test.db') } },
    );
    expect([piped.status, piped.stderr]).toEqual([0, '']);
    expect(jsonLines(piped.stdout).at(-1)).toMatchObject({ type: 'summary' });
  });
});
