import type { ToolCall } from '../engine/types.js';
import { rpcMessages } from './rpcMessages.js';
import type { SessionSource } from './source.js';

/** A recorded `tools/call` with where and when it happened. */
export interface RecordedCall extends ToolCall {
  /** Session id (also the `session` scope key). */
  session: string;
  seq: number;
  /** µs since the session started. */
  t: number;
  /** Absolute time in ms since the epoch: `startedAt` + `t`. */
  at: number;
  /** The JSON-RPC id of the request. */
  id: unknown;
}

export interface CallOptions {
  /** Overrides every session's grant (`--grant`). */
  grant?: string | undefined;
}

/** Absolute time (ms) of a message `t` µs after `startedAt` — the one formula live and replay share. */
export function absoluteTime(startedAtMs: number, t: number): number {
  return startedAtMs + t / 1000;
}

/**
 * The `tools/call` requests a client sent in a session, in order. The grant is `--grant`, else
 * the session's recorded grant, else the `clientInfo.name` of its `initialize`.
 */
export function* callsOf(source: SessionSource, options: CallOptions = {}): Generator<RecordedCall> {
  const { info } = source;
  const started = Date.parse(info.startedAt);
  let grant = options.grant ?? info.grant ?? 'unknown';
  const grantFixed = options.grant !== undefined || info.grant !== undefined;
  for (const r of source.callMessages ? source.callMessages() : source.records()) {
    if (r.type !== 'message' || r.dir !== 'c2s') continue;
    // Cheap pre-filter: only parse what can be a call or an initialize ("tools\/call" is legal JSON too).
    if (!r.raw.includes('call') && (grantFixed || !r.raw.includes('initialize'))) continue;
    for (const m of rpcMessages(r.raw)) {
      const req = m as {
        method?: unknown;
        id?: unknown;
        params?: { name?: unknown; arguments?: unknown; clientInfo?: { name?: unknown } };
      };
      if (req?.method === 'initialize' && !grantFixed && typeof req.params?.clientInfo?.name === 'string') {
        grant = req.params.clientInfo.name;
      } else if (req?.method === 'tools/call' && isDecidable(req)) {
        yield {
          tool: req.params!.name as string,
          args: req.params!.arguments ?? {},
          session: info.id,
          grant,
          seq: r.seq,
          t: r.t,
          at: absoluteTime(started, r.t),
          id: req.id,
        };
      }
    }
  }
}

/**
 * The `tools/call` requests the gateway decides (proxy/enforce/clientMessages.ts): a request with
 * a string or number id, a string `params.name` and object (or absent) `arguments`. The gateway
 * rejects or drops the others before any policy applies, so replay does not decide them either.
 */
function isDecidable(req: { id?: unknown; params?: { name?: unknown; arguments?: unknown } }): boolean {
  const { id, params } = req;
  if (!(typeof id === 'string' || (typeof id === 'number' && Number.isFinite(id)))) return false;
  if (typeof params !== 'object' || params === null || typeof params.name !== 'string') return false;
  const args = params.arguments;
  return args === undefined || (typeof args === 'object' && args !== null && !Array.isArray(args));
}
