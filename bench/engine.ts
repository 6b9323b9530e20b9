/**
 * Engine throughput: decisions per second over a 1M-call generated stream, in memory, under a
 * 50-rule policy with limits (exact names, globs, args schemas, shared counters, all_tools).
 * Baseline, measured in the same run: the same loop that only looks each call's rule up.
 * Goal (issue 2): ≥ 1,000,000 decisions/s on a 2-core machine.
 */
import { compilePolicyValue, decide, MemoryLimiter, type Policy, type ToolCall } from '../engine/index.js';

const CALLS = Number(process.env.BENCH_CALLS ?? 1_000_000);

function policy50(): Policy {
  const tools: Record<string, unknown> = {};
  for (let i = 0; i < 40; i++) {
    tools[`tool_${i}`] =
      i % 4 === 0
        ? { args: { type: 'object', properties: { path: { type: 'string', pattern: '^/srv/' } } } }
        : {
            limits: [
              {
                window: i % 2 ? 'minute' : '10s',
                max: 50 + i,
                scope: (['grant', 'session', 'global'] as const)[i % 3],
              },
              ...(i % 5 === 0 ? [{ counter: 'shared', window: 'hour', max: 100_000 }] : []),
            ],
          };
  }
  for (let i = 0; i < 8; i++) tools[`group_${i}_*`] = { limits: [{ window: '30s', max: 20 }] };
  tools['delete_*'] = { action: 'deny', reason: 'destructive' };
  tools['run_*'] = { action: 'require_approval' };
  const r = compilePolicyValue({
    version: '1',
    default: 'deny',
    tools,
    all_tools: { limits: [{ window: 'second', max: 5000, scope: 'global' }] },
  });
  if (!r.ok) throw new Error(JSON.stringify(r.errors));
  return r.policy;
}

function stream(n: number): { calls: ToolCall[]; times: Float64Array } {
  let seed = 42;
  const rand = () => (seed = (seed * 1103515245 + 12345) & 0x7fffffff) / 0x7fffffff;
  const names = [
    ...Array.from({ length: 40 }, (_, i) => `tool_${i}`),
    ...Array.from({ length: 8 }, (_, i) => `group_${i}_x`),
    'delete_bucket',
    'run_command',
    'unknown_tool',
  ];
  const calls: ToolCall[] = new Array(n);
  const times = new Float64Array(n);
  let t = 1_700_000_000_000;
  for (let i = 0; i < n; i++) {
    const tool = names[Math.floor(rand() * names.length)]!;
    calls[i] = {
      tool,
      args: { path: rand() < 0.9 ? '/srv/data/x' : '/etc/passwd' },
      session: `s${Math.floor(rand() * 20)}`,
      grant: `g${Math.floor(rand() * 5)}`,
    };
    t += rand() < 0.2 ? 0 : rand() * 2; // ~1000 calls/s with bursts
    times[i] = t;
  }
  return { calls, times };
}

function measure(label: string, fn: () => number): number {
  fn(); // warm-up pass
  const start = process.hrtime.bigint();
  const checksum = fn();
  const secs = Number(process.hrtime.bigint() - start) / 1e9;
  const rate = CALLS / secs;
  console.log(
    `${label.padEnd(34)} ${(rate / 1e6).toFixed(2).padStart(6)} M/s  (${secs.toFixed(3)} s, checksum ${checksum})`,
  );
  return rate;
}

const policy = policy50();
const { calls, times } = stream(CALLS);
console.log(`${CALLS.toLocaleString('en')} calls, ${policy.rules.length} rules (+ all_tools), in memory`);
const baseline = measure('baseline: rule lookup only', () => {
  let n = 0;
  for (let i = 0; i < calls.length; i++) if (policy.ruleFor(calls[i]!.tool)) n++;
  return n;
});
const counts = { allow: 0, deny: 0, throttle: 0, approval: 0 };
const rate = measure('decide() with a fresh MemoryLimiter', () => {
  const limiter = new MemoryLimiter();
  counts.allow = counts.deny = counts.throttle = counts.approval = 0;
  for (let i = 0; i < calls.length; i++) counts[decide(policy, limiter, calls[i]!, times[i]!).decision]++;
  return counts.allow;
});
console.log(`outcomes: ${JSON.stringify(counts)}`);
console.log(
  `decide / baseline: ${(baseline / rate).toFixed(2)}x slower; goal ≥ 1.00 M decisions/s: ${rate >= 1e6 ? 'met' : 'NOT met'}`,
);
