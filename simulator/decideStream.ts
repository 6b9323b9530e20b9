import type { Policy } from '../engine/compilePolicy.js';
import { decide } from '../engine/decide.js';
import { MemoryLimiter } from '../engine/slidingWindow.js';
import type { Limiter } from '../engine/types.js';
import type { SimCall, SimDecision } from './types.js';

/**
 * Decides a stream under a policy with a fresh limiter (in-memory unless another is injected),
 * exactly as `replay` does a recording (approvals count as granted and consume their counters).
 */
export function decideStream(
  policy: Policy,
  calls: readonly SimCall[],
  limiter: Limiter = new MemoryLimiter(),
): SimDecision[] {
  // The engine's verdicts as they are (a SimDecision is a subset): no copy per call.
  return calls.map((c) => decide(policy, limiter, c, c.at, { consumeOnApproval: true }));
}

/** Only the fields a report shows: decision, reason, rule, retryAfterMs. */
export function pickDecision(v: SimDecision): SimDecision {
  const d: SimDecision = { decision: v.decision, reason: v.reason, rule: v.rule };
  if (v.retryAfterMs !== undefined) d.retryAfterMs = v.retryAfterMs;
  return d;
}
