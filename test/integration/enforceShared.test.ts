import { spawn } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { cli, denyByDefault, lineEcho, tempDir } from './helpers.js';

type Reply = { id: number; result?: { isError?: boolean; content: { text: string }[] } };

/** A raw client on an `enforce` process: sends `lines` in one write, resolves with `n` replies. */
function gatewayRun(
  args: string[],
  lines: string[],
  n: number,
): { replies: Promise<Reply[]>; end: () => Promise<void> } {
  const proc = spawn(process.execPath, [cli, 'enforce', ...args, '--', process.execPath, lineEcho], {
    stdio: ['pipe', 'pipe', 'ignore'],
  });
  const replies: Reply[] = [];
  let rest = '';
  const done = new Promise<Reply[]>((resolve) =>
    proc.stdout.on('data', (c: Buffer) => {
      const parts = (rest + c.toString()).split('\n');
      rest = parts.pop()!;
      for (const p of parts) replies.push(JSON.parse(p) as Reply);
      if (replies.length >= n) resolve(replies);
    }),
  );
  proc.stdin.write(lines.join('\n') + '\n');
  return {
    replies: done,
    end: () => {
      proc.stdin.end();
      return new Promise((r) => proc.on('close', () => r()));
    },
  };
}

const call = (id: number, name = 'echo') =>
  JSON.stringify({ jsonrpc: '2.0', id, method: 'tools/call', params: { name, arguments: {} } });

describe('enforce: one db, several gateways', () => {
  for (const processes of [2, 4]) {
    it(`${processes} processes sharing a global limit of 7: exactly 7 calls allowed`, async () => {
      const dir = tempDir();
      const file = denyByDefault(dir, { echo: { limits: [{ window: 'minute', max: 7, scope: 'global' }] } });
      const runs = Array.from({ length: processes }, () =>
        gatewayRun(
          ['--policy', file, '--db', join(dir, 'shared.db')],
          Array.from({ length: 6 }, (_, i) => call(i + 1)),
          6,
        ),
      );
      const replies = (await Promise.all(runs.map((r) => r.replies))).flat();
      await Promise.all(runs.map((r) => r.end()));
      expect(replies).toHaveLength(processes * 6);
      expect(replies.filter((r) => !r.result?.isError)).toHaveLength(7);
      expect(replies.filter((r) => r.result?.content[0]!.text.startsWith('Rate limited'))).toHaveLength(
        processes * 6 - 7,
      );
    });
  }

  it('a --shadow gateway on the same db leaves the enforcing gateways their whole budget', async () => {
    const dir = tempDir();
    const file = denyByDefault(dir, { echo: { limits: [{ window: 'minute', max: 3, scope: 'global' }] } });
    const db = ['--policy', file, '--db', join(dir, 'shared.db')];
    const calls = Array.from({ length: 5 }, (_, i) => call(i + 1));
    const shadow = gatewayRun([...db, '--shadow'], calls, 5);
    expect((await shadow.replies).filter((r) => r.result?.isError)).toEqual([]); // nothing enforced
    await shadow.end();
    const enforcing = gatewayRun(db, calls, 5);
    const replies = await enforcing.replies;
    await enforcing.end();
    expect(replies.filter((r) => !r.result?.isError)).toHaveLength(3);
  });

  it('hot reload: a valid new policy applies to the next call; an invalid one is ignored', async () => {
    const dir = tempDir();
    const file = join(dir, 'policy.json');
    const allow = (tool: string) => JSON.stringify({ version: '1', default: 'deny', tools: { [tool]: {} } });
    writeFileSync(file, allow('echo'));
    const proc = spawn(
      process.execPath,
      [cli, 'enforce', '--policy', file, '--db', join(dir, 'gw.db'), '--', process.execPath, lineEcho],
      {
        stdio: ['pipe', 'pipe', 'pipe'],
      },
    );
    let out = '';
    let err = '';
    proc.stdout.on('data', (c: Buffer) => (out += c.toString()));
    proc.stderr.on('data', (c: Buffer) => (err += c.toString()));
    const ask = async (id: number, tool: string) => {
      proc.stdin.write(call(id, tool) + '\n');
      for (let i = 0; i < 200 && !out.includes(`"id":${id},`); i++) await new Promise((r) => setTimeout(r, 25));
      const line = out.split('\n').find((l) => l.includes(`"id":${id},`))!;
      return (JSON.parse(line) as Reply).result?.isError ? 'deny' : 'allow';
    };
    const until = async (cond: () => boolean) => {
      for (let i = 0; i < 200 && !cond(); i++) await new Promise((r) => setTimeout(r, 25));
    };
    expect(await ask(1, 'echo')).toBe('allow');
    expect(await ask(2, 'other')).toBe('deny');
    writeFileSync(file, allow('other'));
    await until(() => err.includes('reloaded'));
    expect(await ask(3, 'other')).toBe('allow');
    expect(await ask(4, 'echo')).toBe('deny');
    writeFileSync(file, '{"version": "1", "default": "allow", "tools": {"x": {"action": "maybe"}}}');
    await until(() => err.includes('keeping the last valid policy'));
    expect(err).toMatch(/policy\.json:1:\d+: tools\.x\.action/);
    expect(await ask(5, 'echo')).toBe('deny'); // still the last valid version
    proc.stdin.end();
    await new Promise((r) => proc.on('close', r));
  });
});
