import { spawnSync, type SpawnSyncOptions } from 'node:child_process';
import { chmodSync, mkdirSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { describe, expect, it } from 'vitest';
import { MIGRATIONS } from '../../store/migrations.js';
import { encodeRow, spoolDir } from '../../store/spool.js';
import { CLI, ROOT, runCli, tempDir } from './runCli.js';

/**
 * A reviewer handed a copy of a db they may not write (a read-only file, folder or mount, another
 * user's file) runs every command that only reads on it. As root, chmod stops no write: the CLI
 * then runs as nobody (65534), the files readable by it.
 */
const NOBODY = 65534;
const root = process.getuid?.() === 0;
const asOther: Pick<SpawnSyncOptions, 'uid' | 'gid'> = root ? { uid: NOBODY, gid: NOBODY } : {};
const canDrop = !root || spawnSync(process.execPath, ['-e', ''], asOther).status === 0;

const SEED = join(ROOT, 'fixtures/sessions/seed-15-calls.jsonl');
const POLICY = join(ROOT, 'fixtures/policies/seed.json');

/** The CLI as a user who may read the db but not write it (nor its folder, once `lock`ed). */
function asReader(args: readonly string[]): { code: number | null; stdout: string; stderr: string } {
  const r = spawnSync(process.execPath, [CLI, ...args], { cwd: ROOT, encoding: 'utf8', timeout: 60_000, ...asOther });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr };
}

/** A folder with a db holding the seed session, written by this process (its owner). */
function seededDb(): { dir: string; db: string } {
  const dir = tempDir();
  const db = join(dir, 'r.db');
  const r = runCli(['sessions', 'import', SEED, '--db', db]);
  expect(r.code, r.stderr).toBe(0);
  return { dir, db };
}

/** Everything readable by the other user; the db and its folder writable by nobody but the owner, or by no one. */
function lock(dir: string, { folder = 0o555, files = 0o444 } = {}): void {
  for (const name of readdirSync(dir)) {
    const path = join(dir, name);
    if (name.endsWith('.spool')) {
      for (const f of readdirSync(path)) chmodSync(join(path, f), files);
      chmodSync(path, 0o555);
    } else chmodSync(path, files);
  }
  chmodSync(dir, folder);
}

/** A db change left in the `-wal` (and `-shm`) by a process killed before it closed the db. */
function changeInWal(db: string, sql: string): void {
  const script = `const db = new (require('better-sqlite3'))(${JSON.stringify(db)});
db.pragma('wal_autocheckpoint = 0');
db.exec(${JSON.stringify(sql)});
process.kill(process.pid, 'SIGKILL');`;
  const r = spawnSync(process.execPath, ['-e', script], { cwd: ROOT, encoding: 'utf8' });
  expect(r.signal, r.stderr).toBe('SIGKILL');
}

function listed(stdout: string): { id: string; name?: string; messages: number }[] {
  return stdout
    .trim()
    .split('\n')
    .filter(Boolean)
    .map((l) => JSON.parse(l) as { id: string; name?: string; messages: number });
}

describe.skipIf(!canDrop)('a db the reader may not write', () => {
  it('is read read-only by every reader command, with nothing created beside it', () => {
    const { dir, db } = seededDb();
    // A session whose tools simulate draws from.
    const tools = join(tempDir(), 'tools.jsonl');
    const tool = { name: 'get_sum', inputSchema: { type: 'object', properties: { a: { type: 'number' } } } };
    writeFileSync(
      tools,
      [
        { type: 'session', id: 'tools', startedAt: '2026-11-24T11:00:00.000Z', transport: 'stdio' },
        { type: 'message', seq: 0, t: 0, dir: 'c2s', msg: { jsonrpc: '2.0', id: 1, method: 'tools/list' } },
        { type: 'message', seq: 1, t: 10, dir: 's2c', msg: { jsonrpc: '2.0', id: 1, result: { tools: [tool] } } },
      ]
        .map((l) => JSON.stringify(l) + '\n')
        .join(''),
    );
    expect(runCli(['sessions', 'import', tools, '--db', db]).code).toBe(0);
    const exported = runCli(['sessions', 'export', 'seed-15-calls', '--db', db]).stdout;
    lock(dir);
    const list = asReader(['sessions', 'list', '--json', '--db', db]);
    expect(list.stderr).toBe('');
    expect(list.code).toBe(0);
    expect(listed(list.stdout)).toMatchObject([
      { id: 'seed-15-calls', messages: 33 },
      { id: 'tools', messages: 2 },
    ]);
    const show = asReader(['sessions', 'show', 'seed', '--json', '--db', db]);
    expect(show.code, show.stderr).toBe(0);
    expect(show.stdout.trim().split('\n')).toHaveLength(16); // the session and its 15 calls
    const exp = asReader(['sessions', 'export', 'seed-15-calls', '--db', db]);
    expect(exp.code, exp.stderr).toBe(0);
    expect(exp.stdout).toBe(exported);
    const replay = asReader(['replay', '--policy', POLICY, '--json', '--db', db]);
    expect(replay.code, replay.stderr).toBe(0);
    expect(JSON.parse(replay.stdout.trim().split('\n').at(-1)!)).toMatchObject({ type: 'summary', calls: 15 });
    const diff = asReader(['diff', '--policy', POLICY, '--policy', POLICY, '--json', '--db', db]);
    expect(diff.code, diff.stderr).toBe(0);
    const simulate = asReader([
      'simulate',
      '--policy',
      POLICY,
      '--from',
      'tools',
      '--runs',
      '5',
      '--seed',
      '1',
      '--db',
      db,
    ]);
    expect(simulate.code, simulate.stderr).toBe(0);
    const approvals = asReader(['approvals', '--json', '--db', db]);
    expect(approvals.code, approvals.stderr).toBe(0);
    expect(readdirSync(dir).sort()).toEqual(['r.db']);
  });

  it('a read-only folder with a writable file, and a read-only file in a writable folder', () => {
    const a = seededDb();
    lock(a.dir, { files: 0o666 });
    const inFolder = asReader(['sessions', 'list', '--json', '--db', a.db]);
    expect(inFolder.code, inFolder.stderr).toBe(0);
    expect(listed(inFolder.stdout)).toHaveLength(1);

    // The folder writable by all (as /tmp): SQLite read-only would leave a -wal and a -shm of
    // the reader's there, which lock the db's owner out of it.
    const b = seededDb();
    lock(b.dir, { folder: 0o777 });
    const inFile = asReader(['sessions', 'list', '--json', '--db', b.db]);
    expect(inFile.code, inFile.stderr).toBe(0);
    expect(listed(inFile.stdout)).toHaveLength(1);
    expect(readdirSync(b.dir)).toEqual(['r.db']);
  });

  it('reads what a killed process left in the -wal, with or without its -shm', () => {
    for (const keepShm of [true, false]) {
      const { dir, db } = seededDb();
      changeInWal(db, `UPDATE sessions SET name = 'renamed in the wal'`);
      if (!keepShm) rmSync(`${db}-shm`);
      const files = readdirSync(dir).sort();
      lock(dir);
      const r = asReader(['sessions', 'list', '--json', '--db', db]);
      expect(r.code, r.stderr).toBe(0);
      expect(r.stderr).toBe('');
      expect(listed(r.stdout)).toMatchObject([{ id: 'seed-15-calls', name: 'renamed in the wal' }]);
      expect(readdirSync(dir).sort()).toEqual(files);
    }
  });

  it("shows the rows a recorder's spool holds, and leaves the spool to a writer", () => {
    const { dir, db } = seededDb();
    const call = (seq: number) =>
      JSON.stringify({ jsonrpc: '2.0', id: 100 + seq, method: 'tools/call', params: { name: 'late', arguments: {} } });
    mkdirSync(spoolDir(db), { recursive: true, mode: 0o700 });
    // The rows of a recorder of another host (alive as far as anyone here knows), one already in the db.
    const spool = join(spoolDir(db), 'seed-15-calls.ffffffff.1.spool');
    writeFileSync(
      spool,
      '["s","seed-15-calls"]\n' +
        encodeRow({ kind: 'message', seq: 0, t: 0, dir: 'c2s', method: null, id: null, raw: '{"dup":true}' }) +
        encodeRow({ kind: 'message', seq: 40, t: 80e6, dir: 'c2s', method: 'tools/call', id: '140', raw: call(40) }) +
        encodeRow({ kind: 'raw', seq: 41, t: 81e6, dir: 's2c', raw: 'not json' }),
    );
    const before = readFileSync(spool);
    lock(dir);
    const list = asReader(['sessions', 'list', '--json', '--db', db]);
    expect(list.code, list.stderr).toBe(0);
    expect(list.stderr).toBe('');
    expect(listed(list.stdout)).toMatchObject([{ id: 'seed-15-calls', messages: 34 }]);
    const exp = asReader(['sessions', 'export', 'seed-15-calls', '--db', db]);
    expect(exp.code, exp.stderr).toBe(0);
    const lines = exp.stdout.trim().split('\n');
    expect(lines).toHaveLength(1 + 34 + 2); // the session, its messages, its stderr event and the non-JSON line
    expect(lines.at(-2)).toContain('"late"');
    expect(JSON.parse(lines.at(-1)!)).toMatchObject({ type: 'event', seq: 41, event: 'non-json' });
    expect(lines.some((l) => l.includes('dup'))).toBe(false);
    const replay = asReader(['replay', '--policy', POLICY, '--json', '--db', db]);
    expect(JSON.parse(replay.stdout.trim().split('\n').at(-1)!)).toMatchObject({ calls: 16 });
    expect(readFileSync(spool)).toEqual(before);

    // The spool cannot be read: said once, the rest is read.
    chmodSync(spool, 0o000);
    const unread = asReader(['sessions', 'list', '--json', '--db', db]);
    expect(unread.code, unread.stderr).toBe(0);
    expect(unread.stderr).toMatch(/^mcp-replay: .*r\.db: cannot read .*: the last rows .* are not shown\n$/);
    expect(listed(unread.stdout)).toMatchObject([{ messages: 33 }]);

    // Its owner, who may write it, copies the rows in, as before.
    chmodSync(spoolDir(db), 0o700);
    chmodSync(spool, 0o600);
    chmodSync(dir, 0o700);
    chmodSync(db, 0o600);
    expect(listed(runCli(['sessions', 'list', '--json', '--db', db]).stdout)).toMatchObject([{ messages: 34 }]);
    const copied = new Database(db, { readonly: true });
    expect(copied.prepare(`SELECT count(*) FROM messages`).pluck().get()).toBe(34);
    copied.close();
  });

  it('shows a session and an end that only a spool holds (the db was locked when its recorder started or ended)', () => {
    const { dir, db } = seededDb();
    mkdirSync(spoolDir(db), { recursive: true, mode: 0o700 });
    const call = JSON.stringify({ jsonrpc: '2.0', id: 1, method: 'tools/call', params: { name: 'echo' } });
    const info = { id: 'late', name: 'started locked', startedAt: '2026-11-24T12:00:00.000Z', transport: 'stdio' };
    writeFileSync(
      join(spoolDir(db), 'late.ffffffff.1.spool'),
      '["s","late"]\n' +
        encodeRow({ kind: 'session', info }) +
        encodeRow({ kind: 'message', seq: 0, t: 0, dir: 'c2s', method: 'tools/call', id: '1', raw: call }) +
        encodeRow({ kind: 'end', endedAt: '2026-11-24T12:00:01.000Z', exitCode: 4 }),
    );
    writeFileSync(
      join(spoolDir(db), 'seed-15-calls.ffffffff.2.spool'),
      '["s","seed-15-calls"]\n' + encodeRow({ kind: 'end', endedAt: '2026-11-24T10:02:00.000Z', exitCode: 0 }),
    );
    lock(dir);
    const list = asReader(['sessions', 'list', '--json', '--db', db]);
    expect(list.code, list.stderr).toBe(0);
    expect(list.stderr).toBe('');
    expect(listed(list.stdout)).toMatchObject([
      { id: 'seed-15-calls', messages: 33, endedAt: '2026-11-24T10:02:00.000Z', exitCode: 0 },
      { id: 'late', name: 'started locked', messages: 1, endedAt: '2026-11-24T12:00:01.000Z', exitCode: 4 },
    ]);
    const replay = asReader(['replay', '--policy', POLICY, '--json', 'late', '--db', db]);
    expect(replay.code, replay.stderr).toBe(0);
    expect(JSON.parse(replay.stdout.trim().split('\n').at(-1)!)).toMatchObject({ calls: 1 });

    // Its owner, who may write it, copies both in.
    chmodSync(dir, 0o700);
    chmodSync(db, 0o600);
    chmodSync(spoolDir(db), 0o700);
    for (const f of readdirSync(spoolDir(db))) chmodSync(join(spoolDir(db), f), 0o600);
    expect(runCli(['sessions', 'list', '--db', db]).code).toBe(0);
    const copied = new Database(db, { readonly: true });
    expect(copied.prepare(`SELECT id, name, ended_at, exit_code FROM sessions ORDER BY started_at`).all()).toEqual([
      { id: 'seed-15-calls', name: expect.any(String), ended_at: '2026-11-24T10:02:00.000Z', exit_code: 0 },
      { id: 'late', name: 'started locked', ended_at: '2026-11-24T12:00:01.000Z', exit_code: 4 },
    ]);
    expect(copied.prepare(`SELECT count(*) FROM messages WHERE session_id = 'late'`).pluck().get()).toBe(1);
    copied.close();
  });

  it('an older schema is not migrated: one line naming the db, exit 2', () => {
    const dir = tempDir();
    const db = join(dir, 'old.db');
    const old = new Database(db);
    old.pragma('journal_mode = WAL');
    for (const m of MIGRATIONS.slice(0, -1)) old.exec(m);
    old.pragma(`user_version = ${MIGRATIONS.length - 1}`);
    old.close();
    lock(dir);
    const r = asReader(['sessions', 'list', '--db', db]);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(
      new RegExp(`^mcp-replay: ${db}: database schema v${MIGRATIONS.length - 1} is older than this mcp-replay .*\\n$`),
    );
    const check = new Database(db, { readonly: true });
    expect(check.pragma('user_version', { simple: true })).toBe(MIGRATIONS.length - 1);
    check.close();
  });

  it('commands that write still fail on it with one line naming the db', () => {
    const { dir, db } = seededDb();
    lock(dir);
    for (const args of [
      ['sessions', 'rm', 'seed'],
      ['sessions', 'import', SEED],
      ['approvals', '--approve', '1'],
    ]) {
      const r = asReader([...args, '--db', db]);
      expect(r.code, args.join(' ')).toBe(2);
      expect(r.stderr).toBe(`mcp-replay: ${db}: cannot open database: attempt to write a readonly database\n`);
    }
    expect(readdirSync(dir)).toEqual(['r.db']);
  });
});
