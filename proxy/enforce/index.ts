/**
 * The enforcing gateway's pure pieces (issue 4), used by the enforcer tap:
 * - responses.ts: what a denied or throttled `tools/call` is answered (SPEC §3): a
 *   `CallToolResult` with `isError` and `_meta["mcp-replay/decision"]`, or with `--deny-as error`
 *   a JSON-RPC error (-32001 deny, -32029 throttle); the gateway's own verdicts (approval not
 *   given, fail closed) and JSON-RPC rejections.
 * - toolsList.ts: `tools/list` results without the tools the policy denies outright.
 * - clientMessages.ts: which client messages may reach the server: a well-formed `tools/call` is
 *   decided; evasive or malformed ones are rejected or dropped; batches are split; duplicate
 *   request ids in flight are refused.
 * - policyWatcher.ts: the policy file, reloaded when it changes; the last valid version stays.
 */
export {
  DECISION_META,
  DENY_CODE,
  THROTTLE_CODE,
  INVALID_REQUEST,
  PARSE_ERROR,
  INVALID_PARAMS,
  isDenial,
  denialText,
  decisionMeta,
  denialResult,
  denialError,
  denialResponse,
  approvalDenied,
  failClosed,
  rejection,
  type DenyAs,
  type Denial,
} from './responses.js';
export { deniedOutright, filterToolsList } from './toolsList.js';
export {
  inspectClientMessage,
  InFlightRequests,
  isFirstInitialize,
  refusedWhole,
  type ClientMessageCheck,
} from './clientMessages.js';
export { PolicyWatcher, type PolicyWatcherOptions, type CheckResult } from './policyWatcher.js';
