import { execFile } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, describe, expect, it } from 'vitest';
import { openStore } from '../../store/index.js';

const run = promisify(execFile);
const cli = join(import.meta.dirname, '../../dist/cli/main.js');
const dir = mkdtempSync(join(tmpdir(), 'mcp-replay-show-decisions-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('an enforced session in sessions show and replay', () => {
  it('shows what the gateway decided for each call, and replay sets it beside the dry-run', async () => {
    const db = join(dir, 'enforced.db');
    const store = openStore(db);
    const startedAt = '2026-11-24T10:00:00.000Z';
    const t0 = Date.parse(startedAt);
    store.insertSession({ id: 'LIVE1', startedAt, transport: 'stdio' });
    const msg = (seq: number, t: number, dir: 'c2s' | 's2c', m: Record<string, unknown>) =>
      store.appendMessage(
        'LIVE1',
        seq,
        t,
        dir,
        JSON.stringify({ jsonrpc: '2.0', ...m }),
        (m.method as string) ?? null,
        null,
      );
    const denied = {
      content: [{ type: 'text', text: 'Denied by policy: no rule for tool get-env; default deny' }],
      isError: true,
    };
    msg(0, 1000, 'c2s', { id: 1, method: 'tools/call', params: { name: 'echo', arguments: { message: 'hi' } } });
    msg(1, 3000, 's2c', { id: 1, result: { content: [{ type: 'text', text: 'Echo: hi' }] } });
    msg(2, 4000, 'c2s', { id: 2, method: 'tools/call', params: { name: 'get-env', arguments: {} } });
    msg(3, 4100, 's2c', { id: 2, result: denied });
    msg(4, 5000, 'c2s', { id: 'r', method: 'tools/call', params: { name: 'run', arguments: {} } });
    msg(5, 9000, 's2c', { id: 'r', result: { content: [] } });
    const base = { sessionId: 'LIVE1', policySha256: 'f'.repeat(64), enforced: true };
    store.recordDecision({
      ...base,
      seq: 0,
      rpcId: '1',
      tool: 'echo',
      decision: 'allow',
      reason: 'allowed by tools.echo',
      rule: 'tools.echo',
      at: t0 + 1,
    });
    store.recordDecision({
      ...base,
      seq: 2,
      rpcId: '2',
      tool: 'get-env',
      decision: 'deny',
      reason: 'no rule for tool get-env; default deny',
      rule: 'default',
      at: t0 + 4,
    });
    store.recordDecision({
      ...base,
      seq: 4,
      rpcId: '"r"',
      tool: 'run',
      decision: 'approval',
      reason: 'run requires approval',
      rule: 'tools.run',
      at: t0 + 5,
    });
    store.recordDecision({
      ...base,
      seq: 4,
      rpcId: '"r"',
      tool: 'run',
      decision: 'allow',
      reason: 'run requires approval: approved by bob',
      rule: 'tools.run',
      at: t0 + 8,
    });
    store.close();

    const policy = join(dir, 'candidate.json');
    writeFileSync(
      policy,
      JSON.stringify({
        version: '1',
        default: 'deny',
        tools: { echo: {}, 'get-env': {}, run: { action: 'require_approval' } },
      }),
    );
    const [human, json, replayHuman, replayJson] = await Promise.all([
      run(process.execPath, [cli, 'sessions', 'show', '--db', db, 'LIVE1']),
      run(process.execPath, [cli, 'sessions', 'show', '--db', db, '--json', 'LIVE1']),
      run(process.execPath, [cli, 'replay', '--policy', policy, '--db', db]),
      run(process.execPath, [cli, 'replay', '--policy', policy, '--db', db, '--json']),
    ]);

    // replay: the live decision beside the dry-run's; differences marked and counted.
    const replayed = replayJson.stdout
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l) as Record<string, unknown>);
    expect(replayed.filter((l) => l.type === 'decision').map((l) => [l.tool, l.decision, l.enforced])).toEqual([
      [
        'echo',
        'allow',
        { decision: 'allow', reason: 'allowed by tools.echo', rule: 'tools.echo', policy: 'f'.repeat(64) },
      ],
      [
        'get-env',
        'allow',
        { decision: 'deny', reason: 'no rule for tool get-env; default deny', rule: 'default', policy: 'f'.repeat(64) },
      ],
      [
        'run',
        'approval',
        // The engine's verdict, and what came of the approval.
        {
          decision: 'approval',
          reason: 'run requires approval',
          rule: 'tools.run',
          policy: 'f'.repeat(64),
          outcome: 'allow',
        },
      ],
    ]);
    expect(replayHuman.stdout).toMatch(/get-env\s+allow\s+tools\.get-env\s+allowed by tools\.get-env \[live: deny\]\n/);
    expect(replayHuman.stdout).toContain('3 calls were enforced live; 1 decided differently by this policy');
    const lines = human.stdout.split('\n');
    expect(lines.find((l) => l.startsWith('SEQ'))).toMatch(/^SEQ\s+T \(s\)\s+CALL\s+LATENCY\s+POLICY\s+OUTCOME$/);
    expect(lines.find((l) => l.startsWith('0 '))).toMatch(
      /^0\s+0\.001\s+echo \{"message":"hi"\}\s+2\.0 ms\s+allow\s+ok$/,
    );
    expect(lines.find((l) => l.startsWith('2 '))).toMatch(
      /^2\s+0\.004\s+get-env \{\}\s+0\.1 ms\s+deny\s+tool error: Denied by policy/,
    );
    expect(lines.find((l) => l.startsWith('4 '))).toMatch(/^4\s+0\.005\s+run \{\}\s+4\.0 ms\s+approval→allow\s+ok$/);
    // The OUTCOME column lines up under its header, whatever the longest POLICY cell.
    const at = lines.find((l) => l.startsWith('SEQ'))!.indexOf('OUTCOME');
    expect(['0 ', '2 ', '4 '].map((p) => lines.find((l) => l.startsWith(p))!.slice(at, at + 2))).toEqual([
      'ok',
      'to',
      'ok',
    ]);

    const calls = json.stdout
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l) as Record<string, unknown>)
      .filter((l) => l.type === 'call');
    expect(calls.map((c) => (c.decisions as { decision: string }[]).map((d) => d.decision))).toEqual([
      ['allow'],
      ['deny'],
      ['approval', 'allow'],
    ]);
    expect((calls[1]!.decisions as unknown[])[0]).toEqual({
      decision: 'deny',
      reason: 'no rule for tool get-env; default deny',
      rule: 'default',
      enforced: true,
      policy: 'f'.repeat(64),
      at: new Date(t0 + 4).toISOString(),
    });
  });

  it("replay tells a shadow gateway's decisions (recorded, not enforced) from enforced ones", async () => {
    const db = join(dir, 'shadow.db');
    const store = openStore(db);
    const startedAt = '2026-11-24T10:00:00.000Z';
    const t0 = Date.parse(startedAt);
    store.insertSession({ id: 'SHADOW1', startedAt, transport: 'stdio' });
    const call = (seq: number, id: number, name: string) =>
      store.appendMessage(
        'SHADOW1',
        seq,
        1000 * (seq + 1),
        'c2s',
        JSON.stringify({ jsonrpc: '2.0', id, method: 'tools/call', params: { name, arguments: {} } }),
        'tools/call',
        null,
      );
    call(0, 1, 'echo');
    call(1, 2, 'get-env');
    const base = { sessionId: 'SHADOW1', policySha256: 'f'.repeat(64), enforced: false, tool: 'x' };
    store.recordDecision({
      ...base,
      seq: 0,
      rpcId: '1',
      decision: 'allow',
      reason: 'ok',
      rule: 'tools.echo',
      at: t0 + 1,
    });
    store.recordDecision({ ...base, seq: 1, rpcId: '2', decision: 'deny', reason: 'no', rule: 'default', at: t0 + 2 });
    store.close();
    const policy = join(dir, 'allow-all.json');
    writeFileSync(policy, JSON.stringify({ version: '1', default: 'allow', tools: {} }));
    const [human, json] = await Promise.all([
      run(process.execPath, [cli, 'replay', '--policy', policy, '--db', db]),
      run(process.execPath, [cli, 'replay', '--policy', policy, '--db', db, '--json']),
    ]);
    const decided = json.stdout
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l) as Record<string, unknown>)
      .filter((l) => l.type === 'decision');
    expect(decided.map((l) => l.enforced)).toEqual([
      { decision: 'allow', reason: 'ok', rule: 'tools.echo', policy: 'f'.repeat(64), shadow: true },
      { decision: 'deny', reason: 'no', rule: 'default', policy: 'f'.repeat(64), shadow: true },
    ]);
    expect(human.stdout).toMatch(
      /get-env\s+allow\s+default\s+no rule for tool get-env; default allow \[live: deny \(shadow\)\]\n/,
    );
    expect(human.stdout).toContain(
      '2 calls were decided live, 2 of them by a shadow gateway (not enforced); 1 decided differently',
    );
    expect(human.stdout).not.toContain('enforced live');
  });

  it('replay --assume-approval deny does not count a live approval nobody granted as decided differently', async () => {
    const db = join(dir, 'unanswered.db');
    const store = openStore(db);
    const startedAt = '2026-11-24T10:00:00.000Z';
    const t0 = Date.parse(startedAt);
    store.insertSession({ id: 'ASK1', startedAt, transport: 'stdio' });
    store.appendMessage(
      'ASK1',
      0,
      1000,
      'c2s',
      JSON.stringify({ jsonrpc: '2.0', id: 1, method: 'tools/call', params: { name: 'run', arguments: {} } }),
      'tools/call',
      null,
    );
    const base = {
      sessionId: 'ASK1',
      seq: 0,
      rpcId: '1',
      tool: 'run',
      rule: 'tools.run',
      policySha256: 'f'.repeat(64),
    };
    const asked = {
      ...base,
      enforced: true,
      decision: 'approval' as const,
      reason: 'run requires approval',
      at: t0 + 1,
    };
    store.recordDecision(asked);
    store.recordDecision({
      ...asked,
      decision: 'deny',
      reason: 'run requires approval: no answer in 60 s',
      at: t0 + 2,
    });
    store.close();
    const policy = join(dir, 'ask.json');
    writeFileSync(
      policy,
      JSON.stringify({ version: '1', default: 'deny', tools: { run: { action: 'require_approval' } } }),
    );
    const replays = await Promise.all(
      ['grant', 'deny'].map((a) =>
        run(process.execPath, [cli, 'replay', '--assume-approval', a, '--policy', policy, '--db', db]),
      ),
    );
    for (const r of replays) {
      expect(r.stdout).toContain('1 call was enforced live; 0 decided differently by this policy');
      expect(r.stdout).not.toMatch(/\[live: [a-z]/);
    }
  });
});
