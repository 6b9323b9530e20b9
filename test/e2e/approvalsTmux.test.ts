import { execFileSync, spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { openStore } from '../../store/index.js';
import { terminalEnv } from './runCli.js';

const cli = join(import.meta.dirname, '../../dist/cli/main.js');
const hasTmux = spawnSync('tmux', ['-V']).status === 0;
const dir = mkdtempSync(join(tmpdir(), 'mcp-replay-approvals-tmux-'));
const socket = `mcp-replay-test-${process.pid}`;
const tmux = (...args: string[]) =>
  execFileSync('tmux', ['-L', socket, '-f', '/dev/null', ...args], { encoding: 'utf8', env: terminalEnv() });

afterAll(() => {
  spawnSync('tmux', ['-L', socket, 'kill-server']);
  // tmux leaves its socket file behind.
  const uid = process.getuid?.();
  if (uid !== undefined) rmSync(join(process.env.TMUX_TMPDIR ?? '/tmp', `tmux-${uid}`, socket), { force: true });
  rmSync(dir, { recursive: true, force: true });
});

async function until<T>(what: string, get: () => T, ok: (v: T) => boolean): Promise<T> {
  let last: T | undefined;
  for (let i = 0; i < 300; i++) {
    last = get();
    if (ok(last)) return last;
    await new Promise((r) => setTimeout(r, 50));
  }
  throw new Error(`timed out waiting for ${what}; last seen:\n${String(last)}`);
}

describe.skipIf(!hasTmux)('mcp-replay approvals in a real terminal (tmux)', () => {
  it('approves and rejects with keys, shows requests queued meanwhile, quits with q', async () => {
    const db = join(dir, 'tmux.db');
    const store = openStore(db);
    try {
      const now = Date.now();
      const base = {
        sessionId: 'S1',
        grant: 'agent-x',
        reason: 'needs a human',
        rule: 'tools.run',
        expiresAt: now + 3_600_000,
      };
      const first = store.enqueueApproval({
        ...base,
        tool: 'run_command',
        args: { cmd: 'ls' },
        requestedAt: now - 2000,
      });
      const second = store.enqueueApproval({ ...base, tool: 'deploy', args: { env: 'prod' }, requestedAt: now - 1000 });

      tmux(
        'new-session',
        '-d',
        '-x',
        '120',
        '-y',
        '20',
        `${process.execPath} ${cli} approvals --db ${db} --user carol`,
      );
      const screen = () => tmux('capture-pane', '-p');
      await until('the list', screen, (s) => s.includes('2 pending') && s.includes('deploy'));

      tmux('send-keys', 'Down');
      await until('the cursor on #2', screen, (s) => /> #2\s+deploy/.test(s));
      tmux('send-keys', 'r');
      await until('the rejection', screen, (s) => s.includes('rejected #2 deploy'));
      expect(store.getApproval(second.id)).toMatchObject({ status: 'rejected', decidedBy: 'carol' });

      const third = store.enqueueApproval({ ...base, tool: 'drop_table', args: {}, requestedAt: Date.now() });
      await until('the new request', screen, (s) => s.includes('drop_table'));
      // After an answer the cursor is on no call until the human chooses one.
      tmux('send-keys', 'Up');
      await until('the cursor on #1', screen, (s) => /> #1\s+run_command/.test(s));
      tmux('send-keys', 'a');
      await until('the approval', screen, (s) => s.includes('approved #1 run_command'));
      expect(store.getApproval(first.id)).toMatchObject({ status: 'approved', decidedBy: 'carol' });
      expect(store.getApproval(third.id)?.status).toBe('pending');

      tmux('send-keys', 'q');
      await until(
        'the TUI to quit',
        () => spawnSync('tmux', ['-L', socket, 'has-session']).status,
        (s) => s !== 0,
      );
    } finally {
      store.close();
    }
  });
});
