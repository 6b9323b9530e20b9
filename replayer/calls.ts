import type { ToolCall } from '../engine/types.js';
import { inspectClientMessage, isFirstInitialize, isRecord, refusedWhole } from '../proxy/enforce/clientMessages.js';
import { COMPLEX, INVALID, scanEnvelope } from '../proxy/envelope.js';
import type { SessionRecord } from '../store/types.js';
import { RememberedIds, StreamedIds, type RequestIds } from './requestIds.js';
import type { ReplayMessage, SessionSource } from './source.js';

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
 * The `tools/call` requests a client sent in a session that the gateway decides, in order. The
 * grant is `--grant`, else the session's recorded grant, else the `clientInfo.name` of its
 * `initialize`.
 *
 * What the gateway rejects or drops before any policy applies (proxy/enforce), replay does not
 * decide either, by the gateway's own checks: a line that is not JSON, one it refuses whole
 * (`refusedWhole`: a key written twice, a carriage return inside it...), a malformed or disguised
 * `tools/call` (`inspectClientMessage`), and a request that reuses the id of one still in
 * flight. Only the session's first `initialize` request names its grant. Ids are in flight from the client's request until an answer with that id reaches
 * the client; the gateway's own refusal of a reused id answers with that id too, and is known by
 * the order of the recording (it follows the request it refuses). Replay of a session recorded
 * without a gateway models what a gateway would have done with it.
 */
export function* callsOf(source: SessionSource, options: CallOptions = {}): Generator<RecordedCall> {
  const { info } = source;
  const started = Date.parse(info.startedAt);
  let grant = options.grant ?? info.grant ?? 'unknown';
  const grantFixed = options.grant !== undefined || info.grant !== undefined;
  let initialized = false;
  const fast = source.replayMessages !== undefined && source.answersBetween !== undefined;
  const ids: RequestIds = fast ? new RememberedIds(source.answersBetween!.bind(source)) : new StreamedIds();
  const messages = fast ? source.replayMessages!() : replayMessagesOf(source.records());
  for (const r of messages) {
    if (r.dir === 's2c') {
      ids.answered(r);
      continue;
    }
    if (r.raw === null) continue;
    let parsed: unknown;
    try {
      parsed = JSON.parse(r.raw);
    } catch {
      continue; // not JSON: the gateway forwards none of it
    }
    // The refusals of this line's requests follow it: counted once the line is read.
    let owed: unknown[] | undefined;
    if (refusedWhole(r.raw, parsed) !== undefined) {
      // Refused whole: each request in it is answered with its id, none is forwarded.
      for (const m of Array.isArray(parsed) ? parsed : [parsed]) {
        if (isRecord(m) && typeof m.method === 'string' && m.id !== undefined && m.id !== null) ids.owe(m.id, r.seq);
      }
      continue;
    }
    for (const m of Array.isArray(parsed) ? parsed : [parsed]) {
      if (Array.isArray(m)) continue; // a nested batch: refused, with a null id
      if (isRecord(m) && isFirstInitialize(m, initialized)) {
        initialized = true;
        const p = isRecord(m.params) ? m.params : {};
        const name = isRecord(p.clientInfo) ? p.clientInfo.name : undefined;
        if (typeof name === 'string' && !grantFixed) grant = name;
      }
      const check = inspectClientMessage(m);
      if (check.kind === 'reject') {
        if (check.id !== null) (owed ??= []).push(check.id);
      } else if (check.kind === 'other') {
        const req = m as { method?: unknown; id?: unknown };
        if (typeof req.method === 'string' && req.id !== undefined && req.id !== null && !ids.claim(req.id, r.seq))
          (owed ??= []).push(req.id);
      } else if (check.kind === 'call') {
        if (!ids.claim(check.id, r.seq)) {
          (owed ??= []).push(check.id);
          continue;
        }
        yield {
          tool: check.tool,
          args: check.args,
          session: info.id,
          grant,
          seq: r.seq,
          t: r.t,
          at: absoluteTime(started, r.t),
          id: check.id,
        };
      }
    }
    if (owed) for (const id of owed) ids.owe(id, r.seq);
  }
}

/** A source's records as replay reads them: the facts of each message from its text. */
function* replayMessagesOf(records: Iterable<SessionRecord>): Generator<ReplayMessage> {
  for (const r of records) {
    if (r.type !== 'message') continue;
    if (r.dir === 'c2s' || r.raw.trimStart().startsWith('[')) {
      yield { seq: r.seq, t: r.t, dir: r.dir, method: null, rpcId: null, raw: r.raw };
      continue;
    }
    // The server's messages are read for their envelope only (a big result builds no objects).
    const e = scanEnvelope(r.raw);
    if (e === INVALID) continue;
    if (e === COMPLEX) {
      yield { seq: r.seq, t: r.t, dir: r.dir, method: null, rpcId: null, raw: r.raw };
      continue;
    }
    // A method that is not a string still makes it no answer.
    yield { seq: r.seq, t: r.t, dir: r.dir, method: e.hasMethod ? (e.method ?? '') : null, rpcId: e.idText, raw: null };
  }
}
