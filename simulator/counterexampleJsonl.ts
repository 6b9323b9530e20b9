import { recordToJsonl, sessionToJsonl } from '../replayer/jsonl.js';
import type { SessionRecord } from '../store/types.js';
import type { Counterexample } from './simulate.js';

/** Every counterexample session starts at this instant: times in the file are the stream's own. */
export const COUNTEREXAMPLE_START = '2026-01-01T00:00:00.000Z';

export interface CounterexampleSession {
  /** `s1`, `s2`…: the stream's session name. */
  session: string;
  lines: string[];
}

/**
 * A counterexample as SPEC §4 JSONL sessions, one per stream session in name order (the order
 * to pass them to `replay`/`diff`, which merge them by time, ties to the file given first — the
 * order the simulator decided them in). Each: a session line, `initialize` with
 * `clientInfo.name` = the grant, its result, `notifications/initialized`, then the
 * `tools/call` requests at their times (`t` µs since the common start).
 */
export function counterexampleSessions(cx: Counterexample): CounterexampleSession[] {
  const names = [...new Set(cx.calls.map((c) => c.session))].sort();
  const slug = cx.property.replace(/[^A-Za-z0-9]+/g, '-').replace(/-$/, '');
  return names.map((session) => {
    const calls = cx.calls.filter((c) => c.session === session);
    const grant = calls[0]!.grant;
    const records: SessionRecord[] = [];
    let seq = 0;
    const msg = (t: number, dir: 'c2s' | 's2c', body: unknown) =>
      records.push({
        type: 'message',
        seq: seq++,
        t,
        dir,
        raw: JSON.stringify({ jsonrpc: '2.0', ...(body as object) }),
      });
    msg(0, 'c2s', {
      id: 0,
      method: 'initialize',
      params: { protocolVersion: '2025-06-18', capabilities: {}, clientInfo: { name: grant, version: 'simulated' } },
    });
    msg(0, 's2c', {
      id: 0,
      result: {
        protocolVersion: '2025-06-18',
        capabilities: { tools: {} },
        serverInfo: { name: 'simulated', version: '0' },
      },
    });
    msg(0, 'c2s', { method: 'notifications/initialized' });
    calls.forEach((c, i) =>
      msg(Math.round(c.at * 1000), 'c2s', {
        id: i + 1,
        method: 'tools/call',
        params: { name: c.tool, arguments: c.args },
      }),
    );
    const info = {
      id: `sim-${cx.seed}-${slug}-${session}`,
      name: `simulate counterexample for ${cx.property} (seed ${cx.seed}, path ${cx.path}), session ${session}`,
      startedAt: COUNTEREXAMPLE_START,
      transport: 'simulated',
    };
    return { session, lines: [sessionToJsonl(info), ...records.map(recordToJsonl)] };
  });
}
