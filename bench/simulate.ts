/**
 * Calls simulated per second, generation included: `simulate()` end to end (draw streams,
 * decide every call, check every property, tally outcome shares) on scenarios with no violation
 * (so the figure is the exploring pass, not shrinking). Baselines from the same run: drawing the
 * same streams alone, and deciding them alone (the engine's ceiling).
 * Rates are per second of this process's CPU time (user + system), not wall time: the machine
 * is shared, and a single-threaded run uses one core either way.
 * Run: npx tsx bench/simulate.ts [runs]
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import fc from 'fast-check';
import { compilePolicy } from '../engine/index.js';
import {
  decideStream,
  parseExpectations,
  parseToolsFile,
  simulate,
  simulationArbitrary,
  type SimulateOptions,
} from '../simulator/index.js';

const root = join(import.meta.dirname, '..');
const read = (f: string) => readFileSync(join(root, f), 'utf8');
const RUNS = Number(process.argv[2] ?? 3_000);

function policy(file: string) {
  const text = read(file);
  const c = compilePolicy(text);
  if (!c.ok) throw new Error(`${file}: invalid`);
  return { name: file, policy: c.policy, doc: JSON.parse(text) as unknown };
}

const scenarios: Record<string, Omit<SimulateOptions, 'runs' | 'seed'>> = {
  'limits only (seed policy, catalog from its keys)': { policies: [policy('fixtures/policies/seed.json')] },
  'args + limits + 3 expectations (sound policy, read_file catalog)': {
    policies: [policy('fixtures/simulate/sound.policy.json')],
    catalog: parseToolsFile('tools', read('fixtures/simulate/srv-prefix.tools.json')),
    expectations: parseExpectations('expect', read('fixtures/simulate/sound.expect.json')),
  },
};

const rate = (calls: number, ms: number) => Math.round(calls / (ms / 1000));
/** CPU milliseconds spent in `fn`. */
function cpuMs(fn: () => void): number {
  const start = process.cpuUsage();
  fn();
  const used = process.cpuUsage(start);
  return (used.user + used.system) / 1000;
}
const fmt = (n: number) => n.toLocaleString('en-US').padStart(10);

for (const [name, s] of Object.entries(scenarios)) {
  const options: SimulateOptions = { ...s, runs: RUNS, seed: 1 };
  // Warm-up: the same work once, so the figures are the JIT-compiled steady state.
  const coldMs = cpuMs(() => simulate(options));
  let report: ReturnType<typeof simulate> | undefined;
  const simMs = cpuMs(() => {
    report = simulate(options);
  });
  if (report!.counterexamples.length > 0) throw new Error(`${name}: unexpected violation`);

  const arb = simulationArbitrary(options);
  let streams: ReturnType<typeof fc.sample<unknown[]>> = [];
  const genMs = cpuMs(() => {
    streams = fc.sample(arb, { seed: 1, numRuns: RUNS });
  });
  const calls = streams.reduce((n, x) => n + x.length, 0);
  const decideMs = cpuMs(() => {
    for (const p of options.policies) for (const x of streams) decideStream(p.policy, x as never);
  });

  const sim = rate(report!.calls, simMs);
  console.log(`\n${name}: ${RUNS} streams, ${report!.calls} calls, ${report!.properties.length} properties`);
  console.log(`  simulate, first run (cold JIT)            ${fmt(rate(report!.calls, coldMs))} calls per CPU-second`);
  console.log(`  simulate (generate + decide + properties) ${fmt(sim)} calls per CPU-second`);
  console.log(`  baseline: generate only                   ${fmt(rate(calls, genMs))} calls per CPU-second`);
  console.log(`  baseline: decide only (engine)            ${fmt(rate(calls, decideMs))} calls per CPU-second`);
  console.log(`  simulate / decide-only = ${(sim / rate(calls, decideMs)).toFixed(2)}`);
}
