import type { DecisionRecord } from '../store/decisionLog.js';
import type { Store } from '../store/store.js';

/** A live decision: the engine's verdict, and for an approval what came of it. */
export type LiveDecision = DecisionRecord & {
  /** The call's last decision when it is not the first (an approval's outcome: allow, deny, throttle). */
  outcome?: string;
};

/**
 * What `enforce` decided live for a recorded call, to show beside the dry-run's decision: the
 * first stored decision of the call (the engine's verdict, what a dry-run decides too), with
 * the last as its `outcome` when there are more (an approval's: allowed, denied, throttled).
 * Sessions are read lazily, once each; without a db (JSONL files only) nothing is found.
 */
export function liveDecisions(
  store: () => Store | undefined,
): (session: string, seq: number, id: unknown) => LiveDecision | undefined {
  const bySession = new Map<string, Map<string, LiveDecision>>();
  return (session, seq, id) => {
    let calls = bySession.get(session);
    if (!calls) {
      calls = new Map();
      const db = store();
      if (db && db.getSession(session)) {
        for (const d of db.sessionDecisions(session)) {
          const key = `${d.seq} ${d.rpcId ?? ''}`;
          const first = calls.get(key);
          if (!first) calls.set(key, { ...d });
          else first.outcome = d.decision;
        }
      }
      bySession.set(session, calls);
    }
    return calls.get(`${seq} ${id === undefined ? '' : JSON.stringify(id)}`);
  };
}
