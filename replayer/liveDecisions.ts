import type { DecisionRecord } from '../store/decisionLog.js';
import type { Store } from '../store/store.js';

/**
 * What `enforce` decided live for a recorded call, to show beside the dry-run's decision: the
 * first stored decision of the call (the engine's verdict; later rows are approval outcomes).
 * Sessions are read lazily, once each; without a db (JSONL files only) nothing is found.
 */
export function liveDecisions(
  store: () => Store | undefined,
): (session: string, seq: number, id: unknown) => DecisionRecord | undefined {
  const bySession = new Map<string, Map<string, DecisionRecord>>();
  return (session, seq, id) => {
    let calls = bySession.get(session);
    if (!calls) {
      calls = new Map();
      const db = store();
      if (db && db.getSession(session)) {
        for (const d of db.sessionDecisions(session)) {
          const key = `${d.seq} ${d.rpcId ?? ''}`;
          if (!calls.has(key)) calls.set(key, d);
        }
      }
      bySession.set(session, calls);
    }
    return calls.get(`${seq} ${id === undefined ? '' : JSON.stringify(id)}`);
  };
}
