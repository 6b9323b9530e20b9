import Database from 'better-sqlite3';
import { spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { openStore } from '../../store/index.js';
import { CLI, ROOT } from './runCli.js';

const dir = mkdtempSync(join(tmpdir(), 'mcp-replay-scale-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

/** More than a call's arguments can hold: `Math.max(...list)` over this many overflows the stack. */
const MANY = 130_000;

/** A db of the current schema, filled by SQL (a recursive count), fast enough for a test. */
function dbWith(name: string, sql: string): string {
  const file = join(dir, name);
  openStore(file).close();
  const db = new Database(file);
  db.exec(`BEGIN; ${sql}; COMMIT`);
  db.close();
  return file;
}

/** The built CLI, its output kept whole (runCli's spawnSync stops at 1 MB); `sh`: a shell line before it. */
function run(
  args: readonly string[],
  sh?: string,
  env: Record<string, string> = {},
): { code: number | null; stdout: string; stderr: string } {
  const argv = [CLI, ...args];
  const r = spawnSync(
    sh === undefined ? process.execPath : 'sh',
    sh === undefined ? argv : ['-c', `${sh}; exec "$0" "$@"`, process.execPath, ...argv],
    {
      cwd: ROOT,
      env: { ...process.env, ...env },
      encoding: 'utf8',
      maxBuffer: 1 << 30,
      timeout: 60_000,
    },
  );
  return { code: r.status, stdout: r.stdout, stderr: r.stderr };
}

const count = (n: number) => `WITH RECURSIVE n(i) AS (SELECT 0 UNION ALL SELECT i + 1 FROM n WHERE i < ${n - 1})`;

/**
 * One enforced session of MANY calls, each answered 0.5 ms later: every call allowed, every
 * 10th held for approval first (two decisions), every 7th decided in shadow mode.
 */
let enforced: string | undefined;
function enforcedDb(): string {
  return (enforced ??= dbWith(
    'enforced.db',
    `INSERT INTO sessions (id, started_at, transport) VALUES ('LIVE', '2026-01-01T00:00:00.000Z', 'stdio');
     ${count(MANY)} INSERT INTO messages (session_id, seq, t, dir, method, rpc_id, size, msg)
       SELECT 'LIVE', 2 * i, i * 1000, 'c2s', 'tools/call', i, 0,
         '{"jsonrpc":"2.0","id":' || i || ',"method":"tools/call","params":{"name":"echo","arguments":{"i":' || i || '}}}' FROM n;
     ${count(MANY)} INSERT INTO messages (session_id, seq, t, dir, method, rpc_id, size, msg)
       SELECT 'LIVE', 2 * i + 1, i * 1000 + 500, 's2c', NULL, i, 0,
         '{"jsonrpc":"2.0","id":' || i || ',"result":{"content":[]}}' FROM n;
     ${count(MANY)} INSERT INTO decisions (session_id, seq, rpc_id, tool, decision, reason, rule, policy_sha256, at, enforced, n)
       SELECT 'LIVE', 2 * i, i, 'echo', 'approval', 'ask', 'tools.echo', 'f', 0, i % 7 != 0, 2 * i FROM n WHERE i % 10 = 0;
     ${count(MANY)} INSERT INTO decisions (session_id, seq, rpc_id, tool, decision, reason, rule, policy_sha256, at, enforced, n)
       SELECT 'LIVE', 2 * i, i, 'echo', 'allow', 'ok', 'default', 'f', 0, i % 7 != 0, 2 * i + 1 FROM n`,
  ));
}

describe('reading a db at scale', () => {
  it(`sessions list prints ${MANY.toLocaleString('en-US')} sessions (a long-lived gateway's db)`, () => {
    const db = dbWith(
      'many.db',
      `${count(MANY)} INSERT INTO sessions (id, name, started_at, transport)
         SELECT printf('S%07d', i), 'run', strftime('%Y-%m-%dT%H:%M:%fZ', '2026-01-01', '+' || i || ' minutes'), 'stdio' FROM n`,
    );
    const r = run(['sessions', 'list', '--db', db]);
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    const lines = r.stdout.trimEnd().split('\n');
    expect(lines).toHaveLength(MANY + 1);
    expect(lines.at(-1)).toMatch(/^S0129999\s+run\s+2026-04-01T06:39:00.000Z\s+0\s+0\s+no end$/);
  });

  it(`sessions show prints an enforced session of ${MANY.toLocaleString('en-US')} decided calls`, () => {
    const r = run(['sessions', 'show', 'LIVE', '--db', enforcedDb()]);
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    const lines = r.stdout.trimEnd().split('\n');
    expect(lines).toHaveLength(4 + MANY);
    // POLICY as wide as its widest cell, and every row's OUTCOME under its header.
    expect(lines[3]).toBe(`SEQ     T (s)       CALL${' '.repeat(38)}LATENCY     POLICY${' '.repeat(19)}OUTCOME`);
    expect(lines[4]).toMatch(/^0 +0\.000 +echo \{"i":0\} +0\.5 ms +approval→allow \(shadow\) {2}ok$/);
    expect(lines.at(-1)).toMatch(/^259998 +129\.999 +echo \{"i":129999\} +0\.5 ms +allow +ok$/);
    const outcome = lines[3]!.indexOf('OUTCOME');
    expect(lines.slice(4).every((l) => l.indexOf(' ok', outcome - 1) === outcome - 1)).toBe(true);
  });

  it('an enforced session: sessions show and replay read its decisions as they go (in a 40 MB heap)', () => {
    // Held whole (a map of every decision), 130,000 of them needed 64-96 MB of heap.
    const env = { NODE_OPTIONS: '--max-old-space-size=40' };
    const show = run(['sessions', 'show', 'LIVE', '--db', enforcedDb(), '--json'], undefined, env);
    expect(show.stderr).toBe('');
    expect(show.code).toBe(0);
    const calls = show.stdout.trimEnd().split('\n').slice(1);
    expect(calls).toHaveLength(MANY);
    expect(
      JSON.parse(calls[70]!).decisions.map((d: { decision: string; enforced: boolean }) => [d.decision, d.enforced]),
    ).toEqual([
      ['approval', false],
      ['allow', false],
    ]);
    expect(JSON.parse(calls[1]!).decisions).toHaveLength(1);
    const policy = join(dir, 'deny.json');
    writeFileSync(policy, JSON.stringify({ version: '1', default: 'deny', tools: {} }));
    const replay = run(['replay', '--db', enforcedDb(), '--policy', policy, '--json'], undefined, env);
    expect(replay.stderr).toBe('');
    expect(replay.code).toBe(0);
    const lines = replay.stdout.trimEnd().split('\n');
    expect(lines).toHaveLength(MANY + 1);
    expect(JSON.parse(lines[10]!).enforced).toMatchObject({ decision: 'approval', outcome: 'allow' });
    expect(JSON.parse(lines[11]!).enforced).toEqual({ decision: 'allow', reason: 'ok', rule: 'default', policy: 'f' });
  });

  it('replay and diff of 70,000 sessions one after the other: each is read when the timeline reaches it', () => {
    // Better-sqlite3 counts open iterators in 16 bits: 65,536 sessions iterated at once failed
    // ("This database connection is busy executing a query"), after minutes of superlinear reads.
    const n = 70_000;
    const db = dbWith(
      'sessions.db',
      `${count(n)} INSERT INTO sessions (id, started_at, transport)
         SELECT printf('S%07d', i), strftime('%Y-%m-%dT%H:%M:%fZ', '2026-01-01', '+' || i || ' minutes'), 'stdio' FROM n;
       ${count(n)} INSERT INTO messages (session_id, seq, t, dir, method, rpc_id, size, msg)
         SELECT printf('S%07d', i), 0, 1000, 'c2s', 'tools/call', '1',
           0, '{"jsonrpc":"2.0","id":1,"method":"tools/call","params":{"name":"echo","arguments":{}}}' FROM n`,
    );
    const policy = join(dir, 'allow.json');
    writeFileSync(policy, JSON.stringify({ version: '1', default: 'allow', tools: {} }));
    const replay = run(['replay', '--db', db, '--policy', policy, '-q']);
    expect(replay.stderr).toBe('');
    expect(replay.code).toBe(0);
    expect(replay.stdout).toContain(`${n} calls in ${n} sessions: ${n} allow, 0 deny, 0 throttle, 0 approval`);
    const diff = run(['diff', '--db', db, '--policy', policy, '--policy', policy, '--json']);
    expect(diff.code).toBe(0);
    expect(JSON.parse(diff.stdout)).toMatchObject({ type: 'summary', calls: n, changed: 0 });
  });

  it('replay of more JSONL files than the process may open at once', () => {
    const files = join(dir, 'files');
    mkdirSync(files);
    const args: string[] = [];
    for (let i = 0; i < 300; i++) {
      const file = join(files, `s${i}.jsonl`);
      const startedAt = new Date(Date.parse('2026-01-01T00:00:00Z') + i * 60_000).toISOString();
      const call = { jsonrpc: '2.0', id: 1, method: 'tools/call', params: { name: 'echo', arguments: {} } };
      writeFileSync(
        file,
        `${JSON.stringify({ type: 'session', id: `s${i}`, startedAt })}\n` +
          `${JSON.stringify({ type: 'message', seq: 0, t: 0, dir: 'c2s', msg: call })}\n`,
      );
      args.push(file);
    }
    const policy = join(dir, 'allow-files.json');
    writeFileSync(policy, JSON.stringify({ version: '1', default: 'allow', tools: {} }));
    // 300 files one after the other, 200 descriptors: each file is open only while it is read.
    const r = run(['replay', '--policy', policy, '--json', ...args], 'ulimit -n 200');
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    expect(JSON.parse(r.stdout.trimEnd().split('\n').at(-1)!)).toMatchObject({ type: 'summary', calls: 300 });
  });
});
