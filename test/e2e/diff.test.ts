import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { oneCallSession, runCli as cli, tempDir, tempFile } from './runCli.js';

const seed = 'fixtures/policies/seed.json';
const strict = 'fixtures/policies/strict.json';
const session = 'fixtures/sessions/seed-15-calls.jsonl';

describe('mcp-replay diff (built CLI)', () => {
  let fromFile = '';
  it('prints an aligned table of the changed calls and the matrix per tool', () => {
    const r = cli(['diff', '--policy', seed, '--policy', strict, session]);
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    const lines = r.stdout.split('\n');
    expect(lines[0]).toBe(`A ${seed} → B ${strict}`);
    const header = lines.find((l) => l.startsWith('TIME'))!;
    expect(header).toMatch(/^TIME\s+SESSION\s+TOOL\s+A\s+B\s+RULE A\s+RULE B\s+REASON A → REASON B$/);
    const rows = lines.filter((l) => l.startsWith('+'));
    expect(rows).toHaveLength(5);
    // Aligned: every row's B column starts where the header's does.
    const col = header.indexOf('RULE B');
    for (const row of rows) {
      expect(row).toMatch(/invoke_agent_runtime\s+allow\s+throttle/);
      expect(row.slice(col)).toMatch(/^tools\.invoke_agent_runtime\.limits\[0\]\s/);
    }
    expect(r.stdout).toContain('15 calls, 5 changed');
    expect(r.stdout).toMatch(/TOOL\s+CALLS\s+CHANGED\s+allow->throttle\n/);
    expect(r.stdout).toMatch(/invoke_agent_runtime\s+14\s+5\s+5\n/);
    expect(r.stdout).toMatch(/\(all\)\s+15\s+5\s+5\n/);
  });

  it('--json gives change lines then the summary (SPEC §5); --fail-on-change exits 3', () => {
    const r = cli(['diff', '--json', '--fail-on-change', '--policy', seed, '--policy', strict, session]);
    expect(r.code).toBe(3);
    expect(r.stderr).toBe('mcp-replay: 5 call(s) changed decision (allow->throttle 5)\n');
    const lines = r.stdout
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l));
    expect(lines).toHaveLength(6);
    expect(lines[0]).toEqual({
      type: 'change',
      session: 'seed-15-calls',
      seq: 13,
      t: 5_000_000,
      tool: 'invoke_agent_runtime',
      args: { agentRuntimeArn: 'arn:aws:bedrock-agentcore:us-east-1:123456789012:runtime/demo', payload: 'task 6' },
      a: { decision: 'allow', reason: 'allowed by tools.invoke_agent_runtime', rule: 'tools.invoke_agent_runtime' },
      b: {
        decision: 'throttle',
        reason:
          'tools.invoke_agent_runtime.limits[0]: at most 5 calls per minute per grant (counter invoke_agent_runtime_rate)',
        rule: 'tools.invoke_agent_runtime.limits[0]',
        retryAfterMs: 55_002,
      },
    });
    expect(lines[5]).toMatchObject({ type: 'summary', calls: 15, changed: 5, transitions: { 'allow->throttle': 5 } });
    fromFile = r.stdout;
  });

  it('--allow-transition lets expected changes pass', () => {
    const ok = cli([
      'diff',
      '--fail-on-change',
      '--allow-transition',
      'allow->throttle',
      '--policy',
      seed,
      '--policy',
      strict,
      session,
    ]);
    expect(ok.code).toBe(0);
    expect(ok.stdout).toContain('15 calls, 5 changed');
  });

  it('reads every session in the db when none is given, with the same result as the file', () => {
    const db = join(tempDir(), 'rec.db');
    expect(cli(['sessions', 'import', '--db', db, session]).code).toBe(0);
    const fromDb = cli(['diff', '--db', db, '--json', '--policy', seed, '--policy', strict]);
    expect(fromDb.stderr).toBe('');
    expect(fromDb.stdout).toBe(fromFile);
  });

  it('bad usage and bad input exit 2 with one line', () => {
    const one = cli(['diff', '--policy', seed, session]);
    expect(one.code).toBe(2);
    expect(one.stderr).toBe('mcp-replay: diff needs exactly two --policy files (A and B), got 1\n');
  });

  it('shows the controls and invisible characters of recorded text as escapes in the table; --json keeps them', () => {
    const tool = 'delete_\u001b[31mred\u001b[0m\u202e\r\nx';
    const file = oneCallSession(tool);
    const open = tempFile('open.json', JSON.stringify({ version: '1', default: 'allow', tools: {} }));
    const r = cli(['diff', '--policy', open, '--policy', strict, file]);
    expect(r.code).toBe(0);
    expect(r.stdout).toContain('1 call, 1 changed');
    for (const ch of ['\u001b', '\u202e', '\r']) expect(r.stdout).not.toContain(ch);
    expect(r.stdout).toContain('delete_\\u001b[31mred\\u001b[0m\\u202e\\u000d\\u000ax');
    const json = cli(['diff', '--json', '--policy', open, '--policy', strict, file]);
    expect(JSON.parse(json.stdout.split('\n')[0]!).tool).toBe(tool);
  });
});
