import { McpError } from '@modelcontextprotocol/sdk/types.js';
import { spawn, spawnSync } from 'node:child_process';
import { readFileSync, readdirSync, renameSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { describe, expect, it } from 'vitest';
import { openStore } from '../../store/store.js';
import { cli, closed, connect, eventually, lineEcho, recordArgs, recorded, tempDir, toy } from './helpers.js';

const SECRETS = [
  'tok-client-1234',
  'key-client-5678',
  'Bearer auth-client-9012',
  'sk-server-side-secret-9',
  'server-cookie-7',
  'gh-stderr-split-3',
];
const data = {
  query: 'q',
  token: SECRETS[0],
  nested: { api_key: SECRETS[1] },
  headers: { Authorization: SECRETS[2] },
};

function dbBytes(dir: string): string {
  // The db, its WAL and the recorders' spools, byte for byte: a secret must not be anywhere on disk.
  return readdirSync(dir, { recursive: true, encoding: 'utf8' })
    .filter((f) => f.startsWith('rec.db') && statSync(join(dir, f)).isFile())
    .map((f) => readFileSync(join(dir, f)).toString('latin1'))
    .join('');
}

/**
 * `record` in front of the line-echo server, driven line by line: `call(id)` sends a tools/call
 * and waits for its answer; `out()` and `err()` are what it wrote so far.
 */
function echoRecorder(db: string, extra: string[] = []) {
  const proc = spawn(process.execPath, recordArgs(db, [lineEcho], extra), { stdio: ['pipe', 'pipe', 'pipe'] });
  let out = '';
  let err = '';
  proc.stdout.on('data', (c: Buffer) => (out += c.toString()));
  proc.stderr.on('data', (c: Buffer) => (err += c.toString()));
  const exited = new Promise<number | null>((r) => proc.on('close', r));
  let gone = false;
  void exited.then(() => (gone = true));
  return {
    proc,
    exited,
    out: () => out,
    err: () => err,
    /** Sends a tools/call with this id and waits for the answer (failing at once if the recorder exited). */
    async call(id: number, timeoutMs?: number): Promise<void> {
      proc.stdin.write(JSON.stringify({ jsonrpc: '2.0', id, method: 'tools/call', params: { name: 'echo' } }) + '\n');
      await eventually(() => expect(out + (gone ? `\nexited: ${err}` : '')).toContain(`"id":${id},`), timeoutMs);
    },
  };
}

describe('record when things go wrong', () => {
  // One session through a misbehaving server: non-JSON on stdout, secrets both ways, then a crash mid-call.
  it('survives non-JSON, keeps secrets off the disk, and answers the pending call when the server crashes', async () => {
    const dir = tempDir();
    const db = join(dir, 'rec.db');
    const { client } = await connect(process.execPath, recordArgs(db, [toy]));
    const errors: Error[] = [];
    client.onerror = (e) => errors.push(e);

    // Non-JSON on the server's stdout: forwarded unchanged (the SDK client sees and rejects the line, as
    // it would without the proxy), recorded as an event, and the session goes on.
    expect(await client.callTool({ name: 'print', arguments: {} })).toMatchObject({ content: [{ text: 'printed' }] });
    expect(errors.some((e) => /JSON/i.test(e.message))).toBe(true);

    // Secrets in arguments and results: the client gets them all, the db none.
    const result = await client.callTool({ name: 'reflect', arguments: { data } });
    expect(JSON.stringify(result)).toContain(SECRETS[0]);
    expect(JSON.stringify(result)).toContain(SECRETS[3]);
    // While the session is live its rows are in its spool too: redacted there as well.
    const live = dbBytes(dir);
    expect(live).toContain('[REDACTED]');
    for (const s of SECRETS) expect(live).not.toContain(s);

    // The server crashes mid-call: the recorder's own answer, not the SDK's "connection closed" or a timeout.
    const started = Date.now();
    const error = await client.callTool({ name: 'crash', arguments: { code: 3 } }).then(
      () => undefined,
      (e: unknown) => e,
    );
    const elapsed = Date.now() - started;
    expect(error).toBeInstanceOf(McpError);
    expect((error as McpError).code).toBe(-32000);
    expect((error as McpError).message).toMatch(/exited with code 3 before answering/);
    // Loose bound for a loaded machine: the server exits 50 ms into the call, the answer follows its exit.
    expect(elapsed).toBeLessThan(5000);
    await client.close();

    const rec = await closed(db);
    expect(rec.info.exitCode).toBe(3);
    expect(rec.s2c.at(-1)).toMatchObject({ error: { code: -32000 } });
    expect(rec.records.find((r) => r.type === 'event' && r.event === 'exit')).toMatchObject({
      data: { code: 3, signal: null },
    });
    expect(rec.records.find((r) => r.type === 'event' && r.event === 'non-json')).toMatchObject({
      data: { dir: 's2c', text: 'this is not JSON-RPC' },
    });
    const bytes = dbBytes(dir);
    for (const s of SECRETS) expect(bytes).not.toContain(s);
    expect(
      rec.records.find((r) => r.type === 'event' && r.event === 'stderr' && /GITHUB_TOKEN/.test(String(r.data))),
    ).toMatchObject({
      data: 'GITHUB_TOKEN=[REDACTED] (from toy)\n',
    });
    const call = rec.c2s.find((m) => (m as { params?: { name?: string } }).params?.name === 'reflect') as {
      params: { arguments: { data: Record<string, unknown> } };
    };
    // The shape of the arguments is kept for replay.
    expect(call.params.arguments.data).toEqual({
      query: 'q',
      token: '[REDACTED]',
      nested: { api_key: '[REDACTED]' },
      headers: { Authorization: '[REDACTED]' },
    });
  });

  it('--no-redact stores everything; --redact adds keys', async () => {
    const dir = tempDir();
    const db = join(dir, 'rec.db');
    const { client } = await connect(process.execPath, recordArgs(db, [toy], ['--no-redact']));
    await client.callTool({ name: 'reflect', arguments: { data } });
    await client.callTool({ name: 'print', arguments: {} });
    await client.close();
    await closed(db);
    const bytes = dbBytes(dir);
    for (const s of SECRETS) expect(bytes).toContain(s);
    // --redact QUERY, through the same option parsing as a user's.
    const db2 = join(dir, 'rec2.db');
    const second = await connect(process.execPath, recordArgs(db2, [toy], ['--redact', 'QUERY']));
    await second.client.callTool({ name: 'reflect', arguments: { data } });
    await second.client.close();
    expect(JSON.stringify((await closed(db2)).c2s)).toContain('"query":"[REDACTED]"');
  });
});

/**
 * `record` in front of the line echo server with a file size limit (`ulimit -f`): the spool and
 * the db stop growing past it, as on a full disk. Sends `n` calls of about 20 KB one at a time.
 */
async function recordOnFullDisk(db: string, n: number) {
  const proc = spawn('sh', ['-c', 'ulimit -f 512 && exec "$0" "$@"', process.execPath, ...recordArgs(db, [lineEcho])], {
    stdio: ['pipe', 'pipe', 'pipe'],
  });
  let out = '';
  let err = '';
  proc.stdout.on('data', (c: Buffer) => (out += c.toString()));
  proc.stderr.on('data', (c: Buffer) => (err += c.toString()));
  const pad = 'p'.repeat(20_000);
  for (let id = 1; id <= n; id++) {
    proc.stdin.write(
      JSON.stringify({ jsonrpc: '2.0', id, method: 'tools/call', params: { name: 'echo', arguments: { pad } } }) + '\n',
    );
    await eventually(() => expect(out).toContain(`"id":${id},`));
  }
  proc.stdin.end();
  const code = await new Promise((r) => proc.on('close', r));
  return { code, out, err };
}

describe('record on a full disk', () => {
  it('forwards every byte, and says once what it could not record', async () => {
    const db = join(tempDir(), 'full.db');
    const n = 80;
    const { code, out, err } = await recordOnFullDisk(db, n);
    expect(code).toBe(0);
    const lines = out.split('\n').filter(Boolean);
    expect(lines).toEqual(
      Array.from({ length: n }, (_, i) =>
        JSON.stringify({
          jsonrpc: '2.0',
          id: i + 1,
          result: { content: [{ type: 'text', text: `tools/call ${i + 1} ${'x'.repeat(200)}` }] },
        }),
      ),
    );
    // Read without the limit: what the db and the spool kept.
    const store = openStore(db, { mustExist: true });
    const [session] = store.allSessions();
    const kept = [...store.records(session!.id)].length;
    store.close();
    const sent = 2 * n + 1; // every call, its answer, and the server's exit
    expect(kept).toBeLessThan(sent);
    // Not "writing to the db directly" alone while rows are being lost: what was lost, and how many.
    const ours = err.split('\n').filter((l) => l.startsWith('mcp-replay: ') && !l.includes('recording session'));
    expect(
      ours.some((l) => /recording failed, traffic continues unrecorded/.test(l)),
      err,
    ).toBe(true);
    expect(ours.at(-1), err).toContain(`${sent - kept} messages and events were not recorded`);
    expect(ours.length, err).toBeLessThanOrEqual(4);
  });
});

describe('record while another process holds the db', () => {
  it('a db locked for seconds does not hold the traffic up; the rows go in once it is free', async () => {
    const db = join(tempDir(), 'locked.db');
    const proc = spawn(process.execPath, recordArgs(db, [lineEcho]), { stdio: ['pipe', 'pipe', 'pipe'] });
    let out = '';
    let err = '';
    proc.stdout.on('data', (c: Buffer) => (out += c.toString()));
    proc.stderr.on('data', (c: Buffer) => (err += c.toString()));
    const call = async (id: number) => {
      const started = Date.now();
      proc.stdin.write(JSON.stringify({ jsonrpc: '2.0', id, method: 'tools/call', params: { name: 'echo' } }) + '\n');
      await eventually(() => expect(out).toContain(`"id":${id},`));
      return Date.now() - started;
    };
    await call(1);
    await eventually(() => expect(err).toContain('recording session'));
    // Another process (this one) takes the write lock and keeps it for 6 s, longer than SQLite's
    // 5 s busy timeout; calls come and go meanwhile, each after a pause (the copy runs in pauses).
    const locker = new Database(db);
    locker.exec('BEGIN EXCLUSIVE');
    const times: number[] = [];
    const until = Date.now() + 6000;
    for (let id = 2; Date.now() < until; id++) {
      times.push(await call(id));
      await new Promise((r) => setTimeout(r, 100));
    }
    locker.exec('COMMIT');
    locker.close();
    // Loose bound for a loaded machine; the copy waited 5 s for the lock on the forwarding thread.
    expect(Math.max(...times), String(times)).toBeLessThan(1500);
    const last = times.length + 1;
    expect(await call(last + 1)).toBeLessThan(1500);
    proc.stdin.end();
    expect(await new Promise((r) => proc.on('close', r))).toBe(0);
    const r = await closed(db);
    expect(r.c2s).toHaveLength(last + 1);
    expect(r.s2c).toHaveLength(last + 1);
  });
});

describe('record started while another process holds the db', () => {
  it('serves the agent at once and records the session into its spool until the lock is released', async () => {
    const db = join(tempDir(), 'busy.db');
    openStore(db).close();
    const locker = new Database(db);
    locker.exec('BEGIN EXCLUSIVE');
    // It stopped with "database is locked" after SQLite's 5 s: the agent lost its server.
    const rec = echoRecorder(db, ['--name', 'busy']);
    for (const id of [1, 2]) await rec.call(id, 15_000);
    expect(rec.err()).toContain('is locked by another process');
    expect(locker.prepare('SELECT count(*) FROM sessions').pluck().get()).toBe(0);
    locker.exec('COMMIT');
    locker.close();
    rec.proc.stdin.end();
    expect(await rec.exited).toBe(0);
    const r = await closed(db);
    expect(r.info).toMatchObject({ name: 'busy', exitCode: 0 });
    expect(r.c2s).toHaveLength(2);
    expect(r.s2c).toHaveLength(2);
  });

  it('a db still locked when the server exits: the session and its end wait in the spool for the next open', async () => {
    const db = join(tempDir(), 'busy.db');
    openStore(db).close();
    const locker = new Database(db);
    locker.exec('BEGIN EXCLUSIVE');
    const rec = echoRecorder(db);
    await rec.call(1, 15_000);
    rec.proc.stdin.end();
    expect(await rec.exited).toBe(0);
    locker.exec('COMMIT');
    locker.close();
    const r = recorded(db);
    expect(r.info.exitCode).toBe(0);
    expect(r.info.endedAt).toBeDefined();
    expect(r.c2s).toHaveLength(1);
    expect(readdirSync(`${db}.spool`)).toEqual([]);
  });
});

describe('the status of a session whose recorder was killed', () => {
  it("is 'open' while its recorder runs (and cannot be removed), 'no end' once it was killed (it stayed 'open' forever)", async () => {
    const db = join(tempDir(), 'k.db');
    const rec = echoRecorder(db);
    await rec.call(1);
    const status = () => {
      const r = spawnSync(process.execPath, [cli, 'sessions', 'list', '--db', db], { encoding: 'utf8' });
      expect(r.status, r.stderr).toBe(0);
      return r.stdout
        .trim()
        .split('\n')
        .at(-1)!
        .trim()
        .split(/\s{2,}/)
        .at(-1);
    };
    // --json says it too (a script picks the sessions `sessions rm` takes without --force).
    const open = () => {
      const id = recorded(db).info.id;
      const list = spawnSync(process.execPath, [cli, 'sessions', 'list', '--json', '--db', db], { encoding: 'utf8' });
      const show = spawnSync(process.execPath, [cli, 'sessions', 'show', '--json', '--db', db, id], {
        encoding: 'utf8',
      });
      const first = (text: string) => (JSON.parse(text.split('\n')[0]!) as { open?: unknown }).open;
      return [first(list.stdout), first(show.stdout)];
    };
    expect(status()).toBe('open');
    expect(open()).toEqual([true, true]);
    // A live session is not deleted from under its recorder (it dropped every later row, silently).
    const id = recorded(db).info.id;
    const rm = () => spawnSync(process.execPath, [cli, 'sessions', 'rm', '--db', db, id], { encoding: 'utf8' });
    const refused = rm();
    expect(refused.status).toBe(2);
    expect(refused.stderr).toBe(
      `mcp-replay: session ${id} is being recorded: stop its recorder first (else its later messages are dropped unrecorded), or --force\n`,
    );
    rec.proc.kill('SIGKILL');
    await rec.exited;
    expect(status()).toBe('no end');
    expect(open()).toEqual([false, false]);
    const show = spawnSync(process.execPath, [cli, 'sessions', 'show', '--db', db, recorded(db).info.id], {
      encoding: 'utf8',
    });
    expect(show.stdout).toContain('no end recorded');
    expect(rm().status).toBe(0);
  });
});

describe('record when its db is deleted', () => {
  it('forwards everything and says that the session went with the deleted file', async () => {
    const dir = tempDir();
    const db = join(dir, 'gone.db');
    const rec = echoRecorder(db);
    await rec.call(1);
    for (const f of readdirSync(dir)) if (f.startsWith('gone.db') && !f.endsWith('.spool')) rmSync(join(dir, f));
    await rec.call(2);
    await new Promise((r) => setTimeout(r, 1200)); // the copy into the db runs in pauses
    await rec.call(3);
    rec.proc.stdin.end();
    expect(await rec.exited).toBe(0);
    expect(rec.out().split('\n').filter(Boolean)).toHaveLength(3);
    const said = rec
      .err()
      .split('\n')
      .filter((l) => /deleted or replaced/.test(l));
    expect(said, rec.err()).toHaveLength(1);
    expect(said[0]).toContain(db);
  });
});

describe('record when its spool cannot be deleted', () => {
  it('still ends the session (its exit code) once every row is in the db', async () => {
    const dir = tempDir();
    const db = join(dir, 'rec.db');
    const proc = spawn(process.execPath, recordArgs(db, [lineEcho]), { stdio: ['pipe', 'pipe', 'pipe'] });
    let out = '';
    let err = '';
    proc.stdout.on('data', (c: Buffer) => (out += c.toString()));
    proc.stderr.on('data', (c: Buffer) => (err += c.toString()));
    proc.stdin.write(JSON.stringify({ jsonrpc: '2.0', id: 1, method: 'tools/call', params: { name: 'echo' } }) + '\n');
    await eventually(() => expect(out).toContain('"id":1,'));
    // The spool folder goes read-only under the recorder (here: replaced by a file, which stops
    // root too); the recorder's open spool is still written, but cannot be deleted at the end.
    renameSync(`${db}.spool`, `${db}.spool.moved`);
    writeFileSync(`${db}.spool`, '');
    proc.stdin.write(JSON.stringify({ jsonrpc: '2.0', id: 2, method: 'tools/call', params: { name: 'echo' } }) + '\n');
    await eventually(() => expect(out).toContain('"id":2,'));
    proc.stdin.end();
    expect(await new Promise((r) => proc.on('close', r))).toBe(0);
    rmSync(`${db}.spool`);
    const r = await closed(db);
    expect(r.info.exitCode).toBe(0);
    expect(r.c2s).toHaveLength(2);
    expect(err).toMatch(/cannot delete the spool/);
  });
});
