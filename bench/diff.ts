/**
 * Diff throughput, end to end: 1M recorded `tools/call`s (plus their responses) read from a
 * SQLite recording, turned into calls, decided under two 50-rule policies (each with its own
 * limiter), summarized into the transition matrix, and the change lines serialized as for
 * `diff --json`. Baseline, measured in the same run: reading the same rows from SQLite only.
 * Memory: the heap after 100k calls and after 1M (it must not grow with the number of calls).
 * Goal (issue 5): ≥ 300,000 calls/s end to end.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { cpus, loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { compilePolicyValue, type Policy } from '../engine/index.js';
import { changeLine, dbSource, diffRun, DiffSummary, timeline } from '../replayer/index.js';
import { openStore } from '../store/store.js';

const CALLS = Number(process.env.BENCH_CALLS ?? 1_000_000);

/** 50 rules: 40 exact tools (limits, args schemas), 8 globs, a deny glob, an approval glob. */
function policy50(variant: 'a' | 'b'): Policy {
  const tools: Record<string, unknown> = {};
  const k = variant === 'a' ? 1 : 0.8; // B: 20% tighter limits, and one more tool denied
  for (let i = 0; i < 40; i++) {
    tools[`tool_${i}`] =
      i % 4 === 0
        ? { args: { type: 'object', properties: { path: { type: 'string', pattern: '^/srv/' } } } }
        : variant === 'b' && i === 7
          ? { action: 'deny', reason: 'retired' }
          : {
              limits: [
                {
                  window: i % 2 ? 'minute' : '10s',
                  max: Math.floor((50 + i) * k),
                  scope: (['grant', 'session', 'global'] as const)[i % 3],
                },
              ],
            };
  }
  for (let i = 0; i < 8; i++) tools[`group_${i}_*`] = { limits: [{ window: '30s', max: Math.floor(20 * k) }] };
  tools['delete_*'] = { action: 'deny', reason: 'destructive' };
  tools['run_*'] = { action: 'require_approval' };
  const r = compilePolicyValue({ version: '1', default: 'deny', tools });
  if (!r.ok) throw new Error(JSON.stringify(r.errors));
  return r.policy;
}

function record(file: string, n: number): string {
  const store = openStore(file);
  const id = 'bench-session';
  store.insertSession({ id, startedAt: '2026-11-24T10:00:00.000Z', transport: 'stdio' });
  let seed = 42;
  const rand = () => (seed = (seed * 1103515245 + 12345) & 0x7fffffff) / 0x7fffffff;
  const names = [
    ...Array.from({ length: 40 }, (_, i) => `tool_${i}`),
    ...Array.from({ length: 8 }, (_, i) => `group_${i}_x`),
    'delete_bucket',
    'run_command',
    'unknown_tool',
  ];
  let t = 0;
  let seq = 0;
  const BATCH = 50_000;
  const init = JSON.stringify({
    jsonrpc: '2.0',
    id: 0,
    method: 'initialize',
    params: { protocolVersion: '2025-06-18', capabilities: {}, clientInfo: { name: 'bench-agent', version: '1' } },
  });
  store.appendMessage(id, seq++, t, 'c2s', init, 'initialize', '0');
  for (let done = 0; done < n; ) {
    store.transaction(() => {
      for (let j = 0; j < BATCH && done < n; j++, done++) {
        const tool = names[Math.floor(rand() * names.length)]!;
        const path = rand() < 0.9 ? '/srv/data/report.csv' : '/etc/passwd';
        const req = `{"jsonrpc":"2.0","id":${done + 1},"method":"tools/call","params":{"name":"${tool}","arguments":{"path":"${path}","limit":${Math.floor(rand() * 100)}}}}`;
        store.appendMessage(id, seq++, t, 'c2s', req, 'tools/call', String(done + 1));
        t += 300 + Math.floor(rand() * 400);
        const res = `{"jsonrpc":"2.0","id":${done + 1},"result":{"content":[{"type":"text","text":"ok"}]}}`;
        store.appendMessage(id, seq++, t, 's2c', res, null, String(done + 1));
        t += rand() < 0.2 ? 0 : Math.floor(rand() * 2000);
      }
    });
  }
  store.close();
  return id;
}

const rate = (n: number, secs: number) => `${(n / secs / 1e3).toFixed(0).padStart(5)}k calls/s (${secs.toFixed(2)} s)`;
const cpuSecs = (from: NodeJS.CpuUsage) => {
  const d = process.cpuUsage(from);
  return (d.user + d.system) / 1e6;
};
const mb = (bytes: number) => `${(bytes / 2 ** 20).toFixed(1)} MB`;
function heap(): number {
  (globalThis as { gc?: () => void }).gc?.();
  return process.memoryUsage().heapUsed;
}

const dir = mkdtempSync(join(tmpdir(), 'mcp-replay-bench-'));
try {
  const file = join(dir, 'bench.db');
  let start = process.hrtime.bigint();
  const id = record(file, CALLS);
  const secs = (from: bigint) => Number(process.hrtime.bigint() - from) / 1e9;
  console.log(
    `recorded ${CALLS.toLocaleString('en')} calls (${(2 * CALLS + 1).toLocaleString('en')} messages) in ${secs(start).toFixed(1)} s`,
  );

  const [a, b] = [policy50('a'), policy50('b')];
  const store = openStore(file);
  const source = dbSource(store, id);

  // Baseline: the same rows read out of SQLite, nothing else (after a warm-up read, as the diff gets).
  const readAll = () => {
    let n = 0;
    for (const r of source.replayMessages!()) n += r.raw !== null ? 1 : 0;
    return n;
  };
  readAll();
  let cpu = process.cpuUsage();
  start = process.hrtime.bigint();
  const rows = readAll();
  const baseSecs = secs(start);
  const baseCpu = cpuSecs(cpu);
  console.log(`baseline: read ${rows.toLocaleString('en')} call rows from SQLite`);
  console.log(`  ${rate(CALLS, baseSecs)} wall clock, ${rate(CALLS, baseCpu)} per CPU second`);

  // The diff, end to end, with the heap sampled at 100k calls and at the end.
  const heapBefore = heap();
  let heapAt100k = 0;
  let bytesOut = 0;
  const summary = new DiffSummary();
  cpu = process.cpuUsage();
  start = process.hrtime.bigint();
  for (const d of diffRun(a, b, timeline([source]))) {
    if (summary.add(d)) bytesOut += JSON.stringify(changeLine(d)).length + 1;
    if (summary.calls === 100_000) heapAt100k = heap();
  }
  const diffSecs = secs(start);
  const diffCpu = cpuSecs(cpu);
  const heapEnd = heap();
  store.close();
  const s = summary.toJSON();
  console.log(`diff end to end (read, parse, decide under A and B, matrix, change lines):`);
  console.log(
    `  ${rate(s.calls, diffSecs)} wall clock, ${rate(s.calls, diffCpu)} per CPU second` +
      ` (${(diffCpu / baseCpu).toFixed(2)}x the baseline's CPU time)`,
  );
  console.log(
    `  ${s.calls.toLocaleString('en')} calls, ${s.changed.toLocaleString('en')} changed, ${mb(bytesOut)} of change lines; ${JSON.stringify(s.transitions)}`,
  );
  console.log(
    `  heap: before ${mb(heapBefore)}, at 100k calls ${mb(heapAt100k)}, at ${(CALLS / 1e6).toFixed(1)}M calls ${mb(heapEnd)}`,
  );
  console.log(
    `  load average: ${loadavg()
      .map((l) => l.toFixed(1))
      .join(' ')} on ${cpus().length} cores (shared machine: wall-clock figures vary)`,
  );
  const wall = s.calls / diffSecs;
  const perCpu = s.calls / diffCpu;
  console.log(
    `goal ≥ 300k calls/s: ${wall >= 300_000 ? 'met' : 'NOT met'} on the wall clock, ` +
      `${perCpu >= 300_000 ? 'met' : 'NOT met'} per CPU second`,
  );
} finally {
  if (!process.env.BENCH_KEEP) rmSync(dir, { recursive: true, force: true });
  else console.log(`kept ${dir}`);
}
