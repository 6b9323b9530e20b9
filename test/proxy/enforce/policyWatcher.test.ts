import { mkdtempSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { decide, MemoryLimiter, type Policy } from '../../../engine/index.js';
import { PolicyWatcher, type PolicyWatcherOptions } from '../../../proxy/enforce/policyWatcher.js';

const dir = mkdtempSync(join(tmpdir(), 'mcp-replay-watch-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const policyText = (echo: 'allow' | 'deny') =>
  JSON.stringify({ version: '1', default: 'deny', tools: { echo: { action: echo } } }, null, 2) + '\n';

/** A watcher whose reloads and rejections can be awaited, and whose log is kept. */
function watched(file: string, options: PolicyWatcherOptions = {}) {
  const log: string[] = [];
  let waiting: ((what: string) => void) | undefined;
  const watcher = PolicyWatcher.open(file, {
    debounceMs: 20,
    pollMs: 100,
    ...options,
    log: (line) => log.push(line),
    onReload: () => waiting?.('reloaded'),
    onReject: () => waiting?.('rejected'),
  });
  const next = () => new Promise<string>((resolve) => (waiting = resolve));
  return { watcher, log, next };
}

const echoDecision = (policy: Policy) =>
  decide(policy, new MemoryLimiter(), { tool: 'echo', args: {}, session: 's', grant: 'g' }, 0).decision;

describe('PolicyWatcher (hot reload, SPEC §3)', () => {
  it('swaps in a valid new version and keeps the last valid one over an invalid one', async () => {
    const file = join(dir, 'policy.json');
    writeFileSync(file, policyText('allow'));
    const { watcher, log, next } = watched(file);
    try {
      expect(echoDecision(watcher.policy)).toBe('allow');

      let event = next();
      writeFileSync(file, policyText('deny'));
      expect(await event).toBe('reloaded');
      expect(echoDecision(watcher.policy)).toBe('deny');
      expect(watcher.version).toBe(1);

      const valid = watcher.policy;
      event = next();
      writeFileSync(file, policyText('allow').replace('"action"', '"acton"'));
      expect(await event).toBe('rejected');
      expect(watcher.policy).toBe(valid);
      expect(log.at(-1)).toBe(
        `mcp-replay: ${file}:6:7: tools.echo.acton: unknown field (did you mean action?); keeping the last valid policy (sha256 ${valid.sha256.slice(0, 12)})`,
      );
      // The same bad version is reported once, however often it is looked at.
      expect(watcher.check()).toBe('rejected');
      expect(log.filter((l) => l.includes('unknown field'))).toHaveLength(1);

      event = next();
      writeFileSync(file, policyText('allow'));
      expect(await event).toBe('reloaded');
      expect(echoDecision(watcher.policy)).toBe('allow');
      expect(log.filter((l) => l.includes('reloaded'))).toHaveLength(2);
    } finally {
      watcher.close();
    }
  });

  it('sees a file replaced by rename, with the stat check alone (no fs.watch events)', async () => {
    const file = join(dir, 'renamed.json');
    writeFileSync(file, policyText('allow'));
    const { watcher, next } = watched(file, { watch: false });
    try {
      const event = next();
      writeFileSync(join(dir, 'renamed.json.tmp'), policyText('deny'));
      renameSync(join(dir, 'renamed.json.tmp'), file);
      expect(await event).toBe('reloaded');
      expect(echoDecision(watcher.policy)).toBe('deny');
    } finally {
      watcher.close();
    }
  });

  it('keeps the last valid policy when the file disappears, and reports it in one line', async () => {
    const file = join(dir, 'gone.json');
    writeFileSync(file, policyText('allow'));
    const { watcher, log, next } = watched(file);
    try {
      const event = next();
      rmSync(file);
      expect(await event).toBe('rejected');
      expect(log.at(-1)).toMatch(/^mcp-replay: .*gone\.json: cannot read: no such file; keeping the last valid policy/);
      expect(echoDecision(watcher.policy)).toBe('allow');
    } finally {
      watcher.close();
    }
  });

  it('rejects a new version that is not UTF-8 (a Latin-1 save), keeping the last valid one', () => {
    const file = join(dir, 'latin1.json');
    writeFileSync(file, policyText('allow'));
    const { watcher, log } = watched(file, { watch: false, pollMs: 60_000 });
    try {
      // `"deny"` → `"d\xe9ny"`: read leniently, U+FFFD, and an error of another kind.
      writeFileSync(file, Buffer.from(policyText('deny').replace('"deny"', '"d\u00e9ny"'), 'latin1'));
      expect(watcher.check()).toBe('rejected');
      expect(log.at(-1)).toMatch(/latin1\.json:\d+:\d+: not UTF-8 text \(byte 0xE9\); save the file as UTF-8; keeping/);
      expect(echoDecision(watcher.policy)).toBe('allow');
    } finally {
      watcher.close();
    }
  });

  it('refuses to start on an invalid file with a one-line InputError naming file and line', () => {
    const file = join(dir, 'bad.json');
    writeFileSync(file, '{\n  "version": "1",\n  "default": "maybe"\n}\n');
    expect(() => PolicyWatcher.open(file)).toThrow(new RegExp(`^${file}:3:3: default: `));
    expect(() => PolicyWatcher.open(join(dir, 'missing.json'))).toThrow(/missing\.json: cannot read: no such file$/);
  });

  it('stops watching when closed', async () => {
    const file = join(dir, 'closed.json');
    writeFileSync(file, policyText('allow'));
    const { watcher } = watched(file);
    watcher.close();
    writeFileSync(file, policyText('deny'));
    expect(watcher.check()).toBe('unchanged');
    expect(echoDecision(watcher.policy)).toBe('allow');
  });
});

describe('PolicyWatcher: budgets a reload starts afresh', () => {
  const limited = (tools: Record<string, unknown>) => JSON.stringify({ version: '1', default: 'deny', tools });
  const limit = (extra: Record<string, unknown> = {}) => ({ window: 'hour', max: 5, ...extra });
  const hint =
    '; a limit without "counter" is counted by its tools key and index: name the counter to keep its budget through edits';

  it('warns when a version counts in counters the last one did not (renamed, re-indexed, re-scoped, added)', () => {
    const file = join(dir, 'renamed.json');
    writeFileSync(
      file,
      limited({ search: { limits: [limit()] }, fetch: { limits: [limit({ counter: 'f', scope: 'global' })] } }),
    );
    const { watcher, log } = watched(file, { watch: false });
    const warnings = () => log.filter((l) => l.includes('start empty'));
    try {
      writeFileSync(
        file,
        limited({ web_search: { limits: [limit()] }, fetch: { limits: [limit({ counter: 'f', scope: 'session' })] } }),
      );
      expect(watcher.check()).toBe('reloaded');
      expect(warnings()).toEqual([
        `mcp-replay: warning: policy ${file}: counters new in this version start empty: web_search#0 per grant, ` +
          `f per session (no longer counted: search#0 per grant, f global)${hint}`,
      ]);
      // A limit inserted first: the old one is now web_search#1, an empty budget.
      writeFileSync(
        file,
        limited({
          web_search: { limits: [limit({ window: 'day', max: 100 }), limit()] },
          fetch: { limits: [limit({ counter: 'f', scope: 'session' })] },
        }),
      );
      expect(watcher.check()).toBe('reloaded');
      expect(warnings().at(-1)).toBe(
        `mcp-replay: warning: policy ${file}: counters new in this version start empty: web_search#1 per grant${hint}`,
      );
      // A window or max changed, a limit dropped: the budgets go on, no warning.
      writeFileSync(
        file,
        limited({
          web_search: { limits: [limit({ window: 'minute', max: 9 }), limit()] },
          fetch: { limits: [] },
        }),
      );
      expect(watcher.check()).toBe('reloaded');
      expect(warnings()).toHaveLength(2);
    } finally {
      watcher.close();
    }
  });
});
