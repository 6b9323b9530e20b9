import { describe, expect, it } from 'vitest';
import { runCli } from './runCli.js';

describe('mcp-replay demo (built CLI)', () => {
  it('records the scripted agent through the real recorder, replays, diffs, and says what to run next', () => {
    const r = runCli(['demo']);
    expect(r.code).toBe(0);
    expect(r.stderr).toMatch(/^recording: demo-agent → mcp-replay record → demo MCP server \(db .*demo\.db\)\n/);
    const id = /session (\w{26}): \d+ messages, 14 tool calls \(7 tools listed\)/.exec(r.stdout)?.[1];
    expect(id, r.stdout).toBeDefined();
    expect(r.stdout).toContain('under fixtures/policies/seed.json: 10 allow, 4 deny, 0 throttle, 0 approval');
    expect(r.stdout).toContain('under fixtures/policies/strict.json: 5 allow, 6 deny, 3 throttle, 0 approval');
    expect(r.stdout).toContain('14 calls, 5 changed');
    expect(r.stdout).toMatch(/invoke_agent_runtime\s+10\s+5\s+2\s+3\n/);
    expect(r.stdout).toMatch(
      /allow\s+deny\s+tools\.invoke_agent_runtime\s+tools\.invoke_agent_runtime\.args\s+allowed by tools\.invoke_agent_runtime → argument agentRuntimeArn must match pattern/,
    );

    // The printed next step works as printed, on the recorded session.
    const next = r.stdout.split('\n').find((l) => l.trim().startsWith('npx mcp-replay diff '))!;
    const args = next.trim().split(/\s+/).slice(2);
    expect(args).toContain(id);
    const diff = runCli([...args, '--json']);
    expect(diff.code).toBe(0);
    const lines = diff.stdout
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l));
    expect(lines.at(-1)).toMatchObject({
      calls: 14,
      changed: 5,
      transitions: { 'allow->deny': 2, 'allow->throttle': 3 },
    });
    expect(lines.filter((l) => l.type === 'change').map((l) => l.session)).toEqual([id, id, id, id, id]);
  });
});
