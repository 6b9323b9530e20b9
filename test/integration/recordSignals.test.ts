import { spawn } from 'node:child_process';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import {
  cli,
  closed,
  connect,
  denyByDefault,
  enforceArgs,
  eventually,
  lineEcho,
  recordArgs,
  recorded,
  root,
  tempDir,
} from './helpers.js';

const stubborn = join(root, 'test/fixtures/servers/stubborn.mjs');

/** Whether process `pid` is still running. */
function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

/** `record` in front of the stubborn server, once it has answered a ping: its stderr so far, the server's pid. */
async function stubbornBehindRecord(db: string) {
  const proc = spawn(process.execPath, recordArgs(db, [stubborn]), { stdio: ['pipe', 'pipe', 'pipe'] });
  let err = '';
  proc.stderr.on('data', (c: Buffer) => (err += c.toString()));
  proc.stdin.write('{"jsonrpc":"2.0","id":1,"method":"ping"}\n');
  await new Promise((r) => proc.stdout.once('data', r));
  return { proc, err: () => err, pid: Number(/stubborn pid (\d+)/.exec(err)?.[1]) };
}

describe('record and signals', () => {
  it('forwards SIGTERM to the server and exits as it did (128 + 15), closing the session', async () => {
    const db = join(tempDir(), 'rec.db');
    const proc = spawn(process.execPath, [cli, 'record', '--db', db, '--', process.execPath, lineEcho], {
      stdio: ['pipe', 'pipe', 'ignore'],
    });
    // Once the server answers, both processes are up.
    proc.stdin.write('{"jsonrpc":"2.0","id":1,"method":"ping"}\n');
    await new Promise((r) => proc.stdout.once('data', r));
    proc.kill('SIGTERM');
    const code = await new Promise<number | null>((r) => proc.on('exit', (c) => r(c)));
    expect(code).toBe(143);
    const rec = await eventually(() => {
      const r = recorded(db);
      if (r.info.endedAt === undefined) throw new Error('not closed');
      return r;
    });
    expect(rec.records.at(-1)).toMatchObject({ type: 'event', event: 'exit', data: { code: null, signal: 'SIGTERM' } });
    expect(rec.info.exitCode).toBe(143);
    expect(rec.s2c).toHaveLength(1);
  });

  it('kills a server that ignores SIGTERM (SIGKILL after a grace period) instead of waiting for it forever', async () => {
    const db = join(tempDir(), 'rec.db');
    const { proc, err, pid } = await stubbornBehindRecord(db);
    proc.kill('SIGTERM');
    const code = await new Promise<number | null>((r) => proc.on('exit', (c) => r(c)));
    expect(code).toBe(137);
    expect(alive(pid)).toBe(false);
    expect(err()).toMatch(/^mcp-replay: the server did not exit within 1 s of SIGTERM; killed it \(SIGKILL\)$/m);
    const rec = await closed(db);
    expect(rec.records.at(-1)).toMatchObject({ type: 'event', event: 'exit', data: { code: null, signal: 'SIGKILL' } });
    expect(rec.info.exitCode).toBe(137);
  }, 15_000);

  it('leaves no server running when an SDK client closes a proxy whose server ignores stdin closing and SIGTERM', async () => {
    // The SDK's close: stdin closed, SIGTERM after 2 s, SIGKILL 2 s later. Its SIGKILL hits the
    // proxy alone: unless the proxy killed the server first, the server runs on, orphaned.
    const db = join(tempDir(), 'rec.db');
    const { client, stderr } = await connect(process.execPath, recordArgs(db, [stubborn]));
    const pid = Number(/stubborn pid (\d+)/.exec(stderr())?.[1]);
    expect(alive(pid)).toBe(true);
    await client.close();
    await eventually(() => expect(alive(pid)).toBe(false));
    const rec = await closed(db);
    expect(rec.info.exitCode).toBe(137);
  }, 15_000);

  it('stops a server that stays up after its client closed stdin and went (SIGTERM, then SIGKILL) instead of waiting forever', async () => {
    // MCP's stdio shutdown is the client's: close stdin, SIGTERM a server that stays, then SIGKILL.
    // A host that only closes stdin left the proxy, the server and an open session behind.
    const db = join(tempDir(), 'rec.db');
    const { proc, err, pid } = await stubbornBehindRecord(db);
    proc.stdin.end();
    expect(await new Promise<number | null>((r) => proc.on('exit', (c) => r(c)))).toBe(137);
    expect(alive(pid)).toBe(false);
    expect(err()).toMatch(/^mcp-replay: the server did not exit within 2 s of its stdin closing; sent it SIGTERM$/m);
    expect(err()).toMatch(/stubborn: ignoring SIGTERM/);
    expect((await closed(db)).info.exitCode).toBe(137);
  }, 15_000);

  it.each(['record', 'enforce'])(
    '%s: a SIGTERM as the session starts (a host restarting it) ends the session, exit 143',
    async (command) => {
      // Signals came before the proxy forwarded them killed it outright: a session with no end.
      const dir = tempDir();
      const db = join(dir, 'rec.db');
      const args =
        command === 'record' ? recordArgs(db, [lineEcho]) : enforceArgs(denyByDefault(dir, {}), db, [lineEcho]);
      const proc = spawn(process.execPath, args, { stdio: ['pipe', 'ignore', 'pipe'] });
      proc.stderr.on('data', (c: Buffer) => {
        if (c.toString().includes('recording session')) proc.kill('SIGTERM');
      });
      const [code, signal] = await new Promise<[number | null, string | null]>((r) =>
        proc.on('exit', (c, s) => r([c, s])),
      );
      expect({ code, signal }).toEqual({ code: 143, signal: null });
      const rec = await closed(db);
      expect(rec.info.exitCode).toBe(143);
    },
  );
});
