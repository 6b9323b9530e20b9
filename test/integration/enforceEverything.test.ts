import { ToolListChangedNotificationSchema } from '@modelcontextprotocol/sdk/types.js';
import { spawnSync } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { openStore } from '../../store/store.js';
import { cli, connect, enforceArgs, eventually, everything, recordArgs, recorded, tempDir } from './helpers.js';

const policy = {
  version: '1',
  default: 'deny',
  tools: {
    echo: { action: 'allow' },
    'get-env': { action: 'deny', reason: 'environment variables hold secrets' },
    'get-sum': { limits: [{ window: 'minute', max: 3 }] },
  },
};

describe('enforce in front of server-everything', () => {
  it('filters tools/list, denies and throttles before the server sees the call, audits every decision', async () => {
    const dir = tempDir();
    const db = join(dir, 'gateway.db');
    const serverDb = join(dir, 'server-side.db');
    const file = join(dir, 'policy.json');
    writeFileSync(file, JSON.stringify(policy));
    // A recorder between the gateway and the server: what the server actually received.
    const { client } = await connect(process.execPath, enforceArgs(file, db, recordArgs(serverDb, everything)));
    const names = (await client.listTools()).tools.map((t) => t.name);
    expect(names).toContain('echo');
    expect(names).toContain('get-sum');
    expect(names).not.toContain('get-env');
    expect(names).not.toContain('trigger-long-running-operation'); // no rule, default deny

    expect(await client.callTool({ name: 'echo', arguments: { message: 'hi' } })).toEqual({
      content: [{ type: 'text', text: 'Echo: hi' }],
    });
    const env = await client.callTool({ name: 'get-env', arguments: {} });
    expect(env).toEqual({
      content: [{ type: 'text', text: 'Denied by policy: environment variables hold secrets' }],
      isError: true,
      _meta: {
        'mcp-replay/decision': {
          decision: 'deny',
          reason: 'environment variables hold secrets',
          rule: 'tools.get-env',
        },
      },
    });
    const sums = [];
    for (let i = 0; i < 4; i++) sums.push(await client.callTool({ name: 'get-sum', arguments: { a: i, b: 1 } }));
    expect(sums.slice(0, 3).map((r) => r.isError ?? false)).toEqual([false, false, false]);
    const throttled = sums[3] as {
      isError: boolean;
      content: { text: string }[];
      _meta: Record<string, { retryAfterMs: number }>;
    };
    expect(throttled.isError).toBe(true);
    expect(throttled.content[0]!.text).toMatch(/^Rate limited: .*; retry after \d+ ms$/);
    expect(throttled._meta['mcp-replay/decision']!.retryAfterMs).toBeGreaterThan(50_000);
    await client.close();

    // The server never received the denied or throttled calls.
    const received = await eventually(() => {
      const r = recorded(serverDb);
      if (r.info.exitCode === undefined) throw new Error('not closed');
      return r;
    });
    const calls = received.c2s
      .filter((m) => (m as { method?: string }).method === 'tools/call')
      .map((m) => (m as { params: { name: string } }).params.name);
    expect(calls).toEqual(['echo', 'get-sum', 'get-sum', 'get-sum']);

    // Every decision is stored beside its message; the gateway's recording holds what the client saw.
    const store = openStore(db, { mustExist: true });
    try {
      const [session] = store.allSessions();
      const decisions = store.sessionDecisions(session!.id).map((d) => [d.tool, d.decision, d.rule]);
      expect(decisions).toEqual([
        ['echo', 'allow', 'tools.echo'],
        ['get-env', 'deny', 'tools.get-env'],
        ['get-sum', 'allow', 'tools.get-sum'],
        ['get-sum', 'allow', 'tools.get-sum'],
        ['get-sum', 'allow', 'tools.get-sum'],
        ['get-sum', 'throttle', 'tools.get-sum.limits[0]'],
      ]);
      const seqs = store.sessionDecisions(session!.id).map((d) => d.seq);
      const messages = new Map(
        [...store.records(session!.id)].flatMap((r) => (r.type === 'message' ? [[r.seq, r.raw] as const] : [])),
      );
      for (const s of seqs) expect(JSON.parse(messages.get(s)!)).toMatchObject({ method: 'tools/call' });
    } finally {
      store.close();
    }
  });

  it("keeps the server's own tools/list beside the filtered one, for auditors and simulate --from", async () => {
    const dir = tempDir();
    const db = join(dir, 'gw.db');
    const file = join(dir, 'policy.json');
    writeFileSync(file, JSON.stringify(policy));
    const { client } = await connect(process.execPath, enforceArgs(file, db, everything));
    const seen = (await client.listTools()).tools.map((t) => t.name);
    await client.close();
    const r = await eventually(() => {
      const x = recorded(db);
      if (x.info.endedAt === undefined) throw new Error('not closed');
      return x;
    });
    // The client's answer lacks get-env; the event just before it holds the server's, with it.
    const i = r.records.findIndex((x) => x.type === 'event' && x.event === 'unfiltered');
    expect(i).toBeGreaterThan(-1);
    const event = r.records[i] as { data: { dir: string; text: string } };
    expect(event.data.dir).toBe('s2c');
    const offered = (JSON.parse(event.data.text) as { result: { tools: { name: string }[] } }).result.tools.map(
      (t) => t.name,
    );
    expect(offered).toContain('get-env');
    expect(offered.length).toBeGreaterThan(seen.length);
    const next = r.records[i + 1]!;
    expect(
      next.type === 'message' && (JSON.parse(next.raw) as { result: { tools: unknown[] } }).result.tools,
    ).toHaveLength(seen.length);
    // simulate --from tests the policy against every tool the server offered (it saw the client's 2).
    const sim = spawnSync(
      process.execPath,
      [cli, 'simulate', '--policy', file, '--from', r.info.id, '--db', db, '--runs', '5', '--seed', '1'],
      { encoding: 'utf8' },
    );
    expect(sim.status, sim.stderr).toBe(0);
    expect(sim.stdout).toContain(`${offered.length} tools from the tools/list recorded in ${r.info.id}`);
  });

  it('a reload that hides or lists a tool tells the client, which lists again (notifications/tools/list_changed)', async () => {
    const dir = tempDir();
    const file = join(dir, 'policy.json');
    writeFileSync(file, JSON.stringify(policy));
    const gateway = ['enforce', '--policy', file, '--db', join(dir, 'gw.db')];
    const { client, stderr } = await connect(process.execPath, [
      cli,
      ...gateway,
      '--',
      process.execPath,
      ...everything,
    ]);
    try {
      let told = 0;
      client.setNotificationHandler(ToolListChangedNotificationSchema, () => void told++);
      const names = async () => (await client.listTools()).tools.map((t) => t.name);
      expect(await names()).not.toContain('get-env');
      // (server-everything sends one of its own as it starts, before it answers.)
      const base = told;
      // A change that lists or hides nothing the server listed: no notification.
      writeFileSync(file, JSON.stringify({ ...policy, tools: { ...policy.tools, 'not-a-tool': {} } }));
      await eventually(() => expect(stderr()).toMatch(/reloaded/));
      expect(told).toBe(base);
      // get-env allowed, echo hidden.
      const { echo: _, ...rest } = policy.tools;
      writeFileSync(file, JSON.stringify({ ...policy, tools: { ...rest, 'get-env': {} } }));
      await eventually(() => expect(told).toBe(base + 1));
      const now = await names();
      expect(now).toContain('get-env');
      expect(now).not.toContain('echo');
      expect(told).toBe(base + 1);
    } finally {
      await client.close();
    }
  });
});
