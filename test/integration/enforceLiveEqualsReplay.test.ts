import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { loadPolicy } from '../../cli/common.js';
import { dryRun, resolveSources, timeline } from '../../replayer/index.js';
import { openStore } from '../../store/store.js';
import { connect, enforceArgs, lineEcho, tempDir } from './helpers.js';

const policy = {
  version: '1',
  default: 'deny',
  tools: {
    echo: { limits: [{ window: '1s', max: 3, scope: 'grant' }] },
    read: { args: { properties: { path: { pattern: '^/srv/' } }, required: ['path'] } },
    'write*': { limits: [{ counter: 'writes', window: '2s', max: 2, scope: 'global' }] },
    wipe: { action: 'deny', reason: 'never' },
  },
  all_tools: { limits: [{ window: '1s', max: 5, scope: 'session' }] },
};

const callArb = fc.record({
  tool: fc.constantFrom('echo', 'read', 'write_a', 'write_b', 'wipe', 'other'),
  path: fc.constantFrom('/srv/x', '/etc/passwd'),
  // Bursts (0 ms apart) and pauses that let windows slide.
  gapMs: fc.oneof(fc.constant(0), fc.constant(0), fc.integer({ min: 50, max: 400 })),
});
const sessionArb = fc.record({
  grant: fc.constantFrom('alice', 'bob'),
  calls: fc.array(callArb, { minLength: 4, maxLength: 9 }),
});

describe('live ≡ dry-run', () => {
  it('replaying what enforce recorded gives the decisions enforce made', async () => {
    await fc.assert(
      fc.asyncProperty(fc.array(sessionArb, { minLength: 2, maxLength: 2 }), async (sessions) => {
        const dir = tempDir();
        const db = join(dir, 'gw.db');
        const file = join(dir, 'policy.json');
        writeFileSync(file, JSON.stringify(policy));
        // Sessions one after another on one db: grant and global budgets carry over between them.
        for (const s of sessions) {
          const { client } = await connect(process.execPath, enforceArgs(file, db, [lineEcho], ['--grant', s.grant]));
          for (const c of s.calls) {
            if (c.gapMs > 0) await new Promise((r) => setTimeout(r, c.gapMs));
            await client.callTool({ name: c.tool, arguments: c.tool === 'read' ? { path: c.path } : { n: 1 } });
          }
          await client.close();
        }
        const store = openStore(db, { mustExist: true });
        const live = new Map<string, string>();
        try {
          for (const info of store.allSessions())
            for (const d of store.sessionDecisions(info.id)) live.set(`${info.id}/${d.seq}`, `${d.decision} ${d.rule}`);
        } finally {
          store.close();
        }
        // Replay as `mcp-replay replay --policy FILE` does: every session of the db as one timeline.
        const replayed = new Map<string, string>();
        const again = openStore(db, { mustExist: true });
        try {
          for (const { call, verdict } of dryRun(loadPolicy(file), timeline(resolveSources([], () => again)))) {
            replayed.set(`${call.session}/${call.seq}`, `${verdict.decision} ${verdict.rule}`);
          }
        } finally {
          again.close();
        }
        expect(live.size).toBe(sessions.reduce((n, s) => n + s.calls.length, 0));
        expect(replayed).toEqual(live);
      }),
      { numRuns: 2 },
    );
  }, 120_000);
});
