import type { DecisionRecord } from '../store/decisionLog.js';
import type { Store } from '../store/store.js';

/** A live decision: the engine's verdict, and for an approval what came of it. */
export type LiveDecision = DecisionRecord & {
  /** The call's last decision when it is not the first (an approval's outcome: allow, deny, throttle). */
  outcome?: string;
};

/**
 * The stored decisions of one session's calls, asked for in message order (`seq` never going
 * back) while the session's decisions, in that order, are read alongside: one message's at a
 * time in memory, however many the session has.
 */
export class DecisionsInOrder {
  private readonly it: Iterator<DecisionRecord>;
  private next: IteratorResult<DecisionRecord>;
  private seq = -Infinity;
  private group = new Map<string, DecisionRecord[]>();

  constructor(decisions: Iterable<DecisionRecord>) {
    this.it = decisions[Symbol.iterator]();
    this.next = this.it.next();
  }

  /** The decisions of the call with this JSON-RPC id in the message `seq`, in the order stored. */
  of(seq: number, id: unknown): DecisionRecord[] | undefined {
    if (seq !== this.seq) {
      this.seq = seq;
      this.group = new Map();
      while (!this.next.done && this.next.value.seq < seq) this.next = this.it.next();
      while (!this.next.done && this.next.value.seq === seq) {
        const d = this.next.value;
        const key = d.rpcId ?? '';
        const list = this.group.get(key);
        if (list) list.push(d);
        else this.group.set(key, [d]);
        this.next = this.it.next();
      }
    }
    return this.group.get(id === undefined ? '' : JSON.stringify(id));
  }

  /** Stops reading (the db cannot close while a statement still iterates). */
  close(): void {
    this.it.return?.();
  }
}

/**
 * What `enforce` decided live for a recorded call, to show beside the dry-run's decision: the
 * first stored decision of the call (the engine's verdict, what a dry-run decides too), with
 * the last as its `outcome` when there are more (an approval's: allowed, denied, throttled).
 * Each session's decisions are read as its calls come (in message order, as a timeline gives
 * them); without a db (JSONL files only) nothing is found. `close()` when done.
 */
export function liveDecisions(store: () => Store | undefined): {
  of: (session: string, seq: number, id: unknown) => LiveDecision | undefined;
  close: () => void;
} {
  const bySession = new Map<string, DecisionsInOrder | null>();
  return {
    of: (session, seq, id) => {
      let calls = bySession.get(session);
      if (calls === undefined) {
        const db = store();
        calls = db && db.getSession(session) ? new DecisionsInOrder(db.streamDecisions(session)) : null;
        bySession.set(session, calls);
      }
      const list = calls?.of(seq, id);
      if (!list) return undefined;
      const live: LiveDecision = { ...list[0]! };
      if (list.length > 1) live.outcome = list.at(-1)!.decision;
      return live;
    },
    close: () => {
      for (const calls of bySession.values()) calls?.close();
    },
  };
}
