/**
 * The approvals TUI (`mcp-replay approvals`): the calls `enforce` queued for a human, approved
 * with `a` or rejected with `r`, re-read from the db every ~500 ms.
 */
export { ApprovalsApp, type ApprovalsAppProps, type ApprovalsSource } from './ApprovalsApp.js';
export { runApprovalsTui } from './run.js';
export { argsSummary, argumentsInFull, shortDuration } from './format.js';
