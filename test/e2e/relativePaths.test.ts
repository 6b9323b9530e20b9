import { spawnSync } from 'node:child_process';
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
