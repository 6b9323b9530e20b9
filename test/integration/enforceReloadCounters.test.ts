import { execFileSync } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { cli, connect, eventually, everything, tempDir } from './helpers.js';

const limited = (window: string) =>
  JSON.stringify({
    version: '1',
    default: 'deny',
    tools: { echo: { limits: [{ counter: 'echo', window, max: 2, scope: 'global' }] } },
  });

describe('enforce: counters across a hot reload', () => {
  it('a reload that widens a window counts the calls made before it (and a restart keeps them)', async () => {
    const dir = tempDir();
    const db = join(dir, 'gw.db');
    const file = join(dir, 'policy.json');
    writeFileSync(file, limited('1s'));
    const gateway = () =>
      connect(process.execPath, [cli, 'enforce', '--policy', file, '--db', db, '--', process.execPath, ...everything]);
    const echo = async (client: Awaited<ReturnType<typeof gateway>>['client']) => {
      const r = await client.callTool({ name: 'echo', arguments: { message: 'm' } });
      return r.isError ? 'throttle' : 'allow';
    };
    const first = await gateway();
    expect([await echo(first.client), await echo(first.client)]).toEqual(['allow', 'allow']);
    await new Promise((r) => setTimeout(r, 1100));
    // 2 per second: allowed, and the two calls before it are out of its window.
    expect(await echo(first.client)).toBe('allow');
    writeFileSync(file, limited('1h'));
    await eventually(() => expect(first.stderr()).toContain('reloaded'));
    // 2 per hour: the last hour holds three calls already.
    expect(await echo(first.client)).toBe('throttle');
    await first.client.close();
    const second = await gateway();
    expect(await echo(second.client)).toBe('throttle');
    await second.client.close();

    // A dry-run of both sessions under the widened version: the call after the reload is
    // decided as it was live, and the summary says two versions decided live.
    const replay = execFileSync(process.execPath, [cli, 'replay', '--db', db, '--policy', file], { encoding: 'utf8' });
    const rows = replay.split('\n').filter((l) => l.includes('echo  '));
    expect(rows[3]).toMatch(/throttle .*per hour/);
    expect(rows[3]).not.toContain('[live:');
    expect(rows[2]).toContain('[live: allow]'); // allowed by the first version
    expect(replay).toContain('enforced live by 2 versions of the policy (reloaded while running; 2 calls by this one)');
  });
});
