import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { CLI, ROOT, tempDir } from './runCli.js';

const SEED = 'fixtures/policies/seed.json';
const SESSION = 'fixtures/sessions/seed-15-calls.jsonl';

/** A shell line, `$CLI` standing for the built CLI. */
function sh(line: string): { code: number | null; stdout: string; stderr: string } {
  const r = spawnSync('bash', ['-c', line], {
    cwd: ROOT,
    env: { ...process.env, CLI: `${process.execPath} ${CLI}` },
    encoding: 'utf8',
    timeout: 60_000,
  });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr };
}

describe('JSONL read from a pipe', () => {
  it('sessions export | sessions import /dev/stdin: the same session, every line of it', () => {
    const dir = tempDir();
    const [a, b] = [join(dir, 'a.db'), join(dir, 'b.db')];
    expect(sh(`$CLI sessions import --db ${a} ${SESSION}`).code).toBe(0);
    const r = sh(`$CLI sessions export --db ${a} seed-15-calls | $CLI sessions import --db ${b} /dev/stdin`);
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/^imported session seed-15-calls \(\d+ messages/);
    expect(r.stdout).not.toMatch(/\(0 messages/);
    const again = sh(`$CLI sessions export --db ${b} seed-15-calls`);
    expect(again.stdout).toBe(readFileSync(join(ROOT, SESSION), 'utf8'));
  });

  it('replay of a pipe (process substitution) decides its calls, as of the file', () => {
    const file = sh(`$CLI replay --policy ${SEED} --json ${SESSION}`);
    const piped = sh(`$CLI replay --policy ${SEED} --json <(cat ${SESSION})`);
    expect(piped.stderr).toBe('');
    expect(piped.code).toBe(0);
    expect(piped.stdout).toBe(file.stdout);
  });

  it('a big recording through a pipe (lines across many reads) imports whole', () => {
    const dir = tempDir();
    const n = 20_000;
    const r = sh(
      `node -e 'for (let i = 0; i < ${n}; i++) console.log(JSON.stringify({type: "message", seq: i, t: i, dir: "c2s", ` +
        `msg: {jsonrpc: "2.0", id: i, method: "tools/call", params: {name: "x", arguments: {pad: "${'p'.repeat(100)}"}}}}))' ` +
        `| $CLI sessions import --db ${join(dir, 'r.db')} --json /dev/stdin`,
    );
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    expect(JSON.parse(r.stdout)).toMatchObject({ type: 'imported', id: 'stdin', messages: n, events: 0 });
  });
});
