import fc, { type Arbitrary } from 'fast-check';
import { InputError } from '../engine/errors.js';
import type { Decision, Limiter } from '../engine/types.js';
import { adversarialNumbers, adversarialStrings } from './adversarial.js';
import { decideStream, pickDecision } from './decideStream.js';
import type { Expectation } from './expectations.js';
import { collectHints, emptyHints } from './patterns.js';
import { matchingCalls, propertiesFor, type DecidedStream, type Property } from './properties.js';
import { streamArbitrary } from './streamArbitrary.js';
import { streamSize } from './streamSize.js';
import { buildToolPool } from './toolPool.js';
import type { SimCall, SimDecision, SimPolicy, ToolSpec } from './types.js';

export interface SimulateOptions {
  /** One policy, or two to compare. */
  policies: readonly SimPolicy[];
  /** The tool catalog; undefined = the names the policies' keys give. */
  catalog?: readonly ToolSpec[] | undefined;
  expectations?: readonly Expectation[];
  /** Streams per property. */
  runs: number;
  seed: number;
  /** A fast-check path (`--path`): check only the stream it names (a reported counterexample). */
  path?: string | undefined;
  /** Mix adversarial values into arguments (default true). */
  adversarial?: boolean;
  /** Longest stream drawn (calls; default 40). */
  maxCalls?: number;
  /** A fresh limiter per stream and policy (default the engine's in-memory one): an injected edge for tests. */
  newLimiter?: () => Limiter;
  /** Called with each stream's calls as the policies decide them (exploring and shrinking): a progress bar's tick. */
  onDecided?: (calls: number) => void;
  /** Called after each stream of the exploring pass with how many of `runs` it has drawn (then only shrinking is left). */
  onExplored?: (streams: number) => void;
}

export type Counts = Record<Decision, number> & { calls: number };

export interface Counterexample {
  property: string;
  description: string;
  message: string;
  seed: number;
  path: string;
  calls: SimCall[];
  /** decisions[policy][call] */
  decisions: SimDecision[][];
  /** Indexes of the calls that show the violation. */
  highlight: number[];
}

export interface SimulationReport {
  seed: number;
  path: string | undefined;
  /** Streams and calls of the exploring pass (every property is checked on each). */
  streams: number;
  calls: number;
  /**
   * `calls`, for an expectation: the generated calls it applied to (0: it tested nothing);
   * `untested`: why streams this size cannot break it.
   */
  properties: { id: string; description: string; ok: boolean; calls?: number; untested?: string }[];
  counterexamples: Counterexample[];
  /** Outcomes per tool under each policy (index = policy index), tools in code-point order. */
  byTool: Map<string, Counts>[];
  /** Tool names drawn as case/look-alike/padding variants of catalog or policy names. */
  variants: ReadonlySet<string>;
}

/** Calls a property's shrinking may decide (about a second): typical counterexamples take a few thousand. */
export const SHRINK_BUDGET = 300_000;

const zero = (): Counts => ({ calls: 0, allow: 0, deny: 0, throttle: 0, approval: 0 });

/** What the streams call: the catalog (or the policies' names), and the tools the expectations name. */
function poolOf(options: SimulateOptions) {
  return buildToolPool(options.catalog, options.policies, options.expectations ?? []);
}

/** The generator of a simulation: everything it needs is in the options (the seed is a parameter). */
export function simulationArbitrary(options: SimulateOptions, pool = poolOf(options)): Arbitrary<SimCall[]> {
  const { policies, expectations = [] } = options;
  const hints = emptyHints();
  for (const p of policies) collectHints(p.doc, hints);
  for (const t of options.catalog ?? []) collectHints(t.inputSchema, hints);
  const targets = collectHints(expectations.map((e) => e.when));
  for (const l of targets.literals) hints.literals.add(l);
  for (const n of targets.numbers) hints.numbers.add(n);
  const windows = [
    ...policies.flatMap((p) => [...p.policy.rules.flatMap((r) => r.limits), ...p.policy.allToolsLimits]),
    ...expectations,
  ]
    .map((x) => x.windowMs)
    .filter((w): w is number => w !== undefined);
  const atMost = expectations.filter((e) => e.kind === 'atMost');
  const counted = (tool: string) =>
    policies.some((p) => p.policy.allToolsLimits.length > 0 || (p.policy.ruleFor(tool)?.limits.length ?? 0) > 0) ||
    atMost.some((e) => e.matchesTool(tool));
  const size = streamSize(policies, expectations, options.maxCalls);
  return streamArbitrary({
    pool,
    windows,
    counted,
    sessions: size.sessions,
    grants: size.grants,
    adversarial: options.adversarial === false ? [] : adversarialStrings(hints, [...targets.literals].sort()),
    adversarialNumbers: options.adversarial === false ? [] : adversarialNumbers(hints),
    maxCalls: size.maxCalls,
  });
}

/**
 * Property-checks the policies on generated streams. One exploring pass draws `runs` streams,
 * tallies outcomes per tool and checks every property on each; then each violated property is
 * checked again on its own with the same seed, so fast-check shrinks its counterexample to the
 * smallest stream that still violates it. Pure: the same options give the same report.
 */
export function simulate(options: SimulateOptions): SimulationReport {
  const { policies } = options;
  const properties = propertiesFor(policies.length, options.expectations ?? []);
  const pool = poolOf(options);
  if (pool.primary.length === 0 && pool.extra.length === 0)
    throw new InputError('no tools to call: the policy names none; give a catalog (--tools FILE or --from SESSION)');
  const arb = simulationArbitrary(options, pool);
  const byTool = policies.map(() => new Map<string, Counts>());
  const firstFailure = new Map<string, number>();
  let streams = 0;
  let calls = 0;
  const expectations = options.expectations ?? [];
  /** Generated calls each expectation applies to: none means it tested nothing. */
  const met = new Map<string, number>();
  const { newLimiter } = options;
  const decideAll = (s: SimCall[]): DecidedStream => {
    options.onDecided?.(s.length);
    return { calls: s, decisions: policies.map((p) => decideStream(p.policy, s, newLimiter?.())), newLimiter };
  };
  const explore = (s: SimCall[]) => {
    const run = decideAll(s);
    streams++;
    calls += s.length;
    run.decisions.forEach((ds, p) => {
      ds.forEach((d, i) => {
        const tool = s[i]!.tool;
        let c = byTool[p]!.get(tool);
        if (!c) byTool[p]!.set(tool, (c = zero()));
        c.calls++;
        c[d.decision]++;
      });
    });
    for (const prop of properties)
      if (!firstFailure.has(prop.id) && prop.check(policies, run)) firstFailure.set(prop.id, streams - 1);
    for (const e of expectations) met.set(e.id, (met.get(e.id) ?? 0) + matchingCalls(e, run).length);
    options.onExplored?.(streams);
  };

  const counterexamples: Counterexample[] = [];
  const found = (prop: Property, stream: SimCall[], path: string) => {
    const run = decideAll(stream);
    const v = prop.check(policies, run);
    if (!v) return;
    counterexamples.push({
      property: prop.id,
      description: prop.description,
      message: v.message,
      seed: options.seed,
      path,
      calls: stream,
      decisions: run.decisions.map((ds) => ds.map(pickDecision)),
      highlight: v.calls,
    });
  };

  if (options.path !== undefined) {
    const stream = streamAt(arb, options.seed, options.path);
    explore(stream);
    for (const prop of properties) found(prop, stream, options.path);
  } else {
    const pass = fc.check(
      fc.property(arb, (s) => {
        explore(s);
        return true;
      }),
      { seed: options.seed, numRuns: options.runs },
    );
    if (pass.failed) throw new Error(`simulation failed (seed ${options.seed}): ${String(pass.errorInstance)}`);
    for (const prop of properties) {
      const runIndex = firstFailure.get(prop.id);
      if (runIndex === undefined) continue;
      // Each shrink candidate decides its whole stream, and a stream of n calls has ~n candidates
      // per step: a 200-call counterexample took tens of millions of decided calls (minutes).
      // Past a budget of decided calls, every further candidate "holds", so shrinking stops at the
      // smallest stream found so far. Counted in calls, not time: the same seed, the same result.
      let spent = 0;
      let failing = false;
      const shrunk = fc.check(
        fc.property(arb, (s) => {
          if (failing && spent > SHRINK_BUDGET) return true;
          if (failing) spent += s.length;
          const holds = prop.check(policies, decideAll(s)) === undefined;
          failing ||= !holds;
          return holds;
        }),
        { seed: options.seed, numRuns: options.runs },
      );
      if (shrunk.failed && shrunk.counterexample && shrunk.counterexamplePath)
        found(prop, shrunk.counterexample[0], shrunk.counterexamplePath);
      else found(prop, streamAt(arb, options.seed, String(runIndex)), String(runIndex));
    }
  }
  const failed = new Set(counterexamples.map((c) => c.property));
  const { untestable } = streamSize(policies, expectations, options.maxCalls);
  return {
    seed: options.seed,
    path: options.path,
    streams,
    calls,
    properties: properties.map((p) => ({
      id: p.id,
      description: p.description,
      ok: !failed.has(p.id),
      ...(expectations.some((e) => e.id === p.id) && { calls: met.get(p.id) ?? 0 }),
      ...(untestable.has(p.id) && { untested: untestable.get(p.id) }),
    })),
    counterexamples,
    byTool: byTool.map((m) => new Map([...m].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)))),
    variants: pool.variants,
  };
}

/** The stream a fast-check seed and path name (a path from a reported counterexample). */
export function streamAt(arb: Arbitrary<SimCall[]>, seed: number, path: string): SimCall[] {
  let value: SimCall[] | undefined;
  try {
    fc.check(
      fc.property(arb, (s) => {
        value = s;
        return false;
      }),
      { seed, path, numRuns: 1, endOnFailure: true },
    );
  } catch {
    // fast-check cannot follow the path (`Unable to replay`): not one it reported for this seed.
  }
  if (!value) throw new InputError(`--path ${path}: names no stream for seed ${seed}`);
  return value;
}
