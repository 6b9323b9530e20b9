import type { Policy } from '../engine/compilePolicy.js';
import { decideDry } from './dryRun.js';
import { MemoryLimiter } from '../engine/slidingWindow.js';
import { DECISIONS, type Decision, type Verdict } from '../engine/types.js';
import type { RecordedCall } from './calls.js';

/** A change of decision between policy A and policy B, e.g. `allow->deny`. */
export type Transition = `${Decision}->${Decision}`;

/** Every possible change, in a fixed order (A's decision, then B's, in `DECISIONS` order). */
export const TRANSITIONS: readonly Transition[] = DECISIONS.flatMap((a) =>
  DECISIONS.filter((b) => b !== a).map((b): Transition => `${a}->${b}`),
);

/** One call decided under both policies. */
export interface DiffedCall {
  call: RecordedCall;
  a: Verdict;
  b: Verdict;
}

export interface DiffOptions {
  /** `--assume-approval`: does an approval count as granted (consuming counters)? Default grant. */
  assumeApproval?: 'grant' | 'deny';
}

/**
 * Decides every call of one timeline under policy A and policy B, each with its own fresh
 * in-memory limiter (budgets evolve independently, as they would under either policy live).
 * Streams: one call in, one pair of verdicts out.
 */
export function* diffRun(a: Policy, b: Policy, calls: Iterable<RecordedCall>, options: DiffOptions = {}) {
  const la = new MemoryLimiter();
  const lb = new MemoryLimiter();
  const assume = options.assumeApproval ?? 'grant';
  for (const call of calls) {
    const d: DiffedCall = { call, a: decideDry(a, la, call, assume), b: decideDry(b, lb, call, assume) };
    yield d;
  }
}

export function isChange(d: { a: { decision: Decision }; b: { decision: Decision } }): boolean {
  return d.a.decision !== d.b.decision;
}

export function transitionOf(a: Decision, b: Decision): Transition {
  return `${a}->${b}`;
}

/** Parses `allow->throttle` (as given to `--allow-transition`); `*` stands for any decision. */
export function parseTransitions(text: string): Transition[] | undefined {
  const m = /^\s*(\*|allow|deny|throttle|approval)\s*->\s*(\*|allow|deny|throttle|approval)\s*$/.exec(text);
  if (!m) return undefined;
  const [, from, to] = m;
  return TRANSITIONS.filter((t) => {
    const [x, y] = t.split('->');
    return (from === '*' || from === x) && (to === '*' || to === y);
  });
}

export interface ToolDiff {
  calls: number;
  changed: number;
  transitions: Partial<Record<Transition, number>>;
}

/** Accumulates the transition matrix, overall and per tool (the `summary` line of SPEC §5). */
export class DiffSummary {
  calls = 0;
  changed = 0;
  readonly transitions = new Map<Transition, number>();
  readonly byTool = new Map<string, ToolDiff>();

  add(d: DiffedCall): boolean {
    this.calls++;
    let t = this.byTool.get(d.call.tool);
    if (!t) this.byTool.set(d.call.tool, (t = { calls: 0, changed: 0, transitions: {} }));
    t.calls++;
    if (!isChange(d)) return false;
    const tr = transitionOf(d.a.decision, d.b.decision);
    this.changed++;
    this.transitions.set(tr, (this.transitions.get(tr) ?? 0) + 1);
    t.changed++;
    t.transitions[tr] = (t.transitions[tr] ?? 0) + 1;
    return true;
  }

  /** Transitions that occurred and are not in `allowed` (what `--fail-on-change` fails on). */
  unexpected(allowed: ReadonlySet<Transition>): Transition[] {
    return TRANSITIONS.filter((t) => (this.transitions.get(t) ?? 0) > 0 && !allowed.has(t));
  }

  toJSON() {
    const ordered = (m: ReadonlyMap<Transition, number> | Partial<Record<Transition, number>>) => {
      const get = (t: Transition) => (m instanceof Map ? m.get(t) : (m as Partial<Record<Transition, number>>)[t]);
      const out: Partial<Record<Transition, number>> = {};
      for (const t of TRANSITIONS) {
        const n = get(t);
        if (n) out[t] = n;
      }
      return out;
    };
    const tools = [...this.byTool.keys()].sort();
    return {
      type: 'summary' as const,
      calls: this.calls,
      changed: this.changed,
      transitions: ordered(this.transitions),
      byTool: Object.fromEntries(
        tools.map((tool) => {
          const t = this.byTool.get(tool)!;
          return [tool, { calls: t.calls, changed: t.changed, transitions: ordered(t.transitions) }];
        }),
      ),
    };
  }
}

/** The `change` line of SPEC §5. */
export function changeLine({ call, a, b }: DiffedCall) {
  const side = (v: Verdict) => {
    const s: { decision: Decision; reason: string; rule: string; retryAfterMs?: number } = {
      decision: v.decision,
      reason: v.reason,
      rule: v.rule,
    };
    if (v.retryAfterMs !== undefined) s.retryAfterMs = v.retryAfterMs;
    return s;
  };
  return {
    type: 'change' as const,
    session: call.session,
    seq: call.seq,
    t: call.t,
    tool: call.tool,
    args: call.args,
    a: side(a),
    b: side(b),
  };
}
