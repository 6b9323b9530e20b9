import type { CompiledLimit, CompiledRule, Policy } from './compilePolicy.js';
import type { Charge, Limiter, ToolCall, Verdict } from './types.js';

export interface DecideOptions {
  /**
   * Whether an `approval` consumes its counters now, as if granted (dry-run default, true), or
   * waits for the human (live, and `--assume-approval deny`): then call `applyCharges` on grant.
   */
  consumeOnApproval?: boolean;
}

const NO_CHARGES: readonly Charge[] = [];
const NO_LIMITS: readonly CompiledLimit[] = [];

/**
 * Decides one `tools/call` under `policy` at time `now` (ms), in the evaluation order of SPEC §2:
 * hide, default, deny, args, limits (the entry's and `all_tools`), approval, allow. Counters are
 * consumed only when the call ends allowed (or approved, when `consumeOnApproval`). Pure but for
 * the limiter it is given. This is the hot path of replay, simulation and the gateway: no closures,
 * reasons precomputed at compile time.
 */
export function decide(
  policy: Policy,
  limiter: Limiter,
  call: ToolCall,
  now: number,
  options?: DecideOptions,
): Verdict {
  const hidden = policy.hiddenBy(call.tool);
  if (hidden) {
    return {
      decision: 'deny',
      reason: `tool ${call.tool} is hidden by policy`,
      rule: hidden.path,
      charges: NO_CHARGES,
    };
  }
  const rule = policy.ruleFor(call.tool);
  if (!rule) {
    if (policy.default === 'deny') {
      return {
        decision: 'deny',
        reason: `no rule for tool ${call.tool}; default deny`,
        rule: 'default',
        charges: NO_CHARGES,
      };
    }
  } else {
    if (rule.action === 'deny') {
      return { decision: 'deny', reason: rule.denyReason, rule: rule.path, entry: rule.path, charges: NO_CHARGES };
    }
    if (rule.args) {
      const failure = rule.args(call.args);
      if (failure !== undefined) {
        return {
          decision: 'deny',
          reason: rule.reason ? `${rule.reason}: ${failure.reason}` : failure.reason,
          rule: rule.argsPath,
          entry: rule.path,
          argsPointer: failure.pointer,
          charges: NO_CHARGES,
        };
      }
    }
  }
  const limits = rule ? rule.limits : NO_LIMITS;
  const shared = policy.allToolsLimits;
  if (limits.length === 0 && shared.length === 0) return finish(limiter, rule, call, now, NO_CHARGES, options);
  return limiter.atomically(() => limited(limiter, rule, limits, shared, call, now, options));
}

function limited(
  limiter: Limiter,
  rule: CompiledRule | undefined,
  limits: readonly CompiledLimit[],
  shared: readonly CompiledLimit[],
  call: ToolCall,
  now: number,
  options: DecideOptions | undefined,
): Verdict {
  let charges: Charge[] | undefined;
  let throttledBy: CompiledLimit | undefined;
  let retryAfterMs = 0;
  const total = limits.length + shared.length;
  for (let i = 0; i < total; i++) {
    const limit = i < limits.length ? limits[i]! : shared[i - limits.length]!;
    const key = counterKey(limit, call);
    const wait = limiter.wait(key, limit.windowMs, limit.max, now);
    if (wait > 0) {
      if (!throttledBy) throttledBy = limit;
      if (wait > retryAfterMs) retryAfterMs = wait;
    } else if (!throttledBy) {
      charges = addCharge(charges, key, limit.keepMs);
    }
  }
  if (throttledBy) {
    const verdict: Verdict = {
      decision: 'throttle',
      reason: throttledBy.reason,
      rule: throttledBy.path,
      charges: NO_CHARGES,
    };
    if (retryAfterMs !== Infinity) verdict.retryAfterMs = Math.ceil(retryAfterMs);
    if (rule) verdict.entry = rule.path;
    return verdict;
  }
  return finish(limiter, rule, call, now, charges ?? NO_CHARGES, options);
}

/** The counter key of a limit for a call: interned per (limit, scope key), so no string is built per call. */
function counterKey(limit: CompiledLimit, call: ToolCall): string {
  const scope = limit.scope === 'grant' ? call.grant : limit.scope === 'session' ? call.session : '';
  let key = limit.keys.get(scope);
  if (key === undefined) {
    if (limit.keys.size >= 10_000) limit.keys.clear();
    key = limit.keyPrefix + scope;
    limit.keys.set(scope, key);
  }
  return key;
}

function addCharge(charges: Charge[] | undefined, key: string, windowMs: number): Charge[] {
  if (!charges) return [{ key, windowMs }];
  for (const c of charges) {
    if (c.key === key) {
      if (windowMs > c.windowMs) c.windowMs = windowMs;
      return charges;
    }
  }
  charges.push({ key, windowMs });
  return charges;
}

function finish(
  limiter: Limiter,
  rule: CompiledRule | undefined,
  call: ToolCall,
  now: number,
  charges: readonly Charge[],
  options: DecideOptions | undefined,
): Verdict {
  if (!rule) {
    applyCharges(limiter, charges, now);
    return { decision: 'allow', reason: `no rule for tool ${call.tool}; default allow`, rule: 'default', charges };
  }
  if (rule.action === 'require_approval') {
    if (options?.consumeOnApproval ?? true) applyCharges(limiter, charges, now);
    return { decision: 'approval', reason: rule.approvalReason, rule: rule.path, entry: rule.path, charges };
  }
  applyCharges(limiter, charges, now);
  return { decision: 'allow', reason: rule.allowReason, rule: rule.path, entry: rule.path, charges };
}

/** Consumes the counters of a verdict (on allow, or when an approval is granted). */
export function applyCharges(limiter: Limiter, charges: readonly Charge[], now: number): void {
  for (let i = 0; i < charges.length; i++) limiter.record(charges[i]!.key, now, charges[i]!.windowMs);
}

/**
 * Fail closed: the verdict when the engine or the db threw while deciding (arguments nested
 * deeper than a recursive `args` schema's validator can recurse, a locked db). The gateway
 * answers it, and replay decides it too, so a dry-run gives the decision the gateway gave.
 */
export function failClosed(err: unknown): Verdict & { decision: 'deny' } {
  const message = err instanceof Error ? err.message : String(err);
  return {
    decision: 'deny',
    reason: `mcp-replay could not decide this call (${message}); denied to fail closed`,
    rule: 'fail-closed',
    charges: NO_CHARGES,
  };
}
