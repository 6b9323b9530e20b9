import { spawn, type ChildProcessByStdio } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import type { Readable, Writable } from 'node:stream';
import { afterAll, describe, expect, it } from 'vitest';

const worker = join(import.meta.dirname, 'limiterWorker.mjs');
const HOUR = 3_600_000;
const MAX = 29;
const CALLS = 20;

interface Outcome {
  allowed: number[];
  throttled: number;
}

interface Worker {
  proc: ChildProcessByStdio<Writable, Readable, null>;
  next: () => Promise<string>;
  exit: Promise<number | null>;
}

function start(db: string, policy: string): Worker {
  const proc = spawn(process.execPath, [worker, db, policy, String(CALLS)], { stdio: ['pipe', 'pipe', 'inherit'] });
  const lines = createInterface({ input: proc.stdout })[Symbol.asyncIterator]();
  return {
    proc,
    next: async () => (await lines.next()).value as string,
    exit: new Promise((resolve) => proc.on('exit', (code) => resolve(code))),
  };
}

/** Releases the workers together on one window (a clock offset) and collects what each allowed. */
async function race(workers: Worker[], offsetMs: number, timing = 'inside'): Promise<Outcome[]> {
  for (const w of workers) w.proc.stdin.write(`go ${offsetMs} ${timing}\n`);
  return Promise.all(workers.map(async (w) => JSON.parse(await w.next()) as Outcome));
}

describe('gateway processes sharing one db share a global budget exactly', () => {
  const dir = mkdtempSync(join(tmpdir(), 'mcp-replay-limit-procs-'));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it(`2 and 4 processes, ${CALLS} calls each, at most ${MAX} per hour: exactly ${MAX} allowed per window`, async () => {
    const db = join(dir, 'shared.db'); // fresh: the first race also races to create it
    const policy = JSON.stringify({
      version: '1',
      default: 'deny',
      tools: { t: { limits: [{ window: 'hour', max: MAX, scope: 'global' }] } },
    });
    const workers = Array.from({ length: 4 }, () => start(db, policy));
    try {
      for (const w of workers) expect(await w.next()).toBe('ready');
      // Windows two hours apart, so each race starts from an empty budget.
      // "before": each process stamps the time before taking the lock, so commits can come out of
      // time order across processes; the budget must still hold exactly.
      const races: [Worker[], number, string][] = [
        [workers.slice(0, 2), 0, 'inside'],
        [workers, 2 * HOUR, 'inside'],
        [workers.slice(2), 4 * HOUR, 'before'],
        [workers, 6 * HOUR, 'before'],
      ];
      for (const [group, offset, timing] of races) {
        const outcomes = await race(group, offset, timing);
        expect(outcomes.flatMap((o) => o.allowed).length, `${group.length} processes at +${offset} ms`).toBe(MAX);
        expect(outcomes.reduce((s, o) => s + o.throttled, 0)).toBe(group.length * CALLS - MAX);
      }
    } finally {
      for (const w of workers) w.proc.stdin.end();
    }
    expect(await Promise.all(workers.map((w) => w.exit))).toEqual([0, 0, 0, 0]);

    // A restarted process finds the budget of the current window spent.
    const restarted = start(db, policy);
    expect(await restarted.next()).toBe('ready');
    const [again] = await race([restarted], 6 * HOUR);
    restarted.proc.stdin.end();
    expect(again).toEqual({ allowed: [], throttled: CALLS });
    expect(await restarted.exit).toBe(0);
  });
});
