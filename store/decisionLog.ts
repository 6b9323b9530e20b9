import type Database from 'better-sqlite3';
import type { Decision } from '../engine/types.js';
import { StatementPool } from './statementPool.js';

/** One decision of the live gateway, stored beside the message it decided (the audit trail). */
export interface DecisionRecord {
  sessionId: string;
  /** `seq` of the recorded `tools/call` message (of the batch, for a batch member). */
  seq: number;
  /** The JSON-RPC id of the call, as JSON text (`1`, `"a"`): tells batch members apart. */
  rpcId?: string | null | undefined;
  tool: string;
  decision: Decision;
  reason: string;
  rule: string;
  retryAfterMs?: number | undefined;
  /** sha256 of the policy file in force. */
  policySha256: string;
  /** When the engine decided, ms since the epoch (the `now` given to `decide`). */
  at: number;
  /** False under `--shadow`: decided and recorded, not enforced. */
  enforced: boolean;
  /** The decision's number in its session (1, 2, …), when the gateway recorded it. */
  n?: number | undefined;
}

interface Row {
  session_id: string;
  seq: number;
  rpc_id: string | null;
  tool: string;
  decision: Decision;
  reason: string;
  rule: string;
  retry_after_ms: number | null;
  policy_sha256: string;
  at: number;
  enforced: number;
  n: number | null;
}

/**
 * The `decisions` table. A message may have several rows, in order: the engine's verdict, then
 * the outcome of an approval (`allow` or `deny` with who or what answered).
 */
export class DecisionLog {
  private insertStmt: Database.Statement | undefined;
  private readonly bySession;
  private readonly shapes;
  /** Statements streaming a session's decisions: one per reading at once, reused once it ended. */
  private readonly streams;

  constructor(private readonly db: Database.Database) {
    this.bySession = db.prepare(BY_SESSION_SQL);
    this.streams = new StatementPool(db, BY_SESSION_SQL);
    this.shapes = db.prepare(
      `SELECT DISTINCT chars, count, shadow FROM (
         SELECT sum(length(decision)) AS chars, count(*) AS count, min(enforced) = 0 AS shadow
         FROM decisions WHERE session_id = ? GROUP BY seq, rpc_id)`,
    );
  }

  /**
   * Prepared when first used: a read-only store reads `decisions` through a view (see
   * Store.showSpools), which an INSERT cannot be prepared against.
   */
  private get insert(): Database.Statement {
    // A row already there (same session and `n`: a copy from the spool) is left as it is.
    return (this.insertStmt ??= this.db.prepare(
      `INSERT INTO decisions (session_id, seq, rpc_id, tool, decision, reason, rule, retry_after_ms, policy_sha256, at, enforced, n)
       VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT DO NOTHING`,
    ));
  }

  record(d: DecisionRecord): void {
    this.insert.run(...decisionValues(d));
  }

  ofSession(sessionId: string): DecisionRecord[] {
    return (this.bySession.all(sessionId) as Row[]).map(toRecord);
  }

  /** A session's decisions in message order, streamed (a session of an enforced million calls). */
  *streamSession(sessionId: string): Generator<DecisionRecord> {
    for (const r of this.streams.iterate<Row>(sessionId)) yield toRecord(r);
  }

  /**
   * What the decision paths of a session's calls look like, each kind once: how many decisions
   * a call has, the length of their names together, and whether any was not enforced (shadow).
   */
  pathShapes(sessionId: string): { count: number; chars: number; shadow: boolean }[] {
    return (this.shapes.all(sessionId) as { count: number; chars: number; shadow: number }[]).map((r) => ({
      count: r.count,
      chars: r.chars,
      shadow: r.shadow === 1,
    }));
  }
}

const BY_SESSION_SQL = `SELECT * FROM decisions WHERE session_id = ? ORDER BY seq, id`;

function toRecord(r: Row): DecisionRecord {
  const d: DecisionRecord = {
    sessionId: r.session_id,
    seq: r.seq,
    rpcId: r.rpc_id,
    tool: r.tool,
    decision: r.decision,
    reason: r.reason,
    rule: r.rule,
    policySha256: r.policy_sha256,
    at: r.at,
    enforced: r.enforced === 1,
  };
  if (r.retry_after_ms !== null) d.retryAfterMs = r.retry_after_ms;
  if (r.n !== null) d.n = r.n;
  return d;
}

/** A decision's columns, in the `decisions` table's order from `session_id` to `n`. */
export function decisionValues(d: DecisionRecord): unknown[] {
  return [
    d.sessionId,
    d.seq,
    d.rpcId ?? null,
    d.tool,
    d.decision,
    d.reason,
    d.rule,
    d.retryAfterMs ?? null,
    d.policySha256,
    d.at,
    d.enforced ? 1 : 0,
    d.n ?? null,
  ];
}
