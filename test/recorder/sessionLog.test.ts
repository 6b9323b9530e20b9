import { readFileSync, readdirSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { setImmediate as turn } from 'node:timers/promises';
import { describe, expect, it } from 'vitest';
import { COPY_SLICE, SessionLog } from '../../recorder/sessionLog.js';
import type { SpoolRow } from '../../store/spool.js';
import { liveSessionIds, spoolDir } from '../../store/spool.js';
import { openStore, type Store } from '../../store/store.js';
import { tempDir } from '../integration/helpers.js';

/** A store whose spool copies are counted: the number of rows each transaction took. */
function countingStore(): { store: Store; db: string; copies: number[]; onCopy: { fn?: () => void } } {
  const db = join(tempDir(), 'log.db');
  const store = openStore(db);
  store.insertSession({ id: 'S', startedAt: new Date().toISOString(), transport: 'stdio' });
  const copies: number[] = [];
  const onCopy: { fn?: () => void } = {};
  const spoolRows = store.spoolRows;
  Object.defineProperty(store, 'spoolRows', {
    value: (sessionId: string, rows: readonly SpoolRow[]) => {
      spoolRows(sessionId, rows);
      copies.push(rows.length);
      onCopy.fn?.();
    },
  });
  return { store, db, copies, onCopy };
}

function addMessages(log: SessionLog, from: number, n: number): void {
  for (let seq = from; seq < from + n; seq++) {
    log.message(seq, seq, 'c2s', `{"jsonrpc":"2.0","id":${seq},"method":"ping"}`, 'ping', String(seq));
    if (seq % 10 === 9) log.commit();
  }
  log.commit();
}

const seqs = (store: Store) => [...store.records('S')].map((r) => r.seq);
/** Waits for the copy timer, then lets the event loop run until the spool has been emptied. */
async function settle(copies: number[], expectRows: number): Promise<void> {
  for (let i = 0; i < 1000 && copies.reduce((a, b) => a + b, 0) < expectRows; i++) {
    await new Promise((r) => setTimeout(r, 2));
    await turn();
  }
}

describe('SessionLog: the background copy into the db', () => {
  it('goes in slices of COPY_SLICE rows, one per turn of the event loop, then empties the spool', async () => {
    const { store, db, copies } = countingStore();
    const log = new SessionLog(store, 'S', { idleMs: 1, maxDelayMs: 1 });
    const n = COPY_SLICE * 3 + 17;
    addMessages(log, 0, n);
    expect(copies).toEqual([]); // nothing on the path of the commits
    await settle(copies, n);
    expect(copies).toEqual([COPY_SLICE, COPY_SLICE, COPY_SLICE, 17]);
    expect(seqs(store)).toEqual(Array.from({ length: n }, (_, i) => i));
    // Every row is in the db: the spool holds its header row only.
    const [spool] = readdirSync(spoolDir(db));
    expect(
      readFileSync(join(spoolDir(db), spool!), 'utf8')
        .trim()
        .split('\n'),
    ).toHaveLength(1);
    log.close();
    store.close();
  });

  it('takes the rows committed between its slices too, in order', async () => {
    const { store, copies, onCopy } = countingStore();
    const log = new SessionLog(store, 'S', { idleMs: 1, maxDelayMs: 1 });
    addMessages(log, 0, COPY_SLICE * 2);
    let next = COPY_SLICE * 2;
    onCopy.fn = () => {
      if (copies.length > 2) return;
      addMessages(log, next, 100);
      next += 100;
    };
    await settle(copies, COPY_SLICE * 2 + 200);
    expect(copies.every((c) => c <= COPY_SLICE)).toBe(true);
    expect(seqs(store)).toEqual(Array.from({ length: next }, (_, i) => i));
    log.close();
    store.close();
  });

  it('copy() in the middle of it copies every row at once, and no slice follows', async () => {
    const { store, copies, onCopy } = countingStore();
    const log = new SessionLog(store, 'S', { idleMs: 1, maxDelayMs: 1 });
    const n = COPY_SLICE * 4;
    addMessages(log, 0, n);
    let copied: boolean | undefined;
    onCopy.fn = () => {
      if (copies.length !== 1) return;
      onCopy.fn = undefined;
      queueMicrotask(() => (copied = log.copy())); // once this slice is done, before the next
    };
    await settle(copies, n);
    expect(copied).toBe(true);
    expect(copies).toEqual([COPY_SLICE, n - COPY_SLICE]);
    for (let i = 0; i < 5; i++) await turn();
    expect(copies).toHaveLength(2);
    expect(seqs(store)).toHaveLength(n);
    log.close();
    store.close();
  });

  it('a spool folder deleted while recording is made anew at the next copy, and said once (the session looked dead)', async () => {
    const { store, db, copies } = countingStore();
    const reports: string[] = [];
    const log = new SessionLog(store, 'S', { idleMs: 1, maxDelayMs: 1, report: (m) => reports.push(m) });
    addMessages(log, 0, 5);
    await settle(copies, 5);
    rmSync(spoolDir(db), { recursive: true, force: true });
    expect(liveSessionIds(db)).toEqual(new Set());
    addMessages(log, 5, 5);
    await settle(copies, 10);
    expect(seqs(store)).toHaveLength(10);
    expect(liveSessionIds(db)).toEqual(new Set(['S'])); // a reader sees its recorder running again
    expect(reports).toEqual([expect.stringMatching(/^the spool .* was deleted while recording: made anew/)]);
    // Rows after that are spooled where a recovery finds them.
    addMessages(log, 10, 3);
    const spool = readdirSync(spoolDir(db))[0]!;
    expect(readFileSync(join(spoolDir(db), spool), 'utf8')).toContain('"id":12');
    await settle(copies, 13);
    expect(reports).toHaveLength(1);
    log.close();
    store.close();
  });
});
