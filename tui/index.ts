export { DiffApp, type DiffAppProps } from './diff/DiffApp.js';
export { DiffModel, type DiffRow, type Side, type ViewFilter } from './diff/model.js';
export type { MatrixSummary } from './diff/Header.js';
export { ApprovalsApp, runApprovalsTui, type ApprovalsAppProps, type ApprovalsSource } from './approvals/index.js';
