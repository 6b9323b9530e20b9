import { execFileSync, spawnSync } from 'node:child_process';
import { afterAll, describe, expect, it } from 'vitest';
import { CLI, ROOT, terminalEnv } from './runCli.js';

/**
 * The diff TUI in a real pseudo-terminal: tmux runs the built CLI, gets keys sent, and its
 * screen is read back. Skipped (with the reason in its name) where tmux is not installed.
 */
const hasTmux = spawnSync('tmux', ['-V']).status === 0;
const socket = `mcp-replay-test-${process.pid}`;
const tmux = (...args: string[]) =>
  execFileSync('tmux', ['-L', socket, '-f', '/dev/null', ...args], { encoding: 'utf8', cwd: ROOT, env: terminalEnv() });
const screen = () => tmux('capture-pane', '-p', '-t', 'diff');
/** The diff of the seed session under the seed and the strict policy (5 of 15 calls change). */
const SEED_DIFF = [
  process.execPath,
  CLI,
  'diff',
  '--policy',
  'fixtures/policies/seed.json',
  '--policy',
  'fixtures/policies/strict.json',
  'fixtures/sessions/seed-15-calls.jsonl',
].join(' ');

async function waitFor(text: string | RegExp, ms = 20_000): Promise<string> {
  const until = Date.now() + ms;
  for (;;) {
    const s = screen();
    if (typeof text === 'string' ? s.includes(text) : text.test(s)) return s;
    if (Date.now() > until) throw new Error(`screen never showed ${text}; it shows:\n${s}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

describe.skipIf(!hasTmux)(`diff TUI in a real terminal${hasTmux ? '' : ' (skipped: tmux is not installed)'}`, () => {
  afterAll(() => {
    spawnSync('tmux', ['-L', socket, 'kill-server']);
  });

  it('navigates, opens the detail pane, toggles all calls and quits on keys', async () => {
    tmux('new-session', '-d', '-s', 'diff', '-x', '120', '-y', '30', `${SEED_DIFF}; echo "EXITED $?"; sleep 60`);
    let s = await waitFor('q quit');
    expect(s).toContain('A fixtures/policies/seed.json → B fixtures/policies/strict.json');
    expect(s).toContain('15 calls, 5 changed   allow->throttle 5');
    expect(s).toMatch(/^>\+5\.000s\s+seed-15-c…\s+invoke_agent_runtime\s+allow\s+throttle/m);

    tmux('send-keys', '-t', 'diff', 'j');
    s = await waitFor('2/5');
    expect(s).toMatch(/^>\+6\.000s/m);

    tmux('send-keys', '-t', 'diff', 'Enter');
    s = await waitFor('arguments:');
    expect(s).toContain('invoke_agent_runtime (allow->throttle)');
    expect(s).toContain('session seed-15-calls seq 15 t 6000000 µs (2026-11-24T10:00:06.000Z)');
    expect(s).toContain('"payload": "task 7"');

    tmux('send-keys', '-t', 'diff', 'Escape');
    await waitFor('REASON');
    tmux('send-keys', '-t', 'diff', 'Tab');
    s = await waitFor('all calls');
    // Still on the same call, now among all 15.
    expect(s).toContain('7/15');
    expect(s).toMatch(/^>\+6\.000s/m);

    tmux('send-keys', '-t', 'diff', 'q');
    s = await waitFor('EXITED 0');
    // The alternate screen is gone; the summary line stays in the shell.
    expect(s).toContain('15 calls, 5 changed: allow->throttle 5');
    expect(s).not.toContain('q quit');
  });

  it('Ctrl-C interrupts: exit 130, no summary line', async () => {
    // It exited 0 and printed the summary, as `q` does: `diff … && deploy` went on.
    spawnSync('tmux', ['-L', socket, 'kill-session', '-t', 'diff']);
    tmux('new-session', '-d', '-s', 'diff', '-x', '120', '-y', '30', `${SEED_DIFF}; echo "EXITED $?"; sleep 60`);
    await waitFor('q quit');
    tmux('send-keys', '-t', 'diff', 'C-c');
    const s = await waitFor(/EXITED \d+/);
    expect(s).toContain('EXITED 130');
    expect(s).not.toContain('15 calls, 5 changed');
    tmux('kill-session', '-t', 'diff');
  });

  it('draws in colour, and without any under NO_COLOR', async () => {
    const cmd = (env: string) =>
      `${env} ${process.execPath} ${CLI} diff --policy fixtures/policies/seed.json --policy fixtures/policies/strict.json fixtures/sessions/seed-15-calls.jsonl`;
    const colours = async (name: string, env: string) => {
      tmux('new-session', '-d', '-s', name, '-x', '120', '-y', '30', `${cmd(env)}; sleep 60`);
      const until = Date.now() + 20_000;
      let s = '';
      while (!s.includes('q quit') && Date.now() < until) {
        await new Promise((r) => setTimeout(r, 100));
        s = tmux('capture-pane', '-p', '-e', '-t', name);
      }
      tmux('send-keys', '-t', name, 'q');
      expect(s).toContain('q quit');
      // SGR sequences that set a foreground colour (30–37, 90–97, 38;…).
      const sgr = new RegExp(String.raw`\u001b\[(?:[0-9;]*;)?(?:3[0-8]|9[0-7])(?:;[0-9;]*)?m`, 'g');
      return (s.match(sgr) ?? []).length;
    };
    expect(await colours('coloured', 'env -u NO_COLOR -u FORCE_COLOR')).toBeGreaterThan(0);
    expect(await colours('plain', 'env -u FORCE_COLOR NO_COLOR=1')).toBe(0);
  });

  it('redraws cleanly when the terminal narrows and shortens, and back', async () => {
    const cmd = `${process.execPath} ${CLI} diff --policy fixtures/policies/seed.json --policy fixtures/policies/strict.json fixtures/sessions/seed-15-calls.jsonl`;
    tmux('new-session', '-d', '-s', 'resize', '-x', '120', '-y', '30', `${cmd}; sleep 60`);
    const pane = () => tmux('capture-pane', '-p', '-t', 'resize');
    const settle = async (check: (s: string) => boolean) => {
      const until = Date.now() + 20_000;
      for (let s = pane(); ; s = pane()) {
        if (check(s)) return s;
        if (Date.now() > until) throw new Error(`the screen never settled; it shows:\n${s}`);
        await new Promise((r) => setTimeout(r, 100));
      }
    };
    await settle((s) => s.includes('q quit'));
    tmux('resize-window', '-t', 'resize', '-x', '30', '-y', '30');
    // The view from its first line, and nothing of the wide frame wrapped above or around it.
    let s = await settle((s) => s.startsWith('A fixtures/policies/seed.json…'));
    await new Promise((r) => setTimeout(r, 300));
    s = pane();
    expect(s.startsWith('A fixtures/policies/seed.json…\n15 calls, 5 changed')).toBe(true);
    expect(s.match(/changed calls/g)).toHaveLength(1);
    tmux('resize-window', '-t', 'resize', '-x', '30', '-y', '5');
    await settle((s) => /^>\+5\.000s/m.test(s) && s.includes('↑/↓'));
    tmux('resize-window', '-t', 'resize', '-x', '120', '-y', '30');
    s = await settle((s) => s.startsWith('A fixtures/policies/seed.json → B fixtures/policies/strict.json'));
    expect(s.match(/changed calls/g)).toHaveLength(1);
    tmux('send-keys', '-t', 'resize', 'q');
  });
});
