export { openStore, Store } from './store.js';
export { defaultDbPath } from './dbPath.js';
export type { SessionInfo, SessionSummary, SessionRecord, MessageRecord, EventRecord, Direction } from './types.js';
export { SqliteLimiter } from './sqliteLimiter.js';
export type { DecisionRecord } from './decisionLog.js';
export type { Approval, ApprovalRequest, ApprovalStatus } from './approvalQueue.js';
