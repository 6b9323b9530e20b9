import { spawn } from 'node:child_process';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { cli, eventually, lineEcho, recorded, tempDir } from './helpers.js';

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
});
