import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { render } from 'ink-testing-library';
import { afterAll, describe, expect, it } from 'vitest';
import { openStore, type Approval, type ApprovalRequest } from '../../store/index.js';
import { ApprovalsApp } from '../../tui/approvals/index.js';

const dir = mkdtempSync(join(tmpdir(), 'mcp-replay-approvals-tui-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const T0 = Date.parse('2026-11-24T10:00:00.000Z');
const request = (tool: string, args: unknown, requestedAt: number): ApprovalRequest => ({
  sessionId: '01JSESSIONAAAAAAAAAAAAAAAA',
  seq: 3,
  grant: 'alice-agent',
  tool,
  args,
  reason: `${tool} requires approval`,
  rule: `tools.${tool}`,
  requestedAt,
  expiresAt: requestedAt + 60_000,
});

const DOWN = '\u001B[B';
const UP = '\u001B[A';

/** Resolves once `check` passes (ink renders and reads input asynchronously). */
async function until(check: () => void): Promise<void> {
  for (let i = 0; ; i++) {
    try {
      check();
      return;
    } catch (err) {
      if (i > 200) throw err;
      await new Promise((r) => setTimeout(r, 10));
    }
  }
}

describe('approvals TUI', () => {
  it('lists pending calls, approves with a and rejects with r, and sees requests other processes queue', async () => {
    const file = join(dir, 'tui.db');
    const tuiStore = openStore(file);
    const gateway = openStore(file); // another connection, as another process would have
    let quit = false;
    let ui: ReturnType<typeof render> | undefined;
    try {
      const first = gateway.enqueueApproval(request('run_command', { cmd: 'ls -la /srv' }, T0));
      const second = gateway.enqueueApproval(request('deploy', { env: 'prod', tag: 'x'.repeat(80) }, T0 + 5000));
      const now = { t: T0 + 12_000 };
      ui = render(
        <ApprovalsApp source={tuiStore} user="bob" pollMs={20} now={() => now.t} onExit={() => (quit = true)} />,
      );
      const frame = () => ui?.lastFrame() ?? '';
      expect(frame()).toContain('mcp-replay approvals: 2 pending');
      expect(frame()).toMatch(/> #1\s+run_command\s+\{"cmd":"ls -la \/srv"\}\s+01JSESSIONA…\s+alice-agent\s+12s\s+48s/);
      expect(frame()).toMatch(/ {2}#2\s+deploy\s+\{"env":"prod","tag":"x{18}…\s+01JSESSIONA…\s+alice-agent\s+7s/);
      expect(frame()).toContain('run_command requires approval (tools.run_command)');
      // The selected call's arguments in full, not the list's cut.
      expect(frame()).toContain('"cmd": "ls -la /srv"');

      // ↓ then r: rejects the second, not the first.
      ui!.stdin.write(DOWN);
      await until(() => expect(frame()).toMatch(/> #2\s+deploy/));
      ui!.stdin.write('r');
      await until(() => expect(frame()).toContain('rejected #2 deploy'));
      expect(gateway.getApproval(second.id)).toMatchObject({ status: 'rejected', decidedBy: 'bob', decidedAt: now.t });
      expect(gateway.getApproval(first.id)?.status).toBe('pending');
      expect(frame()).toContain('1 pending');

      // A request queued by the gateway shows up on the next refresh.
      const third = gateway.enqueueApproval(request('drop_table', { table: 'users' }, T0 + 11_000));
      await until(() => expect(frame()).toMatch(/#3\s+drop_table/));
      ui!.stdin.write(UP);
      await until(() => expect(frame()).toMatch(/> #1\s+run_command/));
      ui!.stdin.write('a');
      await until(() => expect(frame()).toContain('approved #1 run_command'));
      expect(gateway.getApproval(first.id)).toMatchObject({ status: 'approved', decidedBy: 'bob' });

      // After an answer the cursor is on no call: a second `a` approves nothing by itself.
      await until(() => expect(frame()).toContain('no call under the cursor'));
      ui!.stdin.write('a');
      await until(() => expect(frame()).toContain('no call under the cursor: choose one with ↑/↓'));
      expect(gateway.getApproval(third.id)?.status).toBe('pending');

      // Answered elsewhere (the gateway timed out) while under the cursor: the cursor does not
      // jump to another call; `a` then acts on none, and the TUI says why.
      ui!.stdin.write(DOWN);
      await until(() => expect(frame()).toMatch(/> #3\s+drop_table/));
      const fourth = gateway.enqueueApproval(request('drop_database', { db: 'prod' }, T0 + 11_500));
      await until(() => expect(frame()).toMatch(/#4\s+drop_database/));
      gateway.expireApproval(third.id, now.t);
      await until(() => expect(frame()).toContain('#3 drop_table is no longer pending'));
      ui!.stdin.write('a');
      await until(() => expect(frame()).toContain('no call under the cursor: choose one with ↑/↓'));
      expect(gateway.getApproval(fourth.id)?.status).toBe('pending');
      expect(gateway.getApproval(third.id)?.status).toBe('expired');
      gateway.expireApproval(fourth.id, now.t);
      await until(() => expect(frame()).toContain('no calls are waiting for approval'));

      ui!.stdin.write('q');
      await until(() => expect(quit).toBe(true));
    } finally {
      ui?.unmount();
      tuiStore.close();
      gateway.close();
    }
  });

  it('drops requests past their deadline from the list as time passes', async () => {
    const file = join(dir, 'deadline.db');
    const store = openStore(file);
    let ui: ReturnType<typeof render> | undefined;
    try {
      store.enqueueApproval(request('run_command', {}, T0));
      const now = { t: T0 + 1000 };
      ui = render(<ApprovalsApp source={store} user="bob" pollMs={20} now={() => now.t} />);
      expect(ui.lastFrame()).toContain('1 pending');
      now.t = T0 + 60_000;
      await until(() => expect(ui?.lastFrame()).toContain('0 pending'));
    } finally {
      ui?.unmount();
      store.close();
    }
  });
});

/** An in-memory queue: what the TUI needs of the db, answered as `Store` would. */
function memorySource(list: Approval[]) {
  const answered = new Map<number, string>();
  return {
    answered,
    source: {
      pendingApprovals: () => list.filter((a) => !answered.has(a.id)),
      resolveApproval: (id: number, status: 'approved' | 'rejected') => {
        if (answered.has(id) || !list.some((a) => a.id === id)) return false;
        answered.set(id, status);
        return true;
      },
    },
  };
}
const queued = (n: number, over: Partial<Approval> = {}): Approval[] =>
  Array.from({ length: n }, (_, i) => ({
    ...request('run_command', { i }, T0),
    id: i + 1,
    status: 'pending' as const,
    ...over,
  }));

describe('approvals TUI: what reaches the terminal', () => {
  it('shows the reason and rule of the call under the cursor with hidden characters escaped', () => {
    const { source } = memorySource(
      queued(1, { reason: 'needs a \u001b[31mhuman\u001b[0m \u202eevil', rule: 'tools.run\u0007' }),
    );
    const ui = render(<ApprovalsApp source={source} user="bob" now={() => T0} />);
    try {
      const frame = ui.lastFrame() ?? '';
      expect(frame).toContain('needs a \\u001b[31mhuman\\u001b[0m \\u202eevil (tools.run\\u0007)');
      for (const ch of ['\u001b', '\u0007', '\u202e']) expect(frame).not.toContain(ch);
    } finally {
      ui.unmount();
    }
  });
});

describe('approvals TUI: keys', () => {
  it('moves once per key when keys arrive in one chunk, and answers only a key pressed alone', async () => {
    const { source, answered } = memorySource(queued(5));
    const ui = render(<ApprovalsApp source={source} user="bob" pollMs={20} now={() => T0} />);
    const frame = () => ui.lastFrame() ?? '';
    try {
      ui.stdin.write('jjj');
      await until(() => expect(frame()).toMatch(/> #4\s+run_command/));
      ui.stdin.write('k');
      await until(() => expect(frame()).toMatch(/> #3\s+run_command/));
      // Text pasted into the window: its `a` approves nothing.
      ui.stdin.write('ja');
      await until(() => expect(frame()).toMatch(/> #4\s+run_command/));
      await until(() => expect(frame()).toContain('press a alone'));
      expect(answered.size).toBe(0);
      ui.stdin.write('a');
      await until(() => expect(frame()).toContain('approved #4 run_command'));
      expect([...answered]).toEqual([[4, 'approved']]);
    } finally {
      ui.unmount();
    }
  });
});

describe('approvals TUI: a list taller than the terminal', () => {
  it('scrolls with the cursor, pages, and keeps every line inside the terminal', async () => {
    const { source, answered } = memorySource(queued(60));
    const ui = render(<ApprovalsApp source={source} user="bob" pollMs={20} now={() => T0} height={16} width={60} />);
    const frame = () => ui.lastFrame() ?? '';
    const fits = () => {
      const lines = frame().split('\n');
      expect(lines.length).toBeLessThan(16);
      for (const l of lines) expect(l.length).toBeLessThanOrEqual(60);
    };
    try {
      expect(frame()).toMatch(/^mcp-replay approvals: 60 pending, 1–\d+ shown/);
      expect(frame()).toMatch(/> #1\s+run_command/);
      fits();
      ui.stdin.write('G');
      await until(() => expect(frame()).toMatch(/> #60\s+run_command/));
      expect(frame()).toContain('"i": 59');
      expect(frame()).not.toMatch(/#1\s/);
      fits();
      ui.stdin.write('\u001B[5~'); // PgUp
      await until(() => expect(frame()).not.toMatch(/> #60/));
      expect(frame()).toMatch(/> #\d+\s+run_command/);
      fits();
      ui.stdin.write('g');
      await until(() => expect(frame()).toMatch(/> #1\s+run_command/));
      ui.stdin.write('a');
      await until(() => expect(frame()).toContain('approved #1 run_command'));
      fits();
      expect([...answered]).toEqual([[1, 'approved']]);
    } finally {
      ui.unmount();
    }
  });

  it('cuts arguments that do not fit the terminal, saying how many lines are left', () => {
    const big = Object.fromEntries(Array.from({ length: 30 }, (_, i) => [`k${i}`, i]));
    const { source } = memorySource(queued(2, { args: big }));
    const ui = render(<ApprovalsApp source={source} user="bob" now={() => T0} height={20} width={80} />);
    try {
      const lines = (ui.lastFrame() ?? '').split('\n');
      expect(lines.length).toBeLessThan(20);
      expect(lines.join('\n')).toMatch(/> #1\s+run_command/);
      expect(lines.join('\n')).toMatch(/… \d+ more lines: mcp-replay approvals --json/);
    } finally {
      ui.unmount();
    }
  });
});
