import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it, vi } from 'vitest';
import { compilePolicyValue, decide } from '../../engine/index.js';
import { SessionLog } from '../../recorder/sessionLog.js';
import { openStore, SqliteLimiter, type Store } from '../../store/index.js';
import { limiterContract } from './limiterContract.js';

limiterContract('SqliteLimiter', ({ retainMs }) => {
  const store = openStore(':memory:');
  return { limiter: new SqliteLimiter(store, { retainMs }), dispose: () => store.close() };
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

  it('keeps the budget of a key the db cannot store as is (a grant with a lone surrogate)', () => {
    const file = join(dir, 'surrogate.db');
    const open = () => {
      const store = openStore(file);
      return { store, limiter: new SqliteLimiter(store) };
    };
    const key = 'grant|tools.t|0|q\ud800';
    const first = open();
    first.limiter.atomically(() => first.limiter.record(key, 1000, 60_000));
    first.store.close();
    const again = open();
    expect(again.limiter.wait(key, 60_000, 1, 2000)).toBe(59_000);
    again.store.close();
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

  it('prunes log rows no window can reach, every key at once, and keeps budgets through it', () => {
    const store = openStore(join(dir, 'prune.db'));
    try {
      const limiter = new SqliteLimiter(store);
      limiter.record('idle', 0, 100);
      for (let t = 0; t < 200; t++) limiter.record('busy', t * 10, 100);
      expect(limiter.size).toBe(201);
      // At 1990 'busy' still needs (1890, 1990]: 1900..1990; 'idle' needs nothing.
      limiter.prune(1990);
      expect(limiter.size).toBe(10);
      expect(limiter.wait('busy', 100, 10, 1990)).toBe(10);
      // A second process opening the db now rebuilds the same counters from what is left.
      const other = new SqliteLimiter(store);
      expect(other.wait('busy', 100, 10, 1990)).toBe(10);
      expect(other.wait('busy', 100, 11, 1990)).toBe(0);
      // Everything expired: one row stays (the newest, so ids never go back), and counts nothing.
      limiter.prune(1e9);
      expect(limiter.size).toBe(1);
      expect(new SqliteLimiter(store).wait('busy', 100, 1, 1e9)).toBe(0);
      limiter.record('busy', 2e9, 100);
      limiter.record('busy', 2e9 + 50, 100);
      expect(limiter.wait('busy', 100, 2, 2e9 + 50)).toBe(50);
      expect(other.wait('busy', 100, 2, 2e9 + 50)).toBe(50);
    } finally {
      store.close();
    }
  });

  /** Two connections to one db file (two gateway processes), closed after `fn`. */
  const twoConnections = (name: string, fn: (a: Store, b: Store) => void) => {
    const a = openStore(join(dir, name));
    const b = openStore(join(dir, name));
    try {
      fn(a, b);
    } finally {
      a.close();
      b.close();
    }
  };

  it('sees what other connections recorded at its next transaction', () => {
    twoConnections('shared.db', (a, b) => {
      const la = new SqliteLimiter(a);
      const lb = new SqliteLimiter(b);
      la.record('k', 1000, 1000);
      expect(lb.atomically(() => lb.wait('k', 1000, 1, 1500))).toBe(500);
      lb.record('k', 1200, 1000);
      expect(la.atomically(() => la.wait('k', 1000, 2, 1500))).toBe(500);
      // A batch that fails rolls back: what it recorded is forgotten by memory too.
      expect(() =>
        la.batch(() => {
          la.atomically(() => la.record('k', 1300, 1000));
          throw new Error('boom');
        }),
      ).toThrow('boom');
      expect(la.wait('k', 1000, 3, 1500)).toBe(0);
      expect(lb.wait('k', 1000, 3, 1500)).toBe(0);
    });
  });

  it('counts a namespace (a --shadow gateway) apart: it never spends the shared budgets, and its own persist', () => {
    twoConnections('shadow.db', (a, b) => {
      const enforcing = new SqliteLimiter(a);
      const shadow = new SqliteLimiter(b, { namespace: 'shadow/' });
      for (let t = 1000; t < 1005; t++) shadow.atomically(() => shadow.record('global|k', t, 60_000));
      expect(enforcing.atomically(() => enforcing.wait('global|k', 60_000, 1, 2000))).toBe(0);
      enforcing.atomically(() => enforcing.record('global|k', 2000, 60_000));
      expect(shadow.atomically(() => shadow.wait('global|k', 60_000, 6, 2500))).toBe(0);
      expect(shadow.atomically(() => shadow.wait('global|k', 60_000, 5, 2500))).toBe(58_500);
      const again = new SqliteLimiter(a, { namespace: 'shadow/' });
      expect(again.atomically(() => again.wait('global|k', 60_000, 5, 2500))).toBe(58_500);
    });
  });
});

describe('SqliteLimiter: gateways on one db', () => {
  const dir = mkdtempSync(join(tmpdir(), 'mcp-replay-gateways-'));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  const register = (store: ReturnType<typeof openStore>, host: string, seenAt: number) =>
    store.db
      .prepare(`INSERT INTO limiter_gateways (token, pid, host, sole, seen_at) VALUES (?, 1, ?, 1, ?)`)
      .run(`t-${host}-${seenAt}`, host, seenAt);

  it('waits for a sole gateway it cannot check (another pid namespace), then fails closed; a stale one is cleared', () => {
    const store = openStore(join(dir, 'foreign.db'));
    try {
      register(store, 'elsewhere/pid:[1]', Date.now());
      const blocked = new SqliteLimiter(store, { handoverMs: 50 });
      expect(() => blocked.wait('k', 1000, 1, 0)).toThrow(/did not hand its counters over/);
      blocked.close();
      store.db.prepare(`DELETE FROM limiter_gateways`).run();
      // Not refreshed for more than 15 s: gone, wherever it ran.
      register(store, 'elsewhere/pid:[1]', Date.now() - 20_000);
      const next = new SqliteLimiter(store, { handoverMs: 50 });
      expect(next.wait('k', 1000, 1, 0)).toBe(0);
      expect(store.db.prepare(`SELECT count(*) FROM limiter_gateways`).pluck().get()).toBe(1); // itself
      next.close();
      expect(store.db.prepare(`SELECT count(*) FROM limiter_gateways`).pluck().get()).toBe(0);
    } finally {
      store.close();
    }
  });

  it.each([
    ['sole', true],
    ['shared', false],
  ])(
    'a %s gateway stalled past the staleness limit (taken for gone) counts what the others did when it wakes',
    async (kind, spooled) => {
      const file = join(dir, `stalled-${kind}.db`);
      const compiled = compilePolicyValue({
        version: '1',
        default: 'deny',
        tools: { echo: { limits: [{ window: 'hour', max: 5, scope: 'global' }] } },
      });
      if (!compiled.ok) throw new Error('policy');
      const policy = compiled.policy;
      const call = { tool: 'echo', args: {}, session: 's', grant: 'g' };
      const gateway = (id: string, spool = true) => {
        const store = openStore(file);
        store.insertSession({ id, startedAt: new Date().toISOString(), transport: 'stdio' });
        const log = new SessionLog(store, id, { idleMs: 60_000, maxDelayMs: 60_000 });
        const limiter = new SqliteLimiter(store, {
          ...(spool && { spool: (n, key, t, keepMs) => log.limit(n, key, t, keepMs), copy: () => log.copy() }),
          pollMs: 5,
          handoverMs: 50,
        });
        const decideNow = (now: number) => {
          try {
            const v = limiter.atomically(() => decide(policy, limiter, call, now)).decision;
            log.commit();
            return v;
          } catch {
            return 'deny'; // the gateway fails closed
          }
        };
        return { store, limiter, decideNow };
      };
      vi.useFakeTimers({ toFake: ['Date'], now: 1_800_000_000_000 });
      const a = gateway('A', spooled);
      const b = { current: undefined as ReturnType<typeof gateway> | undefined };
      try {
        expect(a.limiter.isSole).toBe(spooled);
        const t0 = Date.now();
        expect([0, 1, 2].map((i) => a.decideNow(t0 + i))).toEqual(['allow', 'allow', 'allow']);
        // A's event loop stalls 16 s (no heartbeat): a second gateway takes it for gone.
        vi.setSystemTime(t0 + 16_000);
        b.current = gateway('B');
        expect(b.current.limiter.isSole).toBe(true);
        expect([3, 4].map((i) => b.current!.decideNow(t0 + 16_000 + i))).toEqual(['allow', 'allow']);
        // A wakes with a call to decide: five calls in the hour already, whoever counted them.
        expect(a.decideNow(t0 + 16_010)).not.toBe('allow');
        vi.setSystemTime(t0 + 16_100);
        await new Promise((r) => setTimeout(r, 100)); // both polls run: B hands over
        expect(a.decideNow(t0 + 16_100)).toBe('throttle');
        expect(b.current.decideNow(t0 + 16_100)).toBe('throttle');
        expect(a.limiter.isSole || b.current.limiter.isSole).toBe(false);
      } finally {
        vi.useRealTimers();
        for (const g of [a, b.current]) {
          g?.limiter.close();
          g?.store.close();
        }
      }
    },
  );
});
