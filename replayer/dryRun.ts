import { decide, failClosed } from '../engine/decide.js';
import type { Policy } from '../engine/compilePolicy.js';
import { MemoryLimiter } from '../engine/slidingWindow.js';
import type { Decision, Limiter, Verdict } from '../engine/types.js';
import type { RecordedCall } from './calls.js';
import { REDACTED } from '../recorder/redact.js';

export interface DecidedCall {
  call: RecordedCall;
  verdict: DryVerdict;
}

/** A dry-run's verdict: the engine's, or the deny of an approval nobody grants (`unapproved`). */
export type DryVerdict = Verdict & {
  /** Under `--assume-approval deny`: the engine asked for an approval, and the dry run denied it. */
  unapproved?: true;
};

export interface DryRunOptions {
  /** `--assume-approval`: does an approval count as granted (consuming counters)? Default grant. */
  assumeApproval?: 'grant' | 'deny';
  limiter?: Limiter;
}

/** Decides every call of a timeline under `policy`, in order, with a fresh in-memory limiter. */
export function* dryRun(
  policy: Policy,
  calls: Iterable<RecordedCall>,
  options: DryRunOptions = {},
): Generator<DecidedCall> {
  const limiter = options.limiter ?? new MemoryLimiter();
  const assume = options.assumeApproval ?? 'grant';
  for (const call of calls) yield { call, verdict: decideDry(policy, limiter, call, assume) };
}

/**
 * One dry-run decision. An approval counts as granted (SPEC §2: it consumes its counters and is
 * reported as `approval`) unless `--assume-approval deny`: then nobody approves, and the call
 * ends as the gateway would end it on a timeout — denied, consuming nothing.
 */
export function decideDry(policy: Policy, limiter: Limiter, call: RecordedCall, assume: 'grant' | 'deny'): DryVerdict {
  let verdict: Verdict;
  try {
    verdict = decide(policy, limiter, call, call.at, { consumeOnApproval: assume === 'grant' });
  } catch (err) {
    // What the gateway answers when deciding throws (it consumes nothing): one call, not the run.
    return failClosed(err);
  }
  if (verdict.argsPointer !== undefined && valueAt(call.args, verdict.argsPointer) === REDACTED) {
    // The recorder stored a value under a secret-like key (`SecretId`, `NextToken`) redacted:
    // the schema judged the marker, not what the agent sent. The reader must know.
    return { ...verdict, reason: `${verdict.reason} ${REDACTED_NOTE}` };
  }
  if (assume === 'grant' || verdict.decision !== 'approval') return verdict;
  return {
    ...verdict,
    decision: 'deny',
    reason: `${verdict.reason}; not approved (--assume-approval deny)`,
    charges: [],
    unapproved: true,
  };
}

const REDACTED_NOTE = `(the recording holds this value redacted, "${REDACTED}": the gateway decided on the real one)`;

/** The value a JSON pointer (ajv's `instancePath`) names in `root`, or undefined. */
function valueAt(root: unknown, pointer: string): unknown {
  let v = root;
  for (const raw of pointer.split('/').slice(1)) {
    if (typeof v !== 'object' || v === null) return undefined;
    const key = raw.replace(/~1/g, '/').replace(/~0/g, '~');
    if (!Object.hasOwn(v, key)) return undefined;
    v = (v as Record<string, unknown>)[key];
  }
  return v;
}

export type Counts = Record<Decision, number> & { calls: number };

const zero = (): Counts => ({ calls: 0, allow: 0, deny: 0, throttle: 0, approval: 0 });

/** Accumulates the `summary` line of SPEC §5 for `replay`. */
export class ReplaySummary {
  readonly total = zero();
  readonly byTool = new Map<string, Counts>();
  private readonly used = new Set<string>();

  constructor(private readonly policy: Policy) {}

  add({ call, verdict }: DecidedCall): void {
    this.total.calls++;
    this.total[verdict.decision]++;
    let t = this.byTool.get(call.tool);
    if (!t) this.byTool.set(call.tool, (t = zero()));
    t.calls++;
    t[verdict.decision]++;
    this.used.add(verdict.rule);
    if (verdict.entry) this.used.add(verdict.entry);
  }

  /** Rules (hide entries, tool entries) that decided no call: dead or shadowed. */
  unusedRules(): string[] {
    return this.policy.rulePaths.filter((p) => !this.used.has(p));
  }

  toJSON() {
    return {
      type: 'summary' as const,
      ...this.total,
      byTool: Object.fromEntries([...this.byTool].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))),
      policy: this.policy.sha256,
      unusedRules: this.unusedRules(),
    };
  }
}
