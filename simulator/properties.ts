import type { CompiledLimit, Policy } from '../engine/compilePolicy.js';
import type { Decision, Limiter } from '../engine/types.js';
import { decideStream } from './decideStream.js';
import { matches, type Expectation } from './expectations.js';
import type { SimCall, SimDecision, SimPolicy } from './types.js';
import { overfullWindow } from './windowCount.js';

/** A stream and what every policy decided for it (index = policy index). */
export interface DecidedStream {
  calls: readonly SimCall[];
  decisions: readonly (readonly SimDecision[])[];
  /** The limiter the decisions were made with (a fresh one per call); default in-memory. */
  newLimiter?: (() => Limiter) | undefined;
}

export interface Violation {
  message: string;
  /** Indexes of the calls that show it. */
  calls: number[];
}

/** A property every generated stream must satisfy: a plain function over (policies, stream, decisions). */
export interface Property {
  id: string;
  description: string;
  check: (policies: readonly SimPolicy[], run: DecidedStream) => Violation | undefined;
}

const counts = (d: Decision) => d === 'allow' || d === 'approval';
const label = (policies: readonly SimPolicy[], i: number) => (policies.length > 1 ? `${policies[i]!.name}: ` : '');

/** SPEC §6: no limit lets more than `max` calls through in any window (checked apart from the limiter). */
export const limitsHold: Property = {
  id: 'limits',
  description: 'no limit allows more than max calls in any window',
  check(policies, run) {
    for (let p = 0; p < policies.length; p++) {
      const policy = policies[p]!.policy;
      for (const limit of allLimits(policy)) {
        // Calls that charge this limit's budget, grouped by scope key: allowed (or approved)
        // calls of every entry with a limit of the same counter and scope.
        const groups = new Map<string, number[]>();
        run.calls.forEach((c, i) => {
          if (!counts(run.decisions[p]![i]!.decision)) return;
          if (!chargesCounter(policy, c.tool, limit)) return;
          const key = limit.scope === 'grant' ? c.grant : limit.scope === 'session' ? c.session : '';
          let g = groups.get(key);
          if (!g) groups.set(key, (g = []));
          g.push(i);
        });
        for (const [key, idx] of groups) {
          // The engine checks a limit when it decides a call of its own entry (all_tools': every
          // call): other entries sharing its counter may charge it past its max (SPEC §2: the
          // budget is shared, each limit bounds the calls it decides).
          const over = overfullWindow(
            idx.map((i) => run.calls[i]!.at),
            limit.windowMs,
            limit.max,
            (k) => decides(policy, run.calls[idx[k]!]!.tool, limit),
          );
          if (over) {
            const scope = limit.scope === 'global' ? '' : ` for ${limit.scope} ${key}`;
            return {
              message: `${label(policies, p)}${limit.path} (${limit.text}) let ${over.length} calls through within ${limit.windowMs} ms${scope}`,
              calls: over.map((k) => idx[k]!),
            };
          }
        }
      }
    }
    return undefined;
  },
};

function allLimits(policy: Policy): CompiledLimit[] {
  return [...policy.rules.flatMap((r) => r.limits), ...policy.allToolsLimits];
}

/** Whether `limit` is one the engine checks for a call of `tool`: its entry's, or all_tools'. */
function decides(policy: Policy, tool: string, limit: CompiledLimit): boolean {
  return policy.allToolsLimits.includes(limit) || (policy.ruleFor(tool)?.limits.includes(limit) ?? false);
}

function chargesCounter(policy: Policy, tool: string, limit: CompiledLimit): boolean {
  const same = (l: CompiledLimit) => l.counter === limit.counter && l.scope === limit.scope;
  return policy.allToolsLimits.some(same) || (policy.ruleFor(tool)?.limits.some(same) ?? false);
}

/** SPEC §6: a tool the policy denies outright (hidden, `action: deny`, or no rule under default deny) is never allowed. */
export const deniedStayDenied: Property = {
  id: 'denied',
  description: 'a tool the policy denies outright is never allowed',
  check(policies, run) {
    for (let p = 0; p < policies.length; p++) {
      const policy = policies[p]!.policy;
      for (let i = 0; i < run.calls.length; i++) {
        const tool = run.calls[i]!.tool;
        const rule = policy.ruleFor(tool);
        const outright =
          policy.hiddenBy(tool) !== undefined || rule?.action === 'deny' || (!rule && policy.default === 'deny');
        const d = run.decisions[p]![i]!.decision;
        if (outright && d !== 'deny')
          return { message: `${label(policies, p)}${tool} is denied outright but was decided ${d}`, calls: [i] };
      }
    }
    return undefined;
  },
};

/**
 * SPEC §6: the same stream always gets the same decisions: decided again from scratch (fresh
 * limiter) after the first pass, so hidden state, clock reads or argument mutation show up.
 */
export const deterministic: Property = {
  id: 'deterministic',
  description: 'the same stream always gets the same decisions',
  check(policies, run) {
    for (let p = 0; p < policies.length; p++) {
      const again = decideStream(policies[p]!.policy, run.calls, run.newLimiter?.());
      const first = run.decisions[p]!;
      for (let i = 0; i < again.length; i++) {
        const [a, b] = [first[i]!, again[i]!];
        if (
          a.decision !== b.decision ||
          a.rule !== b.rule ||
          a.reason !== b.reason ||
          a.retryAfterMs !== b.retryAfterMs
        )
          return {
            message: `${label(policies, p)}call ${i + 1} was decided ${a.decision} (${a.rule}), then ${b.decision} (${b.rule})`,
            calls: [i],
          };
      }
    }
    return undefined;
  },
};

/** With two policies: they decide every call the same. */
export const policiesAgree: Property = {
  id: 'agree',
  description: 'A and B decide every call the same',
  check(policies, run) {
    const [a, b] = [run.decisions[0]!, run.decisions[1]!];
    for (let i = 0; i < run.calls.length; i++) {
      if (a[i]!.decision !== b[i]!.decision)
        return {
          message: `${run.calls[i]!.tool}: ${policies[0]!.name} ${a[i]!.decision}, ${policies[1]!.name} ${b[i]!.decision}`,
          calls: [i],
        };
    }
    return undefined;
  },
};

const matched = new WeakMap<DecidedStream, Map<Expectation, number[]>>();

/**
 * The indexes of the calls of a stream an expectation is about. Remembered per decided stream:
 * the exploring pass tallies them and the expectation's check reads them, one match per call
 * (a `when` schema is a full JSON Schema validation).
 */
export function matchingCalls(e: Expectation, run: DecidedStream): number[] {
  let byExpectation = matched.get(run);
  if (!byExpectation) matched.set(run, (byExpectation = new Map()));
  let idx = byExpectation.get(e);
  if (!idx) {
    idx = [];
    for (let i = 0; i < run.calls.length; i++) if (matches(e, run.calls[i]!)) idx.push(i);
    byExpectation.set(e, idx);
  }
  return idx;
}

/** A user expectation as a property, checked against every policy. */
export function expectationProperty(e: Expectation): Property {
  return {
    id: e.id,
    description: e.text,
    check(policies, run) {
      const matching = matchingCalls(e, run);
      for (let p = 0; p < policies.length; p++) {
        const ds = run.decisions[p]!;
        if (e.kind === 'atMost') {
          const allowed = matching.filter((i) => counts(ds[i]!.decision));
          const over = overfullWindow(
            allowed.map((i) => run.calls[i]!.at),
            e.windowMs!,
            e.max!,
          );
          if (over)
            return {
              message: `${label(policies, p)}${over.length} calls allowed within ${e.windowMs} ms; expected at most ${e.max}`,
              calls: over.map((k) => allowed[k]!),
            };
          continue;
        }
        for (const i of matching) {
          const d = ds[i]!.decision;
          if (e.kind === 'never' ? d === e.decision : d !== e.decision)
            return { message: `${label(policies, p)}${run.calls[i]!.tool} was decided ${d}`, calls: [i] };
        }
      }
      return undefined;
    },
  };
}

/** The properties of a simulation: SPEC §6's built-ins, the user's expectations, agreement of two policies. */
export function propertiesFor(policyCount: number, expectations: readonly Expectation[]): Property[] {
  return [
    limitsHold,
    deniedStayDenied,
    deterministic,
    ...expectations.map(expectationProperty),
    ...(policyCount > 1 ? [policiesAgree] : []),
  ];
}
