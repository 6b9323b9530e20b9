import { spawnSync } from 'node:child_process';
import { userInfo } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { CLI, ROOT, tempDir } from './runCli.js';

/**
 * A host (Claude Desktop, Cursor) starts us in a folder of its choosing, often `/`: a relative
 * path there names a file nobody meant, and the error says where it was looked for.
 */
function runIn(cwd: string, args: string[]) {
  const r = spawnSync(process.execPath, [CLI, ...args], {
    cwd,
    env: { ...process.env, MCP_REPLAY_DB: join(tempDir(), 'r.db') },
    encoding: 'utf8',
    input: '',
    timeout: 60_000,
  });
  return { code: r.status, stderr: r.stderr };
}

describe('a relative path that names no file', () => {
  const server = ['--', process.execPath, join(ROOT, 'test/fixtures/servers/lineEcho.mjs')];

  it.each([
    ['enforce --policy', ['enforce', '--policy', 'policy.json', ...server], 'policy.json'],
    ['replay --policy', ['replay', '--policy', 'policy.json', 's.jsonl'], 'policy.json'],
    ['replay SESSION', ['replay', '--policy', join(ROOT, 'fixtures/policies/seed.json'), 's.jsonl'], 's.jsonl'],
    ['sessions import', ['sessions', 'import', 's.jsonl'], 's.jsonl'],
  ])('%s: names the current folder it was looked up in', (_what, args, file) => {
    const cwd = tempDir();
    const r = runIn(cwd, args);
    expect(r.code).toBe(2);
    expect(r.stderr).toContain(`mcp-replay: ${file}: `);
    expect(r.stderr).toMatch(new RegExp(`: no such file \\(relative to the current folder ${cwd}\\)\\n$`));
  });
});

describe('a $HOME that is empty or relative', () => {
  it.each(['', 'home'])(
    'HOME=%j: the default db is in the home folder the system knows, not the current folder',
    (home) => {
      const cwd = tempDir();
      const env: Record<string, string> = { PATH: process.env.PATH ?? '', HOME: home };
      // `sessions show` creates nothing, and names the db it read.
      const r = spawnSync(process.execPath, [CLI, 'sessions', 'show', 'NO-SUCH-ID'], {
        cwd,
        env,
        encoding: 'utf8',
        timeout: 60_000,
      });
      const db = join(userInfo().homedir, '.local/share/mcp-replay/recordings.db');
      expect(r.stderr).toBe(`mcp-replay: unknown session NO-SUCH-ID in ${db} (see 'mcp-replay sessions list')\n`);
    },
  );
});
