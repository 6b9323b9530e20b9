import { spawn } from 'node:child_process';
import { readFileSync, readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { closed, eventually, recordArgs, root, tempDir } from './helpers.js';

const flood = join(root, 'test/fixtures/servers/flood.mjs');

/** `record` in front of the flood server, spoken to with raw pipes (a client that reads as it likes). */
function start(db: string, ...args: string[]) {
  return spawn(process.execPath, recordArgs(db, [flood, ...args]), { stdio: ['pipe', 'pipe', 'pipe'] });
}

describe('record under back-pressure', () => {
  it('a client reading slowly still gets, and the db still holds, all a server wrote before it exited', async () => {
    const db = join(tempDir(), 'rec.db');
    const proc = start(db, 'stdout-exit', '600'); // 600 KB: more than the pipes and sockets between hold
    let text = '';
    // 300 ms after each chunk it reads: the server's last messages are still in the pipe, and the
    // proxy waiting for the client, well after the server has exited.
    proc.stdout.on('data', (c: Buffer) => {
      text += c.toString();
      proc.stdout.pause();
      setTimeout(() => proc.stdout.resume(), 300);
    });
    const code = await new Promise((r) => proc.on('close', r));
    expect(code).toBe(0);
    expect(text.split('\n').filter(Boolean)).toHaveLength(600);
    const r = await closed(db);
    expect(r.s2c).toHaveLength(600);
    expect(r.info.exitCode).toBe(0);
  });

  it('records a big stderr write by whole lines: no line cut, no secret on disk', async () => {
    const dir = tempDir();
    const db = join(dir, 'rec.db');
    const proc = start(db, 'stderr-lines', '8000'); // ≈250 KB in one write
    let passed = '';
    proc.stderr.on('data', (c: Buffer) => (passed += c.toString()));
    await new Promise<void>((resolve) => proc.stdout.on('data', (c: Buffer) => c.includes('done') && resolve()));
    proc.stdin.end();
    await new Promise((r) => proc.on('close', r));
    // Passed through untouched...
    expect(passed).toContain('api_key=SECRET-7999-END');
    // ...recorded redacted, each event ending at a line's end.
    const r = await closed(db);
    const events = r.records.filter((x) => x.type === 'event' && x.event === 'stderr');
    const data = events.map((e) => (e as { data?: string }).data ?? '');
    expect(data.join('')).toContain('line 7999 api_key=[REDACTED]');
    for (const d of data) expect(d.endsWith('\n'), JSON.stringify(d.slice(-40))).toBe(true);
    const disk = readdirSync(dir, { recursive: true, encoding: 'utf8' })
      .filter((f) => statSync(join(dir, f)).isFile())
      .map((f) => readFileSync(join(dir, f)).toString('latin1'))
      .join('');
    expect(disk).not.toMatch(/SECRET-\d/);
  });

  it("a host that does not read the proxy's stderr stalls the server's, as it would without the proxy", async () => {
    const db = join(tempDir(), 'rec.db');
    const proc = start(db, 'stderr-flood', String(8 * 1024 * 1024));
    proc.stderr.pause(); // nobody reads it
    let done = false;
    proc.stdout.on('data', (c: Buffer) => (done ||= c.includes('done')));
    await new Promise((r) => setTimeout(r, 1500));
    // Without back-pressure the proxy would take all 8 MiB into memory and the server say `done`.
    expect(done).toBe(false);
    proc.stderr.resume();
    await eventually(() => expect(done).toBe(true));
    proc.stdin.end();
    expect(await new Promise((r) => proc.on('close', r))).toBe(0);
  });
});
