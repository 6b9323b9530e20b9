import type { Policy } from '../engine/compilePolicy.js';
import type { Decision } from '../engine/types.js';

/** A tool the simulator can call: a name and the JSON Schema its arguments follow (if known). */
export interface ToolSpec {
  name: string;
  inputSchema?: unknown;
}

/** One generated `tools/call`: when (ms since the stream started), in which session, by whom. */
export interface SimCall {
  at: number;
  session: string;
  grant: string;
  tool: string;
  args: unknown;
}

/** What one policy decided for one call. */
export interface SimDecision {
  decision: Decision;
  reason: string;
  rule: string;
  retryAfterMs?: number;
}

/** A policy under simulation: its compiled form and its parsed JSON (for arg schemas and patterns). */
export interface SimPolicy {
  /** How reports name it (the file path). */
  name: string;
  policy: Policy;
  doc: unknown;
}
