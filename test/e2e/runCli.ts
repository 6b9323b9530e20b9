import { spawnSync } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

export const ROOT = join(import.meta.dirname, '../..');
export const CLI = join(ROOT, 'dist/cli/main.js');

export interface CliResult {
  code: number | null;
  stdout: string;
  stderr: string;
}

/** Runs the built CLI as a user would, with its own db unless MCP_REPLAY_DB is given. */
export function runCli(args: readonly string[], env: Record<string, string> = {}, input?: string): CliResult {
  const r = spawnSync(process.execPath, [CLI, ...args], {
    cwd: ROOT,
    env: { ...process.env, MCP_REPLAY_DB: join(tempDir(), 'r.db'), ...env },
    encoding: 'utf8',
    input,
    timeout: 60_000,
  });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr };
}

export function tempDir(): string {
  return mkdtempSync(join(tmpdir(), 'mcp-replay-test-'));
}

export function tempFile(name: string, content: string): string {
  const file = join(tempDir(), name);
  writeFileSync(file, content);
  return file;
}

/** A JSONL recording of one session with one `tools/call` of `tool` (with no answer). */
export function oneCallSession(tool: string): string {
  const session = {
    type: 'session',
    id: 'weird',
    startedAt: '2026-11-24T10:00:00.000Z',
    transport: 'stdio',
    server: {},
  };
  const msg = { jsonrpc: '2.0', id: 1, method: 'tools/call', params: { name: tool, arguments: {} } };
  const lines = [session, { type: 'message', seq: 0, t: 0, dir: 'c2s', msg }];
  return tempFile('weird.jsonl', lines.map((l) => JSON.stringify(l)).join('\n') + '\n');
}

/**
 * The environment of a program a person runs in a terminal: without the CI markers this
 * process may carry (CI=true in CI), which make ink skip interactive rendering (is-in-ci).
 */
export function terminalEnv(): NodeJS.ProcessEnv {
  const env = { ...process.env };
  for (const key of Object.keys(env))
    if (key === 'CI' || key === 'CONTINUOUS_INTEGRATION' || key.startsWith('CI_')) delete env[key];
  return env;
}
