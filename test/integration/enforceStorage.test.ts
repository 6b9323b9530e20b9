import { spawn, type ChildProcessWithoutNullStreams } from 'node:child_process';
import { readdirSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { describe, expect, it } from 'vitest';
import { openStore } from '../../store/store.js';
import { cli, denyByDefault, enforceArgs, eventually, lineEcho, tempDir } from './helpers.js';

interface Reply {
  id: number;
  result?: { content?: { text: string }[]; isError?: boolean };
  error?: { code: number; message: string };
}

/**
 * `enforce` in front of the line echo server with a file size limit (`ulimit -f`): the spool and
 * the db stop growing past it, as on a full disk. Sends `n` calls of about 20 KB one at a time,
 * then a `ping`.
 */
/** Writes one request line to the gateway and waits for its answer in `out()` (what it wrote so far). */
async function request(
  proc: ChildProcessWithoutNullStreams,
  out: () => string,
  id: number,
  method: string,
  params?: unknown,
): Promise<Reply> {
  proc.stdin.write(JSON.stringify({ jsonrpc: '2.0', id, method, params }) + '\n');
  const line = await eventually(() => {
    const l = out()
      .split('\n')
      .find((x) => x.startsWith(`{"jsonrpc":"2.0","id":${id},`));
    if (!l) throw new Error(`no answer to ${id}`);
    return l;
  });
  return JSON.parse(line) as Reply;
}

async function enforceOnFullDisk(policy: string, db: string, n: number) {
  const args = [cli, 'enforce', '--policy', policy, '--db', db, '--', process.execPath, lineEcho];
  const proc = spawn('sh', ['-c', 'ulimit -f 512 && exec "$0" "$@"', process.execPath, ...args]);
  let out = '';
  let err = '';
  proc.stdout.on('data', (c: Buffer) => (out += c.toString()));
  proc.stderr.on('data', (c: Buffer) => (err += c.toString()));
  const replies = new Map<number, Reply>();
  const ask = async (id: number, method: string, params?: unknown) =>
    void replies.set(id, await request(proc, () => out, id, method, params));
  const pad = 'p'.repeat(20_000);
  for (let id = 1; id <= n; id++) await ask(id, 'tools/call', { name: 'echo', arguments: { pad } });
  await ask(n + 1, 'ping');
  proc.stdin.end();
  const code = await new Promise((r) => proc.on('close', r));
  return { code, replies, err };
}

describe('enforce when the store fails', () => {
  it('on a full disk, a call whose decision and count cannot be stored is refused, not let through unaudited', async () => {
    const dir = tempDir();
    const policy = denyByDefault(dir, { echo: { limits: [{ window: 'hour', max: 1000 }] } });
    const db = join(dir, 'gw.db');
    const n = 60;
    const { code, replies, err } = await enforceOnFullDisk(policy, db, n);
    expect(code).toBe(0);
    // Read without the limit (the spool the gateway left is copied now): what was stored.
    const store = openStore(db, { mustExist: true });
    const [session] = store.allSessions();
    const allowed = new Set(
      store
        .sessionDecisions(session!.id)
        .filter((d) => d.decision === 'allow')
        .map((d) => Number(d.rpcId)),
    );
    const counted = store.db.prepare('SELECT count(*) FROM limiter_log').pluck().get() as number;
    store.close();
    const forwarded = [...replies.values()].filter(
      (r) => r.id <= n && r.result?.content?.[0]?.text.startsWith('tools/call'),
    );
    const refused = [...replies.values()].filter((r) => r.id <= n && r.error);
    expect(forwarded.length + refused.length, err).toBe(n);
    expect(refused.length, err).toBeGreaterThan(0); // the disk did fill up
    // Every call the server saw was audited and counted (fail closed: none went through unrecorded).
    for (const r of forwarded) expect(allowed.has(r.id), `call ${r.id} went through, no decision stored`).toBe(true);
    expect(counted).toBe(forwarded.length);
    for (const r of refused) {
      expect(r.error!.code).toBe(-32603);
      expect(r.error!.message).toMatch(/fail closed.*could not be stored.*(disk|full|large)/i);
    }
    // Other traffic still flows; stderr does not say the calls do.
    expect(replies.get(n + 1)!.result).toBeDefined();
    expect(err).toMatch(/traffic continues unrecorded; calls are refused until it works again \(fail closed\)/);
  });
});

describe('enforce while another process holds the db', () => {
  it('a gateway alone on its db keeps deciding and forwarding at once while the db is locked for seconds', async () => {
    const dir = tempDir();
    const policy = denyByDefault(dir, { echo: { limits: [{ window: 'hour', max: 1000 }] } });
    const db = join(dir, 'gw.db');
    const proc = spawn(process.execPath, enforceArgs(policy, db, [lineEcho]));
    let out = '';
    proc.stdout.on('data', (c: Buffer) => (out += c.toString()));
    proc.stderr.resume();
    const call = async (id: number) => {
      const started = Date.now();
      proc.stdin.write(JSON.stringify({ jsonrpc: '2.0', id, method: 'tools/call', params: { name: 'echo' } }) + '\n');
      await eventually(() =>
        expect(out).toContain(`"id":${id},"result":{"content":[{"type":"text","text":"tools/call`),
      );
      return Date.now() - started;
    };
    await call(1);
    // Alone: it counts in memory (its heartbeat and its spool's copy are its only db writes).
    await eventually(() => {
      const raw = new Database(db, { readonly: true });
      try {
        expect(raw.prepare('SELECT sole FROM limiter_gateways').pluck().get()).toBe(1);
      } finally {
        raw.close();
      }
    });
    const locker = new Database(db);
    locker.exec('BEGIN EXCLUSIVE');
    const times: number[] = [];
    const until = Date.now() + 6000;
    let id = 2;
    for (; Date.now() < until; id++) {
      times.push(await call(id));
      await new Promise((r) => setTimeout(r, 100));
    }
    locker.exec('COMMIT');
    locker.close();
    // Loose bound for a loaded machine: its heartbeat waited 5 s for the lock, every second.
    expect(Math.max(...times), String(times)).toBeLessThan(1500);
    proc.stdin.end();
    expect(await new Promise((r) => proc.on('close', r))).toBe(0);
    const store = openStore(db, { mustExist: true });
    const [session] = store.allSessions();
    expect(store.sessionDecisions(session!.id).filter((d) => d.decision === 'allow')).toHaveLength(id - 1);
    expect(store.db.prepare('SELECT count(*) FROM limiter_log').pluck().get()).toBe(id - 1);
    store.close();
  });
});

describe('enforce when its db is deleted under it', () => {
  it.each([[[]], [['--no-record']]])(
    'denies every call from then on (%j): its counts and decisions would go into a file nobody reads',
    async (extra: string[]) => {
      const dir = tempDir();
      const policy = denyByDefault(dir, {
        echo: { limits: [{ window: 'hour', max: 1000, scope: 'global' }] },
        free: {},
      });
      const db = join(dir, 'gw.db');
      const proc = spawn(process.execPath, enforceArgs(policy, db, [lineEcho], extra));
      let out = '';
      proc.stdout.on('data', (c: Buffer) => (out += c.toString()));
      proc.stderr.resume();
      const ask = (id: number, method: string, params?: unknown) => request(proc, () => out, id, method, params);
      const text = (r: Reply) => r.result?.content?.[0]?.text ?? r.error?.message;
      expect(text(await ask(1, 'tools/call', { name: 'echo' }))).toMatch(/^tools\/call 1/);
      // Deleted (an agent with a file tool could): a gateway started now counts from nothing.
      for (const f of readdirSync(dir)) if (f.startsWith('gw.db') && !f.endsWith('.spool')) rmSync(join(dir, f));
      // The gateway looks every 20 ms (pollMs), not at every call.
      await new Promise((r) => setTimeout(r, 200));
      for (const [id, name] of [
        [2, 'echo'],
        [3, 'free'],
      ] as const) {
        const r = await ask(id, 'tools/call', { name });
        expect(r.result?.isError, `${name} went through`).toBe(true);
        expect(text(r)).toMatch(/^Denied by policy: .*gw\.db was deleted or replaced.*fail closed/);
      }
      expect((await ask(4, 'ping')).result).toBeDefined(); // the rest of the traffic still flows
      proc.stdin.end();
      expect(await new Promise((r) => proc.on('close', r))).toBe(0);
    },
  );
});
