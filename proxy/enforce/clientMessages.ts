import type { RequestId } from '@modelcontextprotocol/sdk/types.js';
import { hasDuplicateKeys, keyCensus } from '../../engine/sourceLocation.js';
import { INVALID_PARAMS, INVALID_REQUEST } from './responses.js';

/** What the gateway does with one message from the client, before any policy applies. */
export type ClientMessageCheck =
  /** A well-formed `tools/call` request: decide it. */
  | { kind: 'call'; id: RequestId; tool: string; args: unknown }
  /** Answer this error, never forward (malformed or evasive `tools/call`). */
  | { kind: 'reject'; id: RequestId | null; code: number; message: string }
  /** Never forward and nothing to answer: a `tools/call` sent as a notification. */
  | { kind: 'drop'; reason: string }
  /** A JSON-RPC batch: check each member alone; forward only the allowed ones. */
  | { kind: 'batch'; members: unknown[] }
  /** Not a tool call: forward untouched. */
  | { kind: 'other' };

export const isRecord = (v: unknown): v is Record<string, unknown> =>
  typeof v === 'object' && v !== null && !Array.isArray(v);

/** A high surrogate without its low one, or a low one without its high one. */
const LONE_SURROGATE = /[\ud800-\udbff](?![\udc00-\udfff])|(?<![\ud800-\udbff])[\udc00-\udfff]/;

const isRequestId = (v: unknown): v is RequestId =>
  typeof v === 'string' || (typeof v === 'number' && Number.isFinite(v));

/** `Tools/Call`, ` tools/call`, full-width or look-alike letters and slashes: what a lenient server might still route as a call. */
function looksLikeToolsCall(method: string): boolean {
  return (
    method
      .normalize('NFKC')
      .replace(/[\s\u200b-\u200f\u2060\ufeff]/g, '')
      .replace(/[\u2044\u2215\u2571\u29f8]/g, '/')
      .toLowerCase() === 'tools/call'
  );
}

/**
 * Why a client line must be refused whole: the gateway would read it one way and a server may
 * read it another, so no decision about it could hold (what the gateway cannot read one way
 * only, it refuses). The line's text is without its terminator.
 * - A carriage return inside it: JSON reads it as a space, but many servers end a line there
 *   (Node's `readline`, Python's text streams, Java's `readLine`) and would read what follows as
 *   a message of its own.
 * - A key written twice (`"name":"echo","name":"delete_all"`): we read the last, a server's
 *   parser may read the first.
 * - Two keys of one object that differ only in case (`"name"`, `"Name"`): Go's `encoding/json`
 *   matches either to a field (and folds `ſ` to `s`, `K` to `k`).
 */
export function refusedWhole(text: string, parsed: unknown): string | undefined {
  if (text.includes('\r')) return 'a carriage return inside the line, where a server may end it';
  const census = keyCensus(parsed);
  if (hasDuplicateKeys(text, parsed, census.keys)) return 'a key written twice in one object';
  if (census.caseVariants) return 'two keys in one object that differ only in case';
  return undefined;
}

/**
 * Classifies a parsed client → server message (SPEC §3, issue 4's bypass attempts): a batch is
 * split; a `tools/call` without a string `params.name`, with non-object `arguments`, without a
 * usable id, or under a variant spelling of the method is rejected rather than forwarded.
 */
export function inspectClientMessage(msg: unknown): ClientMessageCheck {
  if (Array.isArray(msg)) {
    return msg.length === 0
      ? { kind: 'reject', id: null, code: INVALID_REQUEST, message: 'empty JSON-RPC batch' }
      : { kind: 'batch', members: msg };
  }
  if (!isRecord(msg)) {
    return { kind: 'reject', id: null, code: INVALID_REQUEST, message: 'a JSON-RPC message must be an object' };
  }
  const { method } = msg;
  if (typeof method !== 'string') return { kind: 'other' };
  const hasId = 'id' in msg && msg.id !== undefined;
  const id = isRequestId(msg.id) ? msg.id : null;
  if (hasId && id === null) {
    // MCP: a request's id is a string or a number, never null. Its answer could not be matched.
    return { kind: 'reject', id: null, code: INVALID_REQUEST, message: 'a request id must be a string or a number' };
  }
  if (typeof id === 'string' && LONE_SURROGATE.test(id)) {
    // `"\ud800"`: Go's encoding/json reads a lone surrogate as U+FFFD and answers under that id,
    // which is not the one the gateway waits for (a tools/list answer would pass unfiltered).
    return {
      kind: 'reject',
      id: null,
      code: INVALID_REQUEST,
      message: 'a request id must not hold a lone surrogate (a server may read it as another id)',
    };
  }
  if (method !== 'tools/call') {
    if (!looksLikeToolsCall(method)) return { kind: 'other' };
    const message = `method ${JSON.stringify(method)} is not "tools/call"; refused by mcp-replay`;
    return hasId ? { kind: 'reject', id, code: INVALID_REQUEST, message } : { kind: 'drop', reason: message };
  }
  // (An id that is there but unusable was refused above: no id at all is left.)
  if (id === null) return { kind: 'drop', reason: 'tools/call sent as a notification (no id)' };
  const params = msg.params;
  if (!isRecord(params) || typeof params.name !== 'string') {
    return { kind: 'reject', id, code: INVALID_PARAMS, message: 'tools/call without a string params.name' };
  }
  if (params.arguments !== undefined && !isRecord(params.arguments)) {
    return { kind: 'reject', id, code: INVALID_PARAMS, message: 'tools/call params.arguments must be an object' };
  }
  // Same default as the replayer, so live and dry-run decide the same arguments.
  return { kind: 'call', id, tool: params.name, args: params.arguments ?? {} };
}

/**
 * Whether a client message is the session's `initialize` request, the one that names the client
 * (its grant) and its capabilities: the first `initialize` with a usable id. A notification or a second
 * request with that method must not switch a session to another grant's budget.
 */
export function isFirstInitialize(msg: Record<string, unknown>, initialized: boolean): boolean {
  // An id that is not a string or a number gets the request rejected: it names nobody.
  return !initialized && msg.method === 'initialize' && isRequestId(msg.id);
}

/**
 * Request ids in flight from the client to the server. A second request reusing an id still in
 * flight is a bypass attempt (answers could be matched to the wrong call): reject it. Ids compare
 * by their text, so `1` and `"1"` collide too (a lenient server might merge them).
 *
 * The text of the parsed id: `9007199254740993` and `9007199254740992` (beyond 2^53, one double)
 * collide too, on purpose. A server that reads ids as doubles (any JavaScript one) answers both
 * with one id, and the gateway matches the server's answers by the parsed id (the `tools/list`
 * it must filter, the batch its answers join): two such requests in flight at once would let
 * one answer pass for the other's (an unfiltered tool list). Only the answers the gateway writes
 * carry the id's exact token (Frame.exactId).
 */
export class InFlightRequests {
  private readonly ids = new Set<string>();

  /** Claims `id`; false if it is already in flight. */
  claim(id: RequestId): boolean {
    const key = String(id);
    if (this.ids.has(key)) return false;
    this.ids.add(key);
    return true;
  }

  /** Releases `id` once it is answered (by the server or by the gateway). */
  release(id: RequestId): void {
    this.ids.delete(String(id));
  }

  get size(): number {
    return this.ids.size;
  }
}
