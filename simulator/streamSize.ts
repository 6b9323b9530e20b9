import type { CompiledLimit } from '../engine/compilePolicy.js';
import type { Expectation } from './expectations.js';
import { GRANTS, GRANT_COUNT, SESSIONS } from './streamArbitrary.js';
import type { SimPolicy } from './types.js';

/** Streams never grow past this many calls: a limit of 100,000 a day cannot be broken by drawing. */
export const MAX_STREAM_CALLS = 300;

export interface StreamSize {
  maxCalls: number;
  sessions: number;
  grants: number;
  /** Why an expectation cannot fail on streams of this size (by expectation id). */
  untestable: Map<string, string>;
}

/**
 * How big streams must be for every bound to be breakable: a bound of N (a limit's `max`, an
 * `atMost`) needs N + 1 calls in one window, so streams grow past `--max-calls` to twice that (up
 * to MAX_STREAM_CALLS); a `session` or `grant` limit of m under an `atMost` of N needs ⌈(N+1)/m⌉
 * sessions (or grants) to break the expectation, so there are that many (up to 16).
 */
export function streamSize(
  policies: readonly SimPolicy[],
  expectations: readonly Expectation[],
  maxCalls = 40,
): StreamSize {
  const limits: CompiledLimit[] = policies.flatMap((p) => [
    ...p.policy.rules.flatMap((r) => r.limits),
    ...p.policy.allToolsLimits,
  ]);
  const atMost = expectations.filter((e) => e.kind === 'atMost');
  const bounds = [...limits.map((l) => l.max), ...atMost.map((e) => e.max!)];
  // Twice that: stream lengths spread over 0 … maxCalls, and the calls that break a bound share
  // the stream with calls before and after their window.
  const calls = Math.max(maxCalls, Math.min(MAX_STREAM_CALLS, 2 * (Math.max(0, ...bounds) + 1)));
  let sessions = SESSIONS;
  let grants = GRANT_COUNT;
  for (const e of atMost)
    for (const l of limits) {
      if (l.max < 1 || l.scope === 'global') continue;
      const needed = Math.ceil((e.max! + 1) / l.max);
      sessions = Math.max(sessions, needed);
      if (l.scope === 'grant') grants = Math.max(grants, needed);
    }
  const untestable = new Map<string, string>();
  for (const e of atMost)
    if (e.max! + 1 > calls)
      untestable.set(
        e.id,
        `breaking it takes ${e.max! + 1} calls in one window; streams hold at most ${calls} (--max-calls)`,
      );
  return {
    maxCalls: calls,
    sessions: Math.min(sessions, GRANTS.length),
    grants: Math.min(grants, GRANTS.length),
    untestable,
  };
}
