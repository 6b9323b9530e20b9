import fc, { type Arbitrary } from 'fast-check';
import { schemaArbitrary } from './schemaArbitrary.js';
import { shortestFirst } from './shortestFirst.js';
import { trafficArbitraries, type Timing, type TrafficParams } from './traffic.js';
import type { PoolTool, ToolPool } from './toolPool.js';
import type { SimCall } from './types.js';

/** Grant names, `agent-a` … `agent-p`: a stream uses the first few (3 unless a bound needs more). */
export const GRANTS = [...'abcdefghijklmnop'].map((c) => `agent-${c}`);
/** Sessions and grants a stream spreads over unless a bound needs more. */
export const SESSIONS = 4;
export const GRANT_COUNT = 3;

export interface StreamOptions {
  pool: ToolPool;
  /** Limit and expectation windows (ms): timings are drawn around them. */
  windows: readonly number[];
  /** Adversarial strings mixed into arguments; empty = arguments from the schemas only. */
  adversarial: readonly string[];
  /** Adversarial numbers mixed into number and integer arguments; empty = none. */
  adversarialNumbers?: readonly number[];
  /** Longest stream drawn (calls). */
  maxCalls?: number;
  /** Sessions (default 4) and grants (default 3, at most GRANTS.length) the calls spread over. */
  sessions?: number;
  grants?: number;
  /**
   * Whether a pool tool is one a rate bound counts (a limit of its rule or of `all_tools`, an
   * `atMost` expectation): half the streams call only one or two of those.
   */
  counted?: (tool: string) => boolean;
}

interface Drawn {
  traffic: TrafficParams;
  /** Grant index of sessions s1…s4. */
  grants: number[];
  calls: (readonly [tiny: number, code: number, session: number, call: readonly [string, unknown]])[];
}

/**
 * Whole call streams: several sessions (each under one grant), tools from the pool with
 * arguments from their schemas and adversarial values, times from a traffic shape. Calls are in
 * timeline order (time, then session), the order `replay` merges sessions in, so a
 * counterexample written as JSONL replays to the same decisions.
 */
export function streamArbitrary(options: StreamOptions): Arbitrary<SimCall[]> {
  const traffic = trafficArbitraries(options.windows);
  const sessions = options.sessions ?? SESSIONS;
  const grants = Math.min(options.grants ?? GRANT_COUNT, GRANTS.length);
  const adv = options.adversarial.length > 0 ? shortestFirst(options.adversarial) : undefined;
  const numbers = options.adversarialNumbers ?? [];
  const advNumbers = numbers.length > 0 ? fc.constantFrom(...numbers) : undefined;
  const built = new Map<PoolTool, Arbitrary<readonly [string, unknown]>>();
  const callOf = (t: PoolTool): Arbitrary<readonly [string, unknown]> => {
    let arb = built.get(t);
    if (!arb) {
      const args = t.schemas.map((s) => schemaArbitrary(s, { adversarial: adv, adversarialNumbers: advNumbers }));
      built.set(t, (arb = fc.tuple(fc.constant(t.name), args.length === 1 ? args[0]! : fc.oneof(...args))));
    }
    return arb;
  };
  const group = (tools: readonly PoolTool[]) =>
    tools.length === 1 ? callOf(tools[0]!) : fc.oneof(...tools.map(callOf));
  const { primary, extra } = options.pool;
  const call =
    primary.length === 0
      ? group(extra)
      : extra.length === 0
        ? group(primary)
        : fc.oneof({ arbitrary: group(primary), weight: 4 }, { arbitrary: group(extra), weight: 1 });
  // Per call: timing draws, session index, [tool, args] — a flat tuple, cheap to draw.
  const callsOf = (c: Arbitrary<readonly [string, unknown]>) =>
    fc.array(fc.tuple(traffic.tiny, traffic.code, fc.integer({ min: 0, max: sessions - 1 }), c), {
      maxLength: options.maxCalls ?? 40,
      size: 'max',
    });
  // A rate hole needs several allowed calls of one tool close together: in a stream spread over a
  // catalog of 13 tools, a tool gets 3 of 40 calls. Half the streams call only one or two of
  // the tools a rate bound counts, so a wide catalog is tested as hard as a one-tool one.
  const counted = options.counted ? [...primary, ...extra].filter((t) => options.counted!(t.name)) : [];
  const calls =
    counted.length === 0
      ? callsOf(call)
      : fc.oneof(
          callsOf(call),
          fc
            .subarray(counted, { minLength: 1, maxLength: Math.min(2, counted.length) })
            .chain((focus) => callsOf(group(focus))),
        );
  const drawn: Arbitrary<Drawn> = fc.record({
    traffic: traffic.params,
    grants: fc.array(fc.integer({ min: 0, max: grants - 1 }), { minLength: sessions, maxLength: sessions }),
    calls,
  });
  return drawn.map((d) => toCalls(d, traffic.times));
}

function toCalls(d: Drawn, times: (p: TrafficParams, t: readonly Timing[]) => number[]): SimCall[] {
  const at = times(
    d.traffic,
    d.calls.map(([tiny, code]): Timing => [tiny, code]),
  );
  const calls = d.calls.map(
    ([, , session, [tool, args]], i): SimCall => ({
      at: at[i]!,
      session: `s${session + 1}`,
      grant: GRANTS[d.grants[session]!]!,
      tool,
      args,
    }),
  );
  // Times never decrease; only calls at the same time may need reordering (by session). A stable
  // sort keeps the drawn order otherwise; skip it when nothing is out of order.
  const inOrder = (a: SimCall, b: SimCall) => a.at < b.at || (a.at === b.at && a.session <= b.session);
  for (let i = 1; i < calls.length; i++) {
    if (!inOrder(calls[i - 1]!, calls[i]!)) return calls.sort((a, b) => a.at - b.at || cmp(a.session, b.session));
  }
  return calls;
}

function cmp(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}
