import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { SessionLog } from '../../recorder/sessionLog.js';
import type { DecisionRecord } from '../../store/decisionLog.js';
import { decodeSpool, encodeRow, spoolDir, type SpoolRow } from '../../store/spool.js';
import { SqliteLimiter } from '../../store/sqliteLimiter.js';
import { openStore } from '../../store/store.js';
import { root, tempDir } from '../integration/helpers.js';

const row: fc.Arbitrary<SpoolRow> = fc.oneof(
  fc.record({
    kind: fc.constant('message' as const),
    seq: fc.nat(),
    t: fc.nat(),
    dir: fc.constantFrom('c2s' as const, 's2c' as const),
    raw: fc.string({ unit: 'binary' }),
    method: fc.option(fc.string({ unit: 'binary' })),
    id: fc.option(fc.string()),
  }),
  fc.record({
    kind: fc.constant('event' as const),
    seq: fc.nat(),
    t: fc.nat(),
    event: fc.string(),
    data: fc.option(fc.string({ unit: 'binary' })),
  }),
  fc.record({
    kind: fc.constant('raw' as const),
    seq: fc.nat(),
    t: fc.nat(),
    dir: fc.constantFrom('c2s' as const, 's2c' as const),
    raw: fc.string({ unit: 'binary' }),
  }),
  fc.record({
    kind: fc.constant('limit' as const),
    id: fc.nat(),
    key: fc.string({ unit: 'binary' }),
    t: fc.double({ noNaN: true, noDefaultInfinity: true, min: 0 }).map((x) => x + 0),
    keepMs: fc.nat(),
  }),
  fc
    .record({
      seq: fc.nat(),
      rpcId: fc.option(fc.string()),
      tool: fc.string({ unit: 'binary' }),
      decision: fc.constantFrom('allow' as const, 'deny' as const, 'throttle' as const, 'approval' as const),
      reason: fc.string({ unit: 'binary' }),
      rule: fc.string(),
      retryAfterMs: fc.option(fc.nat()),
      policySha256: fc.string(),
      // A time: JSON has no -0.
      at: fc.double({ noNaN: true, noDefaultInfinity: true }).map((x) => x + 0),
      enforced: fc.boolean(),
      n: fc.option(fc.nat()),
    })
    .map(({ retryAfterMs, n, ...r }): SpoolRow => {
      const record: DecisionRecord = { sessionId: 'S1', ...r };
      if (retryAfterMs !== null) record.retryAfterMs = retryAfterMs;
      if (n !== null) record.n = n;
      return { kind: 'decision', record };
    }),
);

describe('the spool format', () => {
  it('decodes what it encodes, and any cut of it to the rows written whole before the cut', () => {
    fc.assert(
      fc.property(fc.array(row, { maxLength: 8 }), fc.nat(), (rows, cutAt) => {
        const head = '["s","S1"]\n';
        const parts = rows.map(encodeRow);
        const bytes = Buffer.from(head + parts.join(''));
        expect(decodeSpool(bytes)).toEqual({ sessionId: 'S1', rows, torn: 0 });
        // A write cut short (the recorder killed in the middle of it): only whole rows count.
        const cut = cutAt % (bytes.length + 1);
        const whole = rows.filter((_, i) => Buffer.byteLength(head + parts.slice(0, i + 1).join('')) <= cut);
        expect(decodeSpool(bytes.subarray(0, cut)).rows).toEqual(whole);
      }),
      { numRuns: 500 },
    );
  });
});

/** Records rows through a SessionLog in a child process that is SIGKILLed before it copies them. */
function recordAndDie(db: string, session: string, rows: number): void {
  const script = join(tempDir(), 'die.mjs');
  writeFileSync(
    script,
    `import { openStore } from ${JSON.stringify(join(root, 'dist/store/store.js'))};
import { SessionLog } from ${JSON.stringify(join(root, 'dist/recorder/sessionLog.js'))};
const store = openStore(${JSON.stringify(db)});
store.insertSession({ id: ${JSON.stringify(session)}, startedAt: new Date().toISOString(), transport: 'stdio' });
const log = new SessionLog(store, ${JSON.stringify(session)}, { idleMs: 60000, maxDelayMs: 60000 });
for (let i = 0; i < ${rows}; i++) {
  log.message(i, i * 10, i % 2 ? 's2c' : 'c2s', JSON.stringify({ jsonrpc: '2.0', id: i, result: {} }), null, String(i));
  if (i % 3 === 0) log.decision({ seq: i, tool: 'echo', decision: 'allow', reason: 'r', rule: 'tools.echo', policySha256: 'x', at: i, enforced: true });
  log.commit();
}
process.kill(process.pid, 'SIGKILL');
`,
  );
  const r = spawnSync(process.execPath, [script]);
  expect(r.signal).toBe('SIGKILL');
}

describe('spool recovery', () => {
  it('a recorder killed before copying its spool: the next open of the db copies every row, once, and removes the spool', () => {
    const db = join(tempDir(), 'rec.db');
    recordAndDie(db, 'S1', 50);
    expect(readdirSync(spoolDir(db))).toHaveLength(1);
    // The db alone does not have them yet.
    const store = openStore(db);
    try {
      expect([...store.records('S1')].map((r) => r.seq)).toEqual(Array.from({ length: 50 }, (_, i) => i));
      expect(store.sessionDecisions('S1').map((d) => d.seq)).toEqual(Array.from({ length: 17 }, (_, i) => i * 3));
      expect(readdirSync(spoolDir(db))).toEqual([]);
    } finally {
      store.close();
    }
    const again = openStore(db);
    try {
      expect([...again.records('S1')]).toHaveLength(50);
      expect(again.sessionDecisions('S1')).toHaveLength(17);
    } finally {
      again.close();
    }
  });

  it('a live spool is copied by readers and by its recorder without duplicates; close removes it', () => {
    const db = join(tempDir(), 'live.db');
    const store = openStore(db);
    store.insertSession({ id: 'S2', startedAt: new Date().toISOString(), transport: 'stdio' });
    const log = new SessionLog(store, 'S2', { idleMs: 60000, maxDelayMs: 60000 });
    log.message(0, 0, 'c2s', '{"jsonrpc":"2.0","id":1,"method":"tools/call"}', 'tools/call', '1');
    log.decision({
      seq: 0,
      tool: 't',
      decision: 'deny',
      reason: 'r',
      rule: 'default',
      policySha256: 'x',
      at: 1,
      enforced: true,
    });
    log.commit();
    const spool = readdirSync(spoolDir(db));
    expect(spool).toHaveLength(1);
    expect(readFileSync(join(spoolDir(db), spool[0]!), 'utf8')).toContain('tools/call');
    // Another reader opens the db while the recorder lives: it sees the rows, the spool stays.
    const reader = openStore(db);
    expect([...reader.records('S2')]).toHaveLength(1);
    expect(reader.sessionDecisions('S2')).toHaveLength(1);
    expect(readdirSync(spoolDir(db))).toHaveLength(1);
    log.message(1, 5, 's2c', '{"jsonrpc":"2.0","id":1,"result":{}}', null, '1');
    log.close();
    expect(existsSync(join(spoolDir(db), spool[0]!))).toBe(false);
    expect([...reader.records('S2')].map((r) => r.seq)).toEqual([0, 1]);
    expect(reader.sessionDecisions('S2')).toHaveLength(1);
    reader.close();
    store.close();
  });

  it('a spool of a deleted session is dropped; a torn last row is ignored', () => {
    const db = join(tempDir(), 'gone.db');
    recordAndDie(db, 'S3', 5);
    const [name] = readdirSync(spoolDir(db));
    const file = join(spoolDir(db), name!);
    writeFileSync(file, readFileSync(file, 'utf8') + '["m",99,1,"c2s",null,null,40]\n{"cut');
    const store = openStore(db);
    expect([...store.records('S3')].map((r) => r.seq)).toEqual([0, 1, 2, 3, 4]);
    store.deleteSession('S3');
    store.close();
    // The session is deleted behind the dead recorder's back (raw SQL: openStore would copy first).
    recordAndDie(db, 'S4', 2);
    const raw = new Database(db);
    raw.prepare(`DELETE FROM sessions WHERE id = 'S4'`).run();
    raw.close();
    const s = openStore(db);
    expect(s.getSession('S4')).toBeUndefined();
    expect(s.db.prepare(`SELECT count(*) FROM messages WHERE session_id = 'S4'`).pluck().get()).toBe(0);
    s.close();
    expect(readdirSync(spoolDir(db))).toEqual([]);
  });
});

describe('spools and the counters', () => {
  it("a sole gateway's counted calls reach the counters even when its session was deleted", async () => {
    const db = join(tempDir(), 'sole.db');
    const store = openStore(db);
    store.insertSession({ id: 'S5', startedAt: new Date().toISOString(), transport: 'stdio' });
    const log = new SessionLog(store, 'S5', { idleMs: 60000, maxDelayMs: 60000 });
    const limiter = new SqliteLimiter(store, {
      spool: (id, key, t, keepMs) => log.limit(id, key, t, keepMs),
      copy: () => log.copy(),
      pollMs: 5,
    });
    for (let i = 0; i < 100 && !limiter.isSole; i++) await new Promise((r) => setTimeout(r, 5));
    expect(limiter.isSole).toBe(true);
    for (let i = 0; i < 3; i++) limiter.atomically(() => limiter.record('k', 1000 + i, 60_000));
    log.commit();
    store.deleteSession('S5'); // `sessions rm` of the live session
    expect(log.copy()).toBe(true);
    expect(store.db.prepare(`SELECT count(*) FROM limiter_log`).pluck().get()).toBe(3);
    limiter.close();
    const next = new SqliteLimiter(store);
    expect(next.wait('k', 60_000, 3, 2000)).toBeGreaterThan(0);
    expect(next.wait('k', 60_000, 4, 2000)).toBe(0);
    next.close();
    store.close();
  });

  it('a spool written in another pid namespace is copied but never deleted (its writer cannot be checked)', () => {
    const db = join(tempDir(), 'foreign.db');
    const setup = openStore(db);
    setup.insertSession({ id: 'S6', startedAt: new Date().toISOString(), transport: 'stdio' });
    setup.close();
    mkdirSync(spoolDir(db));
    const file = join(spoolDir(db), 'S6.0badc0de.1.spool');
    writeFileSync(
      file,
      '["s","S6"]\n' + encodeRow({ kind: 'message', seq: 0, t: 0, dir: 'c2s', raw: '{}', method: null, id: null }),
    );
    const store = openStore(db);
    expect([...store.records('S6')]).toHaveLength(1);
    store.close();
    expect(existsSync(file)).toBe(true);
  });
});
