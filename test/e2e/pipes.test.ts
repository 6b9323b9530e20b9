import { spawnSync } from 'node:child_process';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { CLI, ROOT, tempDir } from './runCli.js';

const SEED = 'fixtures/policies/seed.json';
const SESSION = 'fixtures/sessions/seed-15-calls.jsonl';

/** A shell line, `$CLI` standing for the built CLI. */
function sh(line: string, timeout = 60_000): { code: number | null; stdout: string; stderr: string } {
  const r = spawnSync('bash', ['-c', line], {
    cwd: ROOT,
    env: { ...process.env, CLI: `${process.execPath} ${CLI}` },
    encoding: 'utf8',
    timeout,
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

  describe('a reader that stops early (| head) ends the command: it reads no more input', () => {
    // An agent's calls, a million of them (more than a test waits for): the writer says on stderr
    // how many it wrote before its reader (the command) was gone.
    const CAP = 1_000_000;
    const calls =
      `node -e 'let i = 0; const end = () => { process.stderr.write("wrote " + i + "\\n"); process.exit(0); }; ` +
      `process.stdout.on("error", end); const w = () => { while (i < ${CAP}) { ` +
      `if (!process.stdout.write(JSON.stringify({type: "message", seq: i, t: i, dir: "c2s", msg: {jsonrpc: "2.0", ` +
      `id: i++, method: "tools/call", params: {name: "invoke_agent_runtime", arguments: {}}}}) + "\\n")) ` +
      `return process.stdout.once("drain", w); } end(); }; w();'`;
    for (const [what, args] of [
      ['replay --json', `replay --policy ${SEED} --json`],
      ['replay (table)', `replay --policy ${SEED}`],
      ['diff --json', `diff --policy ${SEED} --policy fixtures/policies/strict.json --json`],
      ['diff (table)', `diff --policy ${SEED} --policy fixtures/policies/strict.json`],
    ] as const) {
      it(what, () => {
        const r = sh(
          `${calls} | $CLI ${args} /dev/stdin | head -c 2000; s=("\${PIPESTATUS[@]}"); echo; echo "exit \${s[1]}"`,
        );
        expect(r.code).toBe(0);
        expect(r.stdout.trimEnd().split('\n').at(-1)).toBe('exit 0');
        expect(Buffer.byteLength(r.stdout)).toBeGreaterThan(2000);
        const wrote = Number(/^wrote (\d+)$/.exec(r.stderr.trim())?.[1]);
        expect(wrote).toBeLessThan(CAP / 4);
      });
    }
  });

  it('diff --fail-on-change | head: the exit code still comes from every call', () => {
    // 5,000 allowed changes (allow->throttle) first, the one that fails (allow->deny) last.
    const dir = tempDir();
    const a = join(dir, 'a.json');
    const b = join(dir, 'b.json');
    writeFileSync(a, JSON.stringify({ version: '1', default: 'allow', tools: {} }));
    writeFileSync(
      b,
      JSON.stringify({
        version: '1',
        default: 'allow',
        tools: { t: { limits: [{ window: 'minute', max: 0 }] }, d: { action: 'deny' } },
      }),
    );
    const call = (seq: number, name: string) =>
      JSON.stringify({
        type: 'message',
        seq,
        t: seq,
        dir: 'c2s',
        msg: { jsonrpc: '2.0', id: seq, method: 'tools/call', params: { name, arguments: {} } },
      });
    const session = join(dir, 's.jsonl');
    writeFileSync(
      session,
      [...Array.from({ length: 5000 }, (_, i) => call(i, 't')), call(5000, 'd')].join('\n') + '\n',
    );
    for (const json of ['', '--json']) {
      const r = sh(
        `$CLI diff --policy ${a} --policy ${b} ${json} --fail-on-change --allow-transition 'allow->throttle' ${session} ` +
          `| head -c 1000 >/dev/null; echo "exit \${PIPESTATUS[0]}"`,
      );
      expect(r.stdout.trim()).toBe('exit 3');
      expect(r.stderr.trim()).toMatch(/^mcp-replay: 5001 call\(s\) changed decision \(allow->deny 1\)$/);
    }
  });
});

describe.skipIf(!existsSync('/dev/full'))('output that cannot be written (a full disk)', () => {
  it('is one line on stderr and exit 1, not a stack trace', () => {
    const dir = tempDir();
    const db = join(dir, 'r.db');
    expect(sh(`$CLI sessions import --db ${db} ${SESSION}`).code).toBe(0);
    for (const command of [
      `replay --db ${db} --policy ${SEED} --json`,
      `diff --db ${db} --policy ${SEED} --policy fixtures/policies/strict.json`,
      `sessions list --db ${db}`,
      `sessions show --db ${db} seed-15-calls`,
      `sessions export --db ${db} seed-15-calls`,
      `sessions export --db ${db} seed-15-calls -o /dev/full`,
    ]) {
      const r = sh(`$CLI ${command} > /dev/full`);
      expect(r.code, command).toBe(1);
      expect(r.stderr, command).toMatch(
        /^mcp-replay: (cannot write the output: ENOSPC: no space left on device, write|\/dev\/full: cannot write: ENOSPC)\n$/,
      );
    }
  });
});
