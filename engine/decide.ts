import type { CompiledLimit, Policy } from './compilePolicy.js';
import type { Charge, Limiter, ToolCall, Verdict } from './types.js';

export interface DecideOptions {
  /**
   * Whether an `approval` consumes its counters now, as if granted (dry-run default, true), or
   * waits for the human (live, and `--assume-approval deny`): then call `applyCharges` on grant.
   */
  consumeOnApproval?: boolean;
}

const NO_CHARGES: readonly Charge[] = [];

/**
 * Decides one `tools/call` under `policy` at time `now` (ms), in the evaluation order of SPEC §2:
 * hide, default, deny, args, limits (the entry's and `all_tools`), approval, allow. Counters are
 * consumed only when the call ends allowed. Pure but for the limiter it is given.
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
  if (!rule && policy.default === 'deny') {
    return {
      decision: 'deny',
      reason: `no rule for tool ${call.tool}; default deny`,
      rule: 'default',
      charges: NO_CHARGES,
    };
  }
  if (rule?.action === 'deny') {
    return {
      decision: 'deny',
      reason: rule.reason ?? `tool ${call.tool} is denied by ${rule.path}`,
      rule: rule.path,
      entry: rule.path,
      charges: NO_CHARGES,
    };
  }
  if (rule?.args) {
    const failure = rule.args(call.args);
    if (failure !== undefined) {
      return {
        decision: 'deny',
        reason: rule.reason ? `${rule.reason}: ${failure}` : failure,
        rule: `${rule.path}.args`,
        entry: rule.path,
        charges: NO_CHARGES,
      };
    }
  }
  const limits = rule ? rule.limits : NO_LIMITS;
  const shared = policy.allToolsLimits;
  const verdict =
    limits.length === 0 && shared.length === 0
      ? undefined
      : limiter.atomically(() => {
          let charges: Charge[] | undefined;
          let throttledBy: CompiledLimit | undefined;
          let retryAfterMs = 0;
          const check = (list: readonly CompiledLimit[]) => {
            for (const limit of list) {
              const key = limit.keyPrefix + scopeKey(limit, call);
              const wait = limiter.wait(key, limit.windowMs, limit.max, now);
              if (wait > 0) {
                throttledBy ??= limit;
                if (wait > retryAfterMs) retryAfterMs = wait;
              } else if (!throttledBy) charges = addCharge(charges, key, limit.windowMs);
            }
          };
          check(limits);
          check(shared);
          if (throttledBy) {
            const verdict: Verdict = {
              decision: 'throttle',
              reason: `${throttledBy.path}: ${throttledBy.text}`,
              rule: throttledBy.path,
              charges: NO_CHARGES,
            };
            if (Number.isFinite(retryAfterMs)) verdict.retryAfterMs = Math.ceil(retryAfterMs);
            return verdict;
          }
          return finish(limiter, rule, call, now, charges ?? NO_CHARGES, options);
        });
  const result = verdict ?? finish(limiter, rule, call, now, NO_CHARGES, options);
  if (rule) result.entry = rule.path;
  return result;
}

const NO_LIMITS: readonly CompiledLimit[] = [];

function scopeKey(limit: CompiledLimit, call: ToolCall): string {
  return limit.scope === 'grant' ? call.grant : limit.scope === 'session' ? call.session : '';
}

function addCharge(charges: Charge[] | undefined, key: string, windowMs: number): Charge[] {
  const list = charges ?? [];
  const same = list.find((c) => c.key === key);
  if (!same) list.push({ key, windowMs });
  else if (windowMs > same.windowMs) same.windowMs = windowMs;
  return list;
}

function finish(
  limiter: Limiter,
  rule: ReturnType<Policy['ruleFor']>,
  call: ToolCall,
  now: number,
  charges: readonly Charge[],
  options: DecideOptions | undefined,
): Verdict {
  if (rule?.action === 'require_approval') {
    if (options?.consumeOnApproval ?? true) applyCharges(limiter, charges, now);
    return {
      decision: 'approval',
      reason: rule.reason ?? `tool ${call.tool} requires approval`,
      rule: rule.path,
      charges,
    };
  }
  applyCharges(limiter, charges, now);
  if (!rule)
    return { decision: 'allow', reason: `no rule for tool ${call.tool}; default allow`, rule: 'default', charges };
  return { decision: 'allow', reason: rule.reason ?? `allowed by ${rule.path}`, rule: rule.path, charges };
}

/** Consumes the counters of a verdict (on allow, or when an approval is granted). */
export function applyCharges(limiter: Limiter, charges: readonly Charge[], now: number): void {
  for (const c of charges) limiter.record(c.key, now, c.windowMs);
}
