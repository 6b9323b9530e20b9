import { spawnSync } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { CLI, ROOT, tempDir, terminalEnv } from './runCli.js';

/** `script` (util-linux) runs a command with a terminal for its stderr. */
const hasScript = spawnSync('script', ['--version'], { encoding: 'utf8' }).status === 0;

/** Runs a shell line on a pseudo-terminal (`$CLI`: the built CLI); what the terminal showed, ESC as `<ESC>`. */
function onTerminal(line: string): { code: number | null; screen: string } {
  const r = spawnSync('script', ['-q', '-e', '-c', line, '/dev/null'], {
    cwd: ROOT,
    env: { ...terminalEnv(), CLI: `${process.execPath} ${CLI}` },
    encoding: 'utf8',
    input: '',
    timeout: 60_000,
  });
  return { code: r.status, screen: r.stdout.replaceAll('\x1b', '<ESC>') };
}

/** A bar drawn: `[###---]  40%  4,096 messages  5k/s` (erased by `\r<ESC>[2K`). */
const BAR = /\r\[#*-*\] +\d+% {2}[\d,]+ messages {2}\S+\/s<ESC>\[K/;

describe.skipIf(!hasScript)(`progress of the sessions commands on a terminal${hasScript ? '' : ' (no script)'}`, () => {
  const dir = tempDir();
  const db = join(dir, 'r.db');
  const session = join(dir, 's.jsonl');
  const lines = [JSON.stringify({ type: 'session', id: 'BIG', startedAt: '2026-01-01T00:00:00.000Z' })];
  for (let i = 0; i < 5000; i++) {
    const call = { jsonrpc: '2.0', id: i, method: 'tools/call', params: { name: 'read_file', arguments: { i } } };
    lines.push(JSON.stringify({ type: 'message', seq: 2 * i, t: 1000 * i, dir: 'c2s', msg: call }));
    const result = { jsonrpc: '2.0', id: i, result: { content: [{ type: 'text', text: 'x'.repeat(100) }] } };
    lines.push(JSON.stringify({ type: 'message', seq: 2 * i + 1, t: 1000 * i + 500, dir: 's2c', msg: result }));
  }
  writeFileSync(session, lines.join('\n') + '\n');

  it('sessions import: a bar while a slow writer feeds it (a pipe: a count and a rate)', () => {
    // Half the session, a pause of 1.5 s, the other half: the import outlasts the bar's first second.
    const half = Math.ceil(lines.length / 2);
    const r = onTerminal(
      `(head -n ${half} ${session}; sleep 1.5; tail -n +${half + 1} ${session}) | $CLI sessions import --db ${db} /dev/stdin`,
    );
    expect(r.code).toBe(0);
    expect(r.screen).toMatch(/\r[\d,]+ messages {2}\S+\/s<ESC>\[K/);
    expect(r.screen).toMatch(/\r<ESC>\[2Kimported session BIG \(10000 messages, 0 events\)/);
  });

  for (const command of ['export', 'show'])
    it(`sessions ${command}: a bar while a slow reader takes the output`, () => {
      // The reader's pause must outlast the CLI's start by the bar's first second, on a loaded machine too.
      const r = onTerminal(`$CLI sessions ${command} --db ${db} BIG | (sleep 3; cat > /dev/null)`);
      expect(r.code).toBe(0);
      expect(r.screen).toMatch(BAR);
      expect(r.screen.endsWith('\r<ESC>[2K')).toBe(true);
    });

  it('simulate: a bar of the --runs explored, with the calls decided and their rate, erased before the report', () => {
    const policy = join(ROOT, 'fixtures/policies/seed.json');
    const r = onTerminal(`$CLI simulate --policy ${policy} --runs 40000 --seed 1 > /dev/null`);
    expect(r.code).toBe(0);
    expect(r.screen).toMatch(/\r\[#*-*\] +\d+% {2}[\d,]+ calls decided {2}\S+\/s<ESC>\[K/);
    expect(r.screen.endsWith('\r<ESC>[2K')).toBe(true);
  });
});
