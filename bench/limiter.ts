/**
 * Cost of one decided call with limits: the SQLite limiter (a db file, one IMMEDIATE transaction
 * per call, as `enforce` runs it) against the in-memory one measured in the same run.
 * Run: npx tsx bench/limiter.ts [calls]
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { compilePolicyValue, decide, MemoryLimiter, type Limiter } from '../engine/index.js';
import { openStore, SqliteLimiter } from '../store/index.js';

const calls = Number(process.argv[2] ?? 20_000);
const compiled = compilePolicyValue({
  version: '1',
  default: 'deny',
  all_tools: { limits: [{ window: 'second', max: 1_000_000, scope: 'global' }] },
  tools: { echo: { limits: [{ window: 'minute', max: 1_000_000, scope: 'grant' }] } },
});
if (!compiled.ok) throw new Error(JSON.stringify(compiled.errors));
const policy = compiled.policy;

function run(limiter: Limiter): number {
  const start = process.hrtime.bigint();
  let now = 1_700_000_000_000;
  for (let i = 0; i < calls; i++) {
    const call = { tool: 'echo', args: {}, session: 's', grant: `g${i % 8}` };
    now += 0.05;
    const v = limiter.atomically(() => decide(policy, limiter, call, now));
    if (v.decision !== 'allow') throw new Error(v.reason);
  }
  return Number(process.hrtime.bigint() - start) / 1e3 / calls;
}

const dir = mkdtempSync(join(tmpdir(), 'mcp-replay-bench-'));
try {
  const memory = run(new MemoryLimiter());
  const store = openStore(join(dir, 'bench.db'));
  const sqlite = run(new SqliteLimiter(store));
  store.close();
  console.log(`decide with 2 limits, ${calls} calls`);
  console.log(`  memory  ${memory.toFixed(2)} µs/call`);
  console.log(`  sqlite  ${sqlite.toFixed(2)} µs/call  (${(sqlite / memory).toFixed(1)}× memory)`);
} finally {
  rmSync(dir, { recursive: true, force: true });
}
