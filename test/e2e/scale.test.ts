import Database from 'better-sqlite3';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
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

/** The built CLI, its output kept whole (runCli's spawnSync stops at 1 MB). */
function run(args: readonly string[]): { code: number | null; stdout: string; stderr: string } {
  const r = spawnSync(process.execPath, [CLI, ...args], {
    cwd: ROOT,
    encoding: 'utf8',
    maxBuffer: 1 << 30,
    timeout: 60_000,
  });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr };
}

const count = (n: number) => `WITH RECURSIVE n(i) AS (SELECT 0 UNION ALL SELECT i + 1 FROM n WHERE i < ${n - 1})`;

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
    expect(lines.at(-1)).toMatch(/^S0129999\s+run\s+2026-04-01T06:39:00.000Z\s+0\s+0\s+open$/);
  });

  it(`sessions show prints an enforced session of ${MANY.toLocaleString('en-US')} decided calls`, () => {
    const db = dbWith(
      'enforced.db',
      `INSERT INTO sessions (id, started_at, transport) VALUES ('LIVE', '2026-01-01T00:00:00.000Z', 'stdio');
       ${count(MANY)} INSERT INTO messages (session_id, seq, t, dir, method, rpc_id, size, msg)
         SELECT 'LIVE', i, i * 1000, 'c2s', 'tools/call', i,
           0, '{"jsonrpc":"2.0","id":' || i || ',"method":"tools/call","params":{"name":"echo","arguments":{}}}' FROM n;
       ${count(MANY)} INSERT INTO decisions (session_id, seq, rpc_id, tool, decision, reason, rule, policy_sha256, at, n)
         SELECT 'LIVE', i, i, 'echo', 'allow', 'ok', 'default', 'f', 0, i + 1 FROM n`,
    );
    const r = run(['sessions', 'show', 'LIVE', '--db', db]);
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    const lines = r.stdout.trimEnd().split('\n');
    expect(lines).toHaveLength(4 + MANY);
    expect(lines.at(-1)).toMatch(/^129999\s+129\.999\s+echo \{\}\s+-\s+allow\s+no response$/);
  });
});
