import { execFile } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, describe, expect, it } from 'vitest';
import { openStore } from '../../store/index.js';

const run = promisify(execFile);
const cli = join(import.meta.dirname, '../../dist/cli/main.js');
const dir = mkdtempSync(join(tmpdir(), 'mcp-replay-approvals-cli-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('mcp-replay approvals without a terminal', () => {
  it('prints the pending list (a table, or JSON Lines with --json) and exits', async () => {
    const db = join(dir, 'cli.db');
    const store = openStore(db);
    const now = Date.now();
    const base = {
      sessionId: 'S1',
      seq: 2,
      grant: 'agent-x',
      reason: 'needs a human',
      rule: 'tools.run',
      requestedAt: now - 5000,
    };
    store.enqueueApproval({ ...base, tool: 'run', args: { cmd: 'make deploy' }, expiresAt: now + 55_000 });
    const answered = store.enqueueApproval({ ...base, tool: 'other', args: {} });
    store.resolveApproval(answered.id, 'approved', 'bob', now);
    store.enqueueApproval({ ...base, tool: 'stale', args: {}, expiresAt: now - 1 });
    store.close();

    const [human, json, empty] = await Promise.all([
      run(process.execPath, [cli, 'approvals', '--db', db]),
      run(process.execPath, [cli, 'approvals', '--db', db, '--json']),
      run(process.execPath, [cli, 'approvals', '--db', join(dir, 'empty.db')]),
    ]);
    expect(human.stdout.split('\n')).toEqual([
      expect.stringMatching(/^ID\s+TOOL\s+ARGS\s+SESSION\s+GRANT\s+AGE\s+REASON$/),
      expect.stringMatching(/^1\s+run\s+\{"cmd":"make deploy"\}\s+S1\s+agent-x\s+\d+s\s+needs a human$/),
      '',
    ]);

    const lines = json.stdout
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l) as Record<string, unknown>);
    expect(lines).toEqual([
      {
        type: 'approval',
        id: 1,
        tool: 'run',
        args: { cmd: 'make deploy' },
        session: 'S1',
        seq: 2,
        grant: 'agent-x',
        reason: 'needs a human',
        rule: 'tools.run',
        requestedAt: new Date(now - 5000).toISOString(),
        expiresAt: new Date(now + 55_000).toISOString(),
      },
    ]);

    expect(empty.stdout).toBe('');
    expect(empty.stderr).toMatch(/^no pending approvals in .*empty\.db\n$/);
  });
});
