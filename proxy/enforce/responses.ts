import type {
  CallToolResult,
  JSONRPCErrorResponse,
  JSONRPCResultResponse,
  RequestId,
} from '@modelcontextprotocol/sdk/types.js';
import type { Verdict } from '../../engine/types.js';
import type { RawJson } from '../exactId.js';

/**
 * The id an answer of the gateway carries: the request's parsed id, or, when that would not
 * write back as the client wrote it, its token (`Frame.exactId`).
 */
export type AnswerId = RequestId | RawJson;
/** A JSON-RPC response whose id is an `AnswerId`. */
export type Answer<T extends { id?: RequestId }> = Omit<T, 'id'> & { id: AnswerId };

/** The `_meta` key of a denied call's result (SPEC §3). */
export const DECISION_META = 'mcp-replay/decision';
/** JSON-RPC error codes of `--deny-as error` (SPEC §3). */
export const DENY_CODE = -32001;
export const THROTTLE_CODE = -32029;
/** JSON-RPC 2.0's own codes, for messages the gateway rejects before any policy applies. */
export const PARSE_ERROR = -32700;
export const INVALID_REQUEST = -32600;
export const INVALID_PARAMS = -32602;

/** How a denied or throttled call is answered: a `CallToolResult` with `isError`, or a JSON-RPC error. */
export type DenyAs = 'result' | 'error';

/** A verdict that ends a call at the gateway: the server never sees it. */
export type Denial = Verdict & { decision: 'deny' | 'throttle' };

export function isDenial(v: Verdict): v is Denial {
  return v.decision === 'deny' || v.decision === 'throttle';
}

/** `Denied by policy: <reason>` or `Rate limited: <reason>; retry after <n> ms`. */
export function denialText(v: Denial): string {
  if (v.decision === 'deny') return `Denied by policy: ${v.reason}`;
  // A limit of max 0 never frees up: no retry hint then.
  return v.retryAfterMs === undefined
    ? `Rate limited: ${v.reason}`
    : `Rate limited: ${v.reason}; retry after ${v.retryAfterMs} ms`;
}

/** `{decision, reason, rule}` (and `retryAfterMs` when throttled), for `_meta` and error `data`. */
export function decisionMeta(v: Verdict): { decision: string; reason: string; rule: string; retryAfterMs?: number } {
  const meta: { decision: string; reason: string; rule: string; retryAfterMs?: number } = {
    decision: v.decision,
    reason: v.reason,
    rule: v.rule,
  };
  if (v.retryAfterMs !== undefined) meta.retryAfterMs = v.retryAfterMs;
  return meta;
}

/** The `CallToolResult` a denied or throttled call gets by default (SPEC §3). */
export function denialResult(v: Denial): CallToolResult {
  return {
    content: [{ type: 'text', text: denialText(v) }],
    isError: true,
    _meta: { [DECISION_META]: decisionMeta(v) },
  };
}

/** The JSON-RPC error of `--deny-as error`: -32001 deny, -32029 throttle with `data.retryAfterMs`. */
export function denialError(id: AnswerId, v: Denial): Answer<JSONRPCErrorResponse> {
  return {
    jsonrpc: '2.0',
    id,
    error: { code: v.decision === 'deny' ? DENY_CODE : THROTTLE_CODE, message: denialText(v), data: decisionMeta(v) },
  };
}

/** The whole response message to a denied or throttled `tools/call` with id `id`. */
export function denialResponse(
  id: AnswerId,
  v: Denial,
  denyAs: DenyAs = 'result',
): Answer<JSONRPCResultResponse> | Answer<JSONRPCErrorResponse> {
  return denyAs === 'error' ? denialError(id, v) : { jsonrpc: '2.0', id, result: denialResult(v) };
}

/**
 * The verdict of a `require_approval` call nobody approved: `why` is e.g. `rejected by bob`,
 * `declined by the user`, `no answer within 60 s`.
 */
export function approvalDenied(v: Verdict, why: string): Denial {
  return { decision: 'deny', reason: `${v.reason}: ${why}`, rule: v.rule, charges: [] };
}

/** Fail closed: the verdict when the engine or the db threw while deciding (replay's too). */
export { failClosed } from '../../engine/decide.js';

/** A JSON-RPC error for a message rejected before any policy applies (malformed, a bypass attempt). */
export function rejection(id: AnswerId | null, code: number, message: string): Answer<JSONRPCErrorResponse> {
  // The SDK's type wants an id; JSON-RPC answers null when the request's id could not be read.
  return { jsonrpc: '2.0', id: id as AnswerId, error: { code, message } };
}
