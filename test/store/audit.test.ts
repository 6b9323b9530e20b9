import Database from 'better-sqlite3';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { MIGRATIONS } from '../../store/migrations.js';
import { openStore, type DecisionRecord } from '../../store/index.js';

const dir = mkdtempSync(join(tmpdir(), 'mcp-replay-audit-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const session = { id: 'S1', startedAt: '2026-11-24T10:00:00.000Z', transport: 'stdio' };
const T0 = Date.parse(session.startedAt);

describe('decisions (the audit of live calls)', () => {
  it('stores decisions beside their messages and reads a session back in message order', () => {
    const store = openStore(join(dir, 'decisions.db'));
    try {
      store.insertSession(session);
      store.insertSession({ ...session, id: 'S2' });
      const base = { sessionId: 'S1', policySha256: 'ab'.repeat(32), enforced: true };
      const rows: DecisionRecord[] = [
        {
          ...base,
          seq: 7,
          rpcId: '3',
          tool: 'get-sum',
          decision: 'throttle',
          reason: 'r',
          rule: 'tools.get-sum.limits[0]',
          retryAfterMs: 59_000,
          at: T0 + 7,
        },
        {
          ...base,
          seq: 2,
          rpcId: '"a"',
          tool: 'echo',
          decision: 'allow',
          reason: 'allowed by tools.echo',
          rule: 'tools.echo',
          at: T0 + 2.5,
        },
        { ...base, seq: 9, tool: 'run', decision: 'approval', reason: 'needs a human', rule: 'tools.run', at: T0 + 9 },
        {
          ...base,
          seq: 9,
          tool: 'run',
          decision: 'deny',
          reason: 'approval timed out',
          rule: 'tools.run',
          at: T0 + 60_009,
        },
        {
          ...base,
          sessionId: 'S2',
          seq: 1,
          tool: 'x',
          decision: 'deny',
          reason: 'no',
          rule: 'default',
          at: T0,
          enforced: false,
        },
      ];
      for (const r of rows) store.recordDecision(r);
      expect(store.sessionDecisions('S1')).toEqual([
        { ...rows[1] },
        { ...rows[0] },
        { ...rows[2], rpcId: null },
        { ...rows[3], rpcId: null },
      ]);
      expect(store.sessionDecisions('S2')).toEqual([{ ...rows[4], rpcId: null }]);
      expect(() => store.recordDecision({ ...rows[0]!, sessionId: 'nope' })).toThrow(/FOREIGN KEY/);
      expect(() => store.recordDecision({ ...rows[0]!, decision: 'maybe' as 'allow' })).toThrow(/CHECK/);
      store.deleteSession('S1');
      expect(store.sessionDecisions('S1')).toEqual([]);
      expect(store.sessionDecisions('S2')).toHaveLength(1);
    } finally {
      store.close();
    }
  });

  it('migrates a db of an older schema, keeping its sessions', () => {
    const file = join(dir, 'old.db');
    const old = new Database(file);
    old.exec(MIGRATIONS[0]!);
    old.pragma('user_version = 1');
    old.prepare(`INSERT INTO sessions (id, started_at) VALUES ('OLD', '2026-01-01T00:00:00.000Z')`).run();
    old.close();
    const store = openStore(file);
    try {
      expect(store.db.pragma('user_version', { simple: true })).toBe(MIGRATIONS.length);
      expect(store.getSession('OLD')?.startedAt).toBe('2026-01-01T00:00:00.000Z');
      store.recordDecision({
        sessionId: 'OLD',
        seq: 0,
        tool: 't',
        decision: 'allow',
        reason: 'r',
        rule: 'default',
        policySha256: 'x',
        at: 1,
        enforced: true,
      });
      expect(store.sessionDecisions('OLD')).toHaveLength(1);
    } finally {
      store.close();
    }
  });
});

describe('approvals (the queue between enforce and the approvals TUI)', () => {
  const request = (tool: string, requestedAt: number, expiresAt?: number) => ({
    sessionId: 'S1',
    seq: 4,
    grant: 'alice-agent',
    tool,
    args: { cmd: 'ls -la', n: [1, 2] },
    reason: 'run_command requires approval',
    rule: 'tools.run_command',
    requestedAt,
    expiresAt,
  });

  it('enqueues, lists the pending ones oldest first, and resolves each exactly once', () => {
    const store = openStore(join(dir, 'approvals.db'));
    try {
      const a = store.enqueueApproval(request('run_command', T0 + 10, T0 + 60_010));
      const b = store.enqueueApproval(request('deploy', T0 + 5));
      const c = store.enqueueApproval(request('late', T0 + 20, T0 + 30));
      expect(a).toEqual({
        ...request('run_command', T0 + 10, T0 + 60_010),
        id: a.id,
        status: 'pending',
        token: expect.stringMatching(/^[0-9a-f-]{36}$/), // which request the id names
      });
      expect(b.token).not.toBe(a.token);
      expect(store.getApproval(a.id)).toEqual(a);
      expect(store.getApproval(999)).toBeUndefined();
      expect(store.pendingApprovals(T0 + 25).map((x) => x.tool)).toEqual(['deploy', 'run_command', 'late']);
      // Past its deadline a request is no longer offered, nor can it be approved.
      expect(store.pendingApprovals(T0 + 30).map((x) => x.tool)).toEqual(['deploy', 'run_command']);
      expect(store.resolveApproval(c.id, 'approved', 'bob', T0 + 31)).toBe(false);
      expect(store.resolveApproval(a.id, 'approved', 'bob', T0 + 40)).toBe(true);
      expect(store.resolveApproval(a.id, 'rejected', 'eve', T0 + 41)).toBe(false);
      expect(store.getApproval(a.id)).toMatchObject({ status: 'approved', decidedBy: 'bob', decidedAt: T0 + 40 });
      expect(store.expireApproval(a.id, T0 + 50)).toBe(false);
      expect(store.expireDueApprovals(T0 + 100)).toBe(1); // c
      expect(store.getApproval(c.id)).toMatchObject({ status: 'expired', decidedBy: 'timeout', decidedAt: T0 + 100 });
      expect(store.expireApproval(b.id, T0 + 200, 'gateway closed')).toBe(true);
      expect(store.resolveApproval(b.id, 'approved', 'bob', T0 + 201)).toBe(false);
      expect(store.getApproval(b.id)).toMatchObject({ status: 'expired', decidedBy: 'gateway closed' });
      expect(store.pendingApprovals(T0)).toEqual([]);
    } finally {
      store.close();
    }
  });

  it('lets only one of two processes answer a request (the gateway timing out, the human approving)', () => {
    const file = join(dir, 'race.db');
    const gateway = openStore(file);
    const human = openStore(file);
    try {
      const a = gateway.enqueueApproval(request('run_command', T0));
      expect(human.pendingApprovals(T0 + 1).map((x) => x.id)).toEqual([a.id]);
      expect(gateway.expireApproval(a.id, T0 + 60_000)).toBe(true);
      expect(human.resolveApproval(a.id, 'approved', 'bob', T0 + 60_001)).toBe(false);
      const b = gateway.enqueueApproval(request('deploy', T0));
      expect(human.resolveApproval(b.id, 'rejected', 'bob', T0 + 5)).toBe(true);
      expect(gateway.expireApproval(b.id, T0 + 60_000)).toBe(false);
      expect(gateway.getApproval(b.id)?.status).toBe('rejected');
    } finally {
      gateway.close();
      human.close();
    }
  });
});

describe('sessions list', () => {
  it('counts the calls of a JSON-RPC batch by its members', () => {
    const store = openStore(join(dir, 'list.db'));
    try {
      store.insertSession(session);
      const call = (id: number) => ({ jsonrpc: '2.0', id, method: 'tools/call', params: { name: 'echo' } });
      const ping = { jsonrpc: '2.0', id: 9, method: 'ping' };
      store.appendMessage('S1', 0, 1, 'c2s', JSON.stringify(call(1)), 'tools/call', '1');
      store.appendMessage('S1', 1, 2, 'c2s', JSON.stringify([call(2), call(3)]), 'tools/call', '2');
      store.appendMessage('S1', 2, 3, 'c2s', ` ${JSON.stringify([ping, call(4)])}`, 'ping', '9');
      store.appendMessage('S1', 3, 4, 's2c', JSON.stringify([{ jsonrpc: '2.0', id: 2, result: {} }]), null, '2');
      store.appendMessage('S1', 4, 5, 'c2s', '[{"method":"tools/call"', 'tools/call', null); // cut off: not JSON
      expect(store.listSessions()).toMatchObject([{ id: 'S1', messages: 5, calls: 4 }]);
    } finally {
      store.close();
    }
  });
});
