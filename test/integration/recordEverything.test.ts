import type { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { cli, connect, eventually, everything, recordArgs, recorded, tempDir, type SpyTransport } from './helpers.js';

/** The same conversation, whoever is on the other end. */
async function converse({ client, spy }: { client: Client; spy: SpyTransport }) {
  const tools = await client.listTools();
  const echo = await client.callTool({ name: 'echo', arguments: { message: 'hello through the proxy' } });
  const sum = await client.callTool({ name: 'get-sum', arguments: { a: 19, b: 23 } });
  const long = await client.callTool(
    { name: 'trigger-long-running-operation', arguments: { duration: 0.6, steps: 3 } },
    undefined,
    { onprogress: () => undefined },
  );
  // What arrived on the wire: the SDK may drop the last progress when it shares a chunk with the result.
  const progress = spy.received
    .filter((m) => 'method' in m && m.method === 'notifications/progress')
    .map((m) => ('params' in m ? { ...m.params, progressToken: undefined } : undefined));
  const { resources } = await client.listResources();
  const first = resources[0]!;
  const read = await client.readResource({ uri: first.uri });
  return { tools, echo, sum, long, progress, read };
}

describe('record in front of server-everything', () => {
  const dir = tempDir();
  const db = join(dir, 'rec.db');
  let direct: Awaited<ReturnType<typeof converse>>;
  let proxied: Awaited<ReturnType<typeof converse>>;
  let spy: SpyTransport;

  beforeAll(async () => {
    const [a, b] = await Promise.all([
      connect(process.execPath, everything),
      connect(process.execPath, recordArgs(db, everything, ['--name', 'everything'])),
    ]);
    [direct, proxied] = await Promise.all([converse(a), converse(b)]);
    spy = b.spy;
    await Promise.all([a.client.close(), b.client.close()]);
  });

  afterAll(() => undefined);

  it('gives the client the same tools and results as the server directly', () => {
    expect(proxied.tools).toEqual(direct.tools);
    expect(proxied.tools.tools.map((t) => t.name)).toContain('get-sum');
    expect(proxied.echo).toEqual(direct.echo);
    expect(proxied.sum).toEqual(direct.sum);
    expect(JSON.stringify(proxied.sum)).toContain('42');
    expect(proxied.long).toEqual(direct.long);
    expect(proxied.progress).toEqual(direct.progress);
    expect(proxied.progress.length).toBe(3);
    expect(proxied.read).toEqual(direct.read);
  });

  it('holds every message of both directions, in order, and the session end', async () => {
    const rec = await eventually(() => {
      const r = recorded(db);
      if (r.info.exitCode === undefined) throw new Error('session not closed yet');
      return r;
    });
    expect(rec.info.name).toBe('everything');
    expect(rec.info.exitCode).toBe(0);
    expect(rec.c2s).toEqual(JSON.parse(JSON.stringify(spy.sent)));
    expect(rec.s2c).toEqual(JSON.parse(JSON.stringify(spy.received)));
    expect(rec.records.map((r) => r.seq)).toEqual(rec.records.map((_, i) => i));
    const ts = rec.records.map((r) => r.t);
    expect(ts).toEqual([...ts].sort((x, y) => x - y));
    expect(rec.records.some((r) => r.type === 'event' && r.event === 'stderr')).toBe(true);
  });

  it('sessions show lists the calls with latency and outcome', () => {
    const out = execFileSync(process.execPath, [cli, 'sessions', 'show', '--db', db, '--json', recorded(db).info.id], {
      encoding: 'utf8',
    });
    const lines = out
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l) as Record<string, unknown>);
    expect(lines[0]).toMatchObject({ type: 'session', name: 'everything', exitCode: 0 });
    const calls = lines.slice(1);
    expect(calls.map((c) => c.tool)).toEqual(['echo', 'get-sum', 'trigger-long-running-operation']);
    for (const c of calls) {
      expect(c.outcome).toBe('ok');
      expect(c.latencyMs).toBeGreaterThan(0);
    }
    // The server sleeps 3 × 200 ms with setTimeout, which fires up to ~1 ms early (libuv's loop
    // clock counts whole ms): 599.7 ms was seen in CI.
    expect(calls[2]!.latencyMs as number).toBeGreaterThanOrEqual(597);
    const human = execFileSync(process.execPath, [cli, 'sessions', 'show', '--db', db, recorded(db).info.id], {
      encoding: 'utf8',
    });
    expect(human).toMatch(/get-sum \{"a":19,"b":23\}\s+[\d.]+ ms\s+ok/);
  });

  it('export → import → export yields identical JSONL', () => {
    const id = recorded(db).info.id;
    const a = join(dir, 'a.jsonl');
    const b = join(dir, 'b.jsonl');
    const db2 = join(dir, 'copy.db');
    execFileSync(process.execPath, [cli, 'sessions', 'export', '--db', db, id, '-o', a]);
    execFileSync(process.execPath, [cli, 'sessions', 'import', '--db', db2, a], { stdio: 'pipe' });
    execFileSync(process.execPath, [cli, 'sessions', 'export', '--db', db2, id, '-o', b]);
    const text = readFileSync(a, 'utf8');
    expect(text.split('\n').length).toBeGreaterThan(10);
    expect(readFileSync(b, 'utf8')).toBe(text);
  });
});
