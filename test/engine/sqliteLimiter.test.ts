import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { compilePolicyValue, decide } from '../../engine/index.js';
import { openStore, SqliteLimiter } from '../../store/index.js';
import { limiterContract } from './limiterContract.js';

limiterContract('SqliteLimiter', () => {
  const store = openStore(':memory:');
  return { limiter: new SqliteLimiter(store), dispose: () => store.close() };
});

describe('SqliteLimiter over a db file', () => {
  const dir = mkdtempSync(join(tmpdir(), 'mcp-replay-limiter-'));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('keeps budgets across a restart (close and reopen the db)', () => {
    const file = join(dir, 'restart.db');
    const compiled = compilePolicyValue({
      version: '1',
      default: 'allow',
      tools: { t: { limits: [{ window: 'hour', max: 2, scope: 'global' }] } },
    });
    if (!compiled.ok) throw new Error('policy');
    const call = { tool: 't', args: {}, session: 's', grant: 'g' };
    const run = (now: number) => {
      const store = openStore(file);
      try {
        const limiter = new SqliteLimiter(store);
        return limiter.atomically(() => decide(compiled.policy, limiter, call, now)).decision;
      } finally {
        store.close();
      }
    };
    // (1000, 3601000] holds 2000 only; (1000, 3601500] holds 2000 and 3601000.
    expect([run(1000), run(2000), run(3000), run(3_601_000), run(3_601_500)]).toEqual([
      'allow',
      'allow',
      'throttle',
      'allow',
      'throttle',
    ]);
  });

  it('is conservative under clock skew between processes: never allows more than a time-ordered stream', () => {
    const store = openStore(':memory:');
    try {
      const limiter = new SqliteLimiter(store);
      limiter.record('k', 1000, 1000);
      limiter.record('k', 500, 1000); // a process whose clock is behind: kept at 1000
      expect(limiter.wait('k', 1000, 2, 1600)).toBe(400); // both in (600, 1600]
      limiter.record('j', 2000, 1000); // a process whose clock is ahead
      expect(limiter.wait('j', 1000, 1, 1500)).toBe(1500); // counts as inside the window
      expect(limiter.wait('j', 1000, 2, 1500)).toBe(0);
    } finally {
      store.close();
    }
  });

  it('finds the max-th most recent call by its number, for any max', () => {
    const store = openStore(':memory:');
    try {
      const limiter = new SqliteLimiter(store);
      for (let i = 0; i < 5000; i++) limiter.record('big', i, 1_000_000);
      expect(limiter.wait('big', 1_000_000, 5000, 4999)).toBe(1_000_000 - 4999);
      expect(limiter.wait('big', 1_000_000, 4000, 4999)).toBe(1000 + 1_000_000 - 4999);
      expect(limiter.wait('big', 1_000_000, 5001, 4999)).toBe(0);
    } finally {
      store.close();
    }
  });

  it('prunes times no window can reach, per key on record and on every key on prune()', () => {
    const store = openStore(join(dir, 'prune.db'));
    try {
      const limiter = new SqliteLimiter(store);
      limiter.record('idle', 0, 100);
      for (let t = 0; t < 200; t++) limiter.record('busy', t * 10, 100);
      // 'busy' keeps (1890, 1990]: 1900..1990; 'idle' waits for a sweep.
      expect(limiter.size).toBe(10 + 1);
      const keys = () => store.db.prepare('SELECT key FROM limiter_keys ORDER BY key').pluck().all();
      expect(keys()).toEqual(['busy', 'idle']);
      limiter.prune(1990);
      expect(limiter.size).toBe(10);
      expect(keys()).toEqual(['busy']);
      limiter.prune(1e9);
      expect(limiter.size).toBe(0);
      expect(keys()).toEqual([]);
      // A key swept away comes back with its retention on the next record.
      limiter.record('busy', 2e9, 100);
      limiter.record('busy', 2e9 + 50, 100);
      expect(limiter.wait('busy', 100, 2, 2e9 + 50)).toBe(50);
    } finally {
      store.close();
    }
  });
});
