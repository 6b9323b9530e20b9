import { spawn, spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { openStore } from '../../store/store.js';
import { cli, denyByDefault, eventually, lineEcho, tempDir } from './helpers.js';

type Line = { id?: unknown; method?: string; params?: Record<string, unknown>; result?: unknown; error?: unknown };

/**
 * `enforce` with `echo` held for approval, spoken to in raw JSON-RPC (what a client whose own
 * timeout fired sends: `notifications/cancelled`), in front of `server` (default: lineEcho,
 * which answers every request it gets).
 */
function start(server: string[] = [lineEcho]) {
  const dir = tempDir();
  const db = join(dir, 'gw.db');
  const policy = denyByDefault(dir, { echo: { action: 'require_approval', reason: 'a human must agree' } });
  const proc = spawn(
    process.execPath,
    [cli, 'enforce', '--policy', policy, '--db', db, '--', process.execPath, ...server],
    {
      stdio: ['pipe', 'pipe', 'ignore'],
    },
  );
  const seen: Line[] = [];
  let rest = '';
  proc.stdout.on('data', (c: Buffer) => {
    const parts = (rest + c.toString()).split('\n');
    rest = parts.pop()!;
    for (const p of parts) if (p.trim()) seen.push(JSON.parse(p) as Line);
  });
  const send = (m: object) => proc.stdin.write(JSON.stringify({ jsonrpc: '2.0', ...m }) + '\n');
  const withDb = <T>(fn: (store: ReturnType<typeof openStore>) => T): T => {
    const store = openStore(db, { mustExist: true });
    try {
      return fn(store);
    } finally {
      store.close();
    }
  };
  const closed = new Promise((r) => proc.on('close', r));
  return { proc, seen, send, withDb, closed, db, policy };
}

/** The call the gateway queued for `mcp-replay approvals`, once it is there. */
const queuedApproval = (gw: ReturnType<typeof start>) =>
  eventually(() => {
    const [first] = gw.withDb((s) => s.pendingApprovals(Date.now()));
    if (!first) throw new Error('not queued yet');
    return first;
  });

const init = (capabilities: object) => ({
  id: 0,
  method: 'initialize',
  params: { protocolVersion: '2025-06-18', capabilities, clientInfo: { name: 'agent', version: '1' } },
});
const call = (id: number, message: string) => ({
  id,
  method: 'tools/call',
  params: { name: 'echo', arguments: { message } },
});

describe('enforce: a call held for approval that the client gives up on', () => {
  it('is withdrawn from the queue when the client cancels it, and never forwarded, even if approved after', async () => {
    const gw = start();
    gw.send(init({}));
    gw.send(call(1, 'transfer $100'));
    const queued = await queuedApproval(gw);
    gw.send({ method: 'notifications/cancelled', params: { requestId: 1, reason: 'timed out' } });
    // Withdrawn: nobody can approve it any more.
    await eventually(() => expect(gw.withDb((s) => s.getApproval(queued.id)?.status)).toBe('expired'));
    expect(gw.withDb((s) => s.resolveApproval(queued.id, 'approved', 'alice', Date.now()))).toBe(false);
    // Its id stays used (MCP forbids reusing one; replay reads it so too): a call under it is refused.
    gw.send(call(1, 'again'));
    gw.send({ id: 2, method: 'ping' });
    await eventually(() => expect(gw.seen.some((m) => m.id === 2)).toBe(true));
    gw.proc.stdin.end();
    await gw.closed;
    // No answer to the cancelled call (MCP: none is owed), and the server never saw it: the one
    // answer under id 1 is the refusal of its reuse.
    expect(gw.seen.filter((m) => m.id === 1).map((m) => (m.error as { message: string }).message)).toEqual([
      expect.stringMatching(/request id 1 is already in flight/),
    ]);
    // Replay of the gateway's own recording decides what it decided: the reuse is no call.
    const replayed = spawnSync(process.execPath, [cli, 'replay', '--policy', gw.policy, '--db', gw.db, '--json'], {
      encoding: 'utf8',
    });
    expect(
      replayed.stdout
        .trim()
        .split('\n')
        .map((l) => JSON.parse(l) as { type: string; seq?: number })
        .filter((l) => l.type === 'decision'),
    ).toHaveLength(1);
    const live = gw.withDb((s) => s.sessionDecisions(s.allSessions()[0]!.id));
    expect(live.map((d) => `${d.rpcId} ${d.decision} ${d.reason}`)).toEqual([
      '1 approval a human must agree',
      '1 deny a human must agree: cancelled by the client',
    ]);
  });

  it('withdraws the question it put through elicitation when the client cancels the call', async () => {
    const gw = start();
    gw.send(init({ elicitation: {} }));
    gw.send(call(1, 'transfer $100'));
    const question = await eventually(() => {
      const q = gw.seen.find((m) => m.method === 'elicitation/create');
      if (!q) throw new Error('not asked yet');
      return q;
    });
    expect(String(question.id)).toMatch(/^mcp-replay-approval-[0-9a-f-]{36}$/); // not guessable by the server
    gw.send({ method: 'notifications/cancelled', params: { requestId: 1 } });
    await eventually(() =>
      expect(gw.seen.some((m) => m.method === 'notifications/cancelled' && m.params?.requestId === question.id)).toBe(
        true,
      ),
    );
    // A late accept forwards nothing.
    gw.send({ id: question.id, result: { action: 'accept', content: {} } });
    gw.send({ id: 3, method: 'ping' });
    await eventually(() => expect(gw.seen.some((m) => m.id === 3)).toBe(true));
    gw.proc.stdin.end();
    await gw.closed;
    expect(gw.seen.filter((m) => m.id === 1)).toEqual([]);
  });

  it('is denied at once when the client hangs up, though the server lives on', async () => {
    // A server that outlives its stdin by 3 s (answers nothing).
    const lingering = [
      '-e',
      "process.stdin.resume(); process.stdin.on('end', () => setTimeout(() => process.exit(0), 3000))",
    ];
    const gw = start(lingering);
    gw.send(init({}));
    gw.send(call(1, 'transfer $100'));
    const queued = await queuedApproval(gw);
    gw.proc.stdin.end();
    await eventually(() => expect(gw.withDb((s) => s.getApproval(queued.id)?.status)).toBe('expired'), 2000);
    await gw.closed;
  });

  it('leaves the queue when its gateway is killed (-9): nobody is left to forward an approval', async () => {
    const gw = start();
    gw.send(init({}));
    gw.send(call(1, 'transfer $100'));
    const queued = await queuedApproval(gw);
    gw.proc.kill('SIGKILL');
    await gw.closed;
    expect(gw.withDb((s) => s.pendingApprovals(Date.now()))).toEqual([]);
    expect(gw.withDb((s) => s.resolveApproval(queued.id, 'approved', 'alice', Date.now()))).toBe(false);
    expect(gw.withDb((s) => s.getApproval(queued.id))).toMatchObject({ status: 'expired', decidedBy: 'gateway gone' });
  });
});
