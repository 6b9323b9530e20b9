import { execFile } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, describe, expect, it } from 'vitest';
import { openStore, type Approval } from '../../store/index.js';

const run = promisify(execFile);
const cli = join(import.meta.dirname, '../../dist/cli/main.js');
const dir = mkdtempSync(join(tmpdir(), 'mcp-replay-approvals-cli-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

/** A db with two calls of `run` waiting for an answer (as a gateway queues them). */
function twoPending(db: string): [Approval, Approval] {
  const store = openStore(db);
  try {
    const now = Date.now();
    const base = { sessionId: 'S1', seq: 2, grant: 'g', reason: 'r', rule: 'tools.run', requestedAt: now };
    const pending = () => store.enqueueApproval({ ...base, tool: 'run', args: {}, expiresAt: now + 60_000 });
    return [pending(), pending()];
  } finally {
    store.close();
  }
}

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

  it('--approve / --reject answer one pending call for scripts; a call not pending is a one-line exit 2', async () => {
    const db = join(dir, 'answer.db');
    const [a, b] = twoPending(db);
    const ok = await run(process.execPath, [cli, 'approvals', '--db', db, '--approve', String(a.id), '--user', 'ci']);
    expect(ok.stderr).toBe(`approval ${a.id} approved\n`);
    await run(process.execPath, [cli, 'approvals', '--db', db, '--reject', String(b.id)]);
    const again = await run(process.execPath, [cli, 'approvals', '--db', db, '--reject', String(a.id)]).then(
      () => undefined,
      (err: { code: number; stderr: string }) => err,
    );
    expect(again?.code).toBe(2);
    // The status and who set it: approved by ci (or expired: cancelled, gateway gone, timeout).
    expect(again?.stderr).toMatch(/^mcp-replay: approval 1 is no longer pending \(approved: ci\) in .*answer\.db\n$/);
    const check = openStore(db);
    expect([check.getApproval(a.id)?.status, check.getApproval(a.id)?.decidedBy]).toEqual(['approved', 'ci']);
    expect(check.getApproval(b.id)?.status).toBe('rejected');
    check.close();
  });

  it('--approve / --reject with --json say the answer as a JSON line on stdout', async () => {
    const db = join(dir, 'answer-json.db');
    const [a, b] = twoPending(db);
    const ok = await run(process.execPath, [
      cli,
      'approvals',
      '--db',
      db,
      '--json',
      '--approve',
      String(a.id),
      '--user',
      'ci',
    ]);
    expect(JSON.parse(ok.stdout)).toEqual({ type: 'answer', id: a.id, status: 'approved', by: 'ci' });
    const no = await run(process.execPath, [
      cli,
      'approvals',
      '--db',
      db,
      '--json',
      '--reject',
      String(b.id),
      '--user',
      'ci',
    ]);
    expect(JSON.parse(no.stdout)).toEqual({ type: 'answer', id: b.id, status: 'rejected', by: 'ci' });
    expect(no.stderr).toBe('');
  });
});
