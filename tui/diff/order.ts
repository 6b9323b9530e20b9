import type { Decision } from '../../engine/types.js';
import type { Transition } from '../../replayer/diff.js';

/** Decisions in display order (the TUI imports only types from the engine and the replayer). */
export const DECISION_ORDER: readonly Decision[] = ['allow', 'deny', 'throttle', 'approval'];

/** Every change of decision, in display order: by A's decision, then B's. */
export const TRANSITION_ORDER: readonly Transition[] = DECISION_ORDER.flatMap((a) =>
  DECISION_ORDER.filter((b) => b !== a).map((b): Transition => `${a}->${b}`),
);
