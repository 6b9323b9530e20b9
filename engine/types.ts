/** The four outcomes of a `tools/call` under a policy (SPEC §2). */
export type Decision = 'allow' | 'deny' | 'throttle' | 'approval';

export const DECISIONS: readonly Decision[] = ['allow', 'deny', 'throttle', 'approval'];

/** One `tools/call` as the engine sees it: what was called, with what, and by whom. */
export interface ToolCall {
  tool: string;
  args: unknown;
  /** Scope key of `scope: "session"` limits: one MCP session. */
  session: string;
  /** Scope key of `scope: "grant"` limits: the identity the call runs under. */
  grant: string;
}

/** A counter the call would consume if it ends allowed. */
export interface Charge {
  key: string;
  windowMs: number;
}

export interface Verdict {
  decision: Decision;
  reason: string;
  /** JSON path of the deciding rule, e.g. `tools.invoke_agent_runtime.limits[0]`, or `default`. */
  rule: string;
  retryAfterMs?: number;
  /** JSON path of the `tools` entry that matched the tool, whatever decided (for unused-rule reports). */
  entry?: string;
  /** On a denial by `args`: the JSON pointer of the failing value in the arguments (`/SecretId`). */
  argsPointer?: string;
  /** Counters consumed (allow) or to consume once an approval is granted (approval). */
  charges: readonly Charge[];
}

/**
 * Sliding-window counters. `wait` and `record` are pure bookkeeping over (key, time): the
 * engine decides, the limiter only remembers the times of allowed calls.
 */
export interface Limiter {
  /** Milliseconds until one more call fits under `max` in any window of `windowMs`; 0 if it fits now. */
  wait(key: string, windowMs: number, max: number, now: number): number;
  /** Remember one allowed call on `key` at `now`; `windowMs` is how long it must be remembered. */
  record(key: string, now: number, windowMs: number): void;
  /** Run `fn` atomically against other users of the same counters (a db transaction for SQLite). */
  atomically<T>(fn: () => T): T;
}
