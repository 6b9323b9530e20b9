/**
 * The recordings db (better-sqlite3, WAL): the only place that knows SQL.
 * - `openStore(file)` → `Store`: sessions, messages and events (recording, import/export);
 *   `recordDecision` / `sessionDecisions` (the audit of live decisions);
 *   `enqueueApproval` / `getApproval` / `pendingApprovals` / `resolveApproval` / `expireApproval` /
 *   `expireDueApprovals` (the queue between `enforce` and `mcp-replay approvals`).
 * - `SqliteLimiter`: the engine's `Limiter` over the db, for the live gateway: budgets survive
 *   restarts and are shared exactly by every process on the db file.
 */
export { openStore, Store } from './store.js';
export { defaultDbPath } from './dbPath.js';
export type { SessionInfo, SessionSummary, SessionRecord, MessageRecord, EventRecord, Direction } from './types.js';
export { SqliteLimiter } from './sqliteLimiter.js';
export type { DecisionRecord } from './decisionLog.js';
export type { Approval, ApprovalRequest, ApprovalStatus } from './approvalQueue.js';
