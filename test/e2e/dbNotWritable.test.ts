import { spawnSync, type SpawnSyncOptions } from 'node:child_process';
import { chmodSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { CLI, ROOT, tempDir } from './runCli.js';

/**
 * A host (Claude Desktop, Cursor) starts `record` where it likes: in `/`, with a HOME it may not
 * write. Where the db cannot be created, the one line says which folder refused it and why. As
 * root, chmod stops no write: the CLI then runs as nobody (65534).
 */
const NOBODY = 65534;
const root = process.getuid?.() === 0;
const asOther: Pick<SpawnSyncOptions, 'uid' | 'gid'> = root ? { uid: NOBODY, gid: NOBODY } : {};
const canDrop = !root || spawnSync(process.execPath, ['-e', ''], asOther).status === 0;

/** A folder this user may enter and read but not write. */
function readOnlyFolder(): string {
  const dir = tempDir();
  chmodSync(dir, root ? 0o755 : 0o555);
  return dir;
}

function record(args: string[], cwd: string, env: Record<string, string> = {}) {
  const r = spawnSync(
    process.execPath,
    [CLI, 'record', ...args, '--', process.execPath, join(ROOT, 'test/fixtures/servers/lineEcho.mjs')],
    { cwd, env: { PATH: process.env.PATH ?? '', ...env }, encoding: 'utf8', input: '', timeout: 60_000, ...asOther },
  );
  return { code: r.status, stdout: r.stdout, stderr: r.stderr };
}

describe.skipIf(!canDrop)('a db that cannot be created', () => {
  it('in a folder it may not write: names the folder (a relative --db as an absolute one) and says why', () => {
    const dir = readOnlyFolder();
    const r = record(['--db', 'rec.db'], dir);
    expect(r.code).toBe(2);
    expect(r.stderr).toBe(`mcp-replay: rec.db: cannot create it: ${dir} is not writable (permission denied)\n`);
  });

  it('under a HOME it may not write (the default db): names the folder it could not create and says why', () => {
    const home = readOnlyFolder();
    const r = record([], '/', { HOME: home });
    expect(r.code).toBe(2);
    expect(r.stderr).toBe(
      `mcp-replay: ${home}/.local/share/mcp-replay/recordings.db: cannot create its folder ${home}/.local: permission denied\n`,
    );
  });
});
