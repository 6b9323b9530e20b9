import type { Direction, SessionRecord } from '../store/types.js';
import { rpcMessages } from './rpcMessages.js';

/** A request and what became of it: the response, its latency and outcome. */
export interface Exchange {
  seq: number;
  /** µs since the session started. */
  t: number;
  /** Who sent the request: `c2s` (the client's calls) or `s2c` (the server asking the client). */
  dir: Direction;
  method: string;
  id: unknown;
  /** For `tools/call`: the tool and its arguments. */
  tool?: string;
  args?: unknown;
  /** µs from request to response; absent when no response was recorded. */
  latencyUs?: number;
  /**
   * `ok`, `tool error` (a result with `isError`), `error` (a JSON-RPC error), `cancelled` (its
   * sender's `notifications/cancelled` came first: it awaits no answer any more), or `no response`.
   */
  outcome: 'ok' | 'tool error' | 'error' | 'cancelled' | 'no response';
  /** The error's message (and code), the tool error's first text, or the reason for cancelling. */
  detail?: string;
}

interface Msg {
  id?: unknown;
  method?: unknown;
  params?: { name?: unknown; arguments?: unknown; requestId?: unknown; reason?: unknown };
  result?: { isError?: unknown; content?: { type?: unknown; text?: unknown }[] };
  error?: { code?: unknown; message?: unknown };
}

/**
 * Pairs each request of a session with its response, in request order. Streams: an exchange is
 * yielded once it and every earlier one are answered (unanswered ones at the end of the session).
 */
export function* exchangesOf(
  records: Iterable<SessionRecord>,
  keep: (method: string) => boolean = () => true,
): Generator<Exchange> {
  // Waiting exchanges are queue[head..]: shift() copies a large array (one answered late, with
  // 100,000 after it, made every later yield a copy of all of them).
  let queue: Exchange[] = [];
  let head = 0;
  const open = new Map<string, Exchange>();
  for (const r of records) {
    if (r.type !== 'message') continue;
    for (const m of rpcMessages(r.raw) as Msg[]) {
      if (m.id === undefined || m.id === null) {
        // The requester gave up on a request: it is over (an answer racing the notice is ignored,
        // as its client ignores it), and the exchanges after it need not wait for it.
        if (m.method === 'notifications/cancelled') cancel(open, r.dir, m);
        continue;
      }
      if (typeof m.method === 'string') {
        if (!keep(m.method)) continue;
        const x: Exchange = { seq: r.seq, t: r.t, dir: r.dir, method: m.method, id: m.id, outcome: 'no response' };
        if (m.method === 'tools/call') {
          x.tool = typeof m.params?.name === 'string' ? m.params.name : '';
          x.args = m.params?.arguments ?? {};
        }
        queue.push(x);
        open.set(key(r.dir, m.id), x);
      } else if (m.method === undefined) {
        const requester: Direction = r.dir === 'c2s' ? 's2c' : 'c2s';
        const x = open.get(key(requester, m.id));
        if (!x) continue;
        open.delete(key(requester, m.id));
        x.latencyUs = r.t - x.t;
        settle(x, m);
      }
    }
    while (head < queue.length && queue[head]!.outcome !== 'no response') yield queue[head++]!;
    if (head === queue.length) [queue, head] = [[], 0];
    else if (head >= 1024 && head * 2 >= queue.length) [queue, head] = [queue.slice(head), 0];
  }
  yield* queue.slice(head);
}

function cancel(open: Map<string, Exchange>, requester: Direction, m: Msg): void {
  const id = m.params?.requestId;
  if (typeof id !== 'string' && typeof id !== 'number') return;
  const x = open.get(key(requester, id));
  if (!x) return;
  open.delete(key(requester, id));
  x.outcome = 'cancelled';
  if (typeof m.params?.reason === 'string') x.detail = m.params.reason;
}

function settle(x: Exchange, m: Msg): void {
  if (m.error !== undefined) {
    x.outcome = 'error';
    x.detail = `${typeof m.error?.code === 'number' ? `${m.error.code} ` : ''}${String(m.error?.message ?? '')}`;
  } else if (m.result?.isError === true) {
    x.outcome = 'tool error';
    const text = Array.isArray(m.result.content) ? m.result.content.find((c) => c?.type === 'text')?.text : undefined;
    if (typeof text === 'string') x.detail = text;
  } else x.outcome = 'ok';
}

function key(dir: Direction, id: unknown): string {
  return `${dir}:${typeof id === 'string' ? 's' : 'n'}${String(id)}`;
}
