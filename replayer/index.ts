export { callsOf, absoluteTime, type RecordedCall, type CallOptions } from './calls.js';
export { timeline, timelineOrigin } from './timeline.js';
export { dryRun, ReplaySummary, type DecidedCall, type DryRunOptions, type Counts } from './dryRun.js';
export { jsonlSource, parseJsonlLine, sessionToJsonl, recordToJsonl } from './jsonl.js';
export { dbSource, resolveSources } from './dbSource.js';
export { readLines } from './lines.js';
export type { SessionSource } from './source.js';
export {
  diffRun,
  DiffSummary,
  changeLine,
  isChange,
  parseTransitions,
  transitionOf,
  TRANSITIONS,
  type DiffedCall,
  type DiffOptions,
  type Transition,
  type ToolDiff,
} from './diff.js';
export { exchangesOf, type Exchange } from './exchanges.js';
export { liveDecisions } from './liveDecisions.js';
export { rpcMessages } from './rpcMessages.js';
