import { spawn, type ChildProcessWithoutNullStreams } from 'node:child_process';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { describe, expect, it } from 'vitest';
import { denyByDefault, enforceArgs, lineEcho, tempDir } from './helpers.js';

/** An `enforce` process in front of the line echo server, asked one call at a time. */
class Gateway {
  private readonly proc: ChildProcessWithoutNullStreams;
  private out = '';
  private next = 1;

  constructor(policy: string, db: string) {
    this.proc = spawn(process.execPath, enforceArgs(policy, db, [lineEcho]));
    this.proc.stdout.on('data', (c: Buffer) => (this.out += c.toString()));
    this.proc.stderr.resume();
  }

  get pid(): number {
    return this.proc.pid!;
  }

  /** Calls `echo` `n` times, one after the other; how many were allowed. */
  async calls(n: number): Promise<number> {
    let allowed = 0;
    for (let i = 0; i < n; i++) {
      const id = this.next++;
      this.proc.stdin.write(
        JSON.stringify({ jsonrpc: '2.0', id, method: 'tools/call', params: { name: 'echo', arguments: {} } }) + '\n',
      );
      const line = await until(() => this.out.split('\n').find((l) => l.includes(`"id":${id},`)));
      const reply = JSON.parse(line) as { result?: { isError?: boolean; content?: { text: string }[] } };
      if (!reply.result?.isError) allowed++;
      else expect(reply.result.content?.[0]?.text).toMatch(/^Rate limited/);
    }
    return allowed;
  }

  end(): Promise<void> {
    this.proc.stdin.end();
    return new Promise((r) => this.proc.on('close', () => r()));
  }

  kill(): Promise<void> {
    this.proc.kill('SIGKILL');
    return new Promise((r) => this.proc.on('close', () => r()));
  }
}

async function until<T>(get: () => T | undefined | false): Promise<T> {
  for (let i = 0; i < 400; i++) {
    const v = get();
    if (v) return v;
    await new Promise((r) => setTimeout(r, 10));
  }
  throw new Error('timed out');
}

/** Which registered gateways count alone (sole), read without touching the db. */
function soleGateways(db: string): number[] {
  const raw = new Database(db, { readonly: true });
  try {
    return (raw.prepare('SELECT pid FROM limiter_gateways WHERE sole = 1').all() as { pid: number }[]).map(
      (r) => r.pid,
    );
  } finally {
    raw.close();
  }
}

function setup(): { policy: string; db: string } {
  const dir = tempDir();
  const policy = denyByDefault(dir, { echo: { limits: [{ window: 'hour', max: 5, scope: 'global' }] } });
  return { policy, db: join(dir, 'gw.db') };
}

describe('enforce: a gateway alone on its db counts in memory and hands over exactly', () => {
  it('counts alone, hands its counters to a second gateway, and both then share the limit exactly', async () => {
    const { policy, db } = setup();
    const a = new Gateway(policy, db);
    expect(await a.calls(3)).toBe(3);
    await until(() => soleGateways(db).includes(a.pid));
    const b = new Gateway(policy, db);
    expect(await b.calls(5)).toBe(2); // 3 of 5 were taken by a, while it counted alone
    expect(soleGateways(db)).toEqual([]);
    expect(await a.calls(2)).toBe(0);
    await b.end();
    // Alone again: a becomes sole, with the counts it shared.
    await until(() => soleGateways(db).includes(a.pid));
    expect(await a.calls(1)).toBe(0);
    await a.end();
    const db2 = new Database(db, { readonly: true });
    expect(db2.prepare('SELECT count(*) FROM limiter_gateways').pluck().get()).toBe(0);
    expect(db2.prepare('SELECT count(*) FROM limiter_log').pluck().get()).toBe(5);
    db2.close();
  });

  it('a sole gateway killed with -9: what it counted is in its spool, and the next gateway counts it', async () => {
    const { policy, db } = setup();
    const a = new Gateway(policy, db);
    expect(await a.calls(3)).toBe(3);
    await until(() => soleGateways(db).includes(a.pid));
    await a.kill();
    const b = new Gateway(policy, db);
    expect(await b.calls(4)).toBe(2);
    await b.end();
  });

  it('a sole gateway killed while a newcomer waits: the newcomer copies its spool, then counts', async () => {
    const { policy, db } = setup();
    const a = new Gateway(policy, db);
    expect(await a.calls(4)).toBe(4);
    await until(() => soleGateways(db).includes(a.pid));
    // Stop a's event loop: it cannot hand over; the newcomer waits, then a dies.
    process.kill(a.pid, 'SIGSTOP');
    const b = new Gateway(policy, db);
    await new Promise((r) => setTimeout(r, 300));
    await a.kill();
    expect(await b.calls(3)).toBe(1);
    await b.end();
  });
});
