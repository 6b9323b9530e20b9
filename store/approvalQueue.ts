import { randomUUID } from 'node:crypto';
import type Database from 'better-sqlite3';
import { HOST, alive } from './spool.js';

export type ApprovalStatus = 'pending' | 'approved' | 'rejected' | 'expired';

/** A `require_approval` call waiting for a human (queued by `enforce`, answered in `approvals`). */
export interface ApprovalRequest {
  sessionId?: string | null | undefined;
  /** `seq` of the recorded `tools/call` message, when recorded. */
  seq?: number | null | undefined;
  grant: string;
  tool: string;
  args: unknown;
  reason: string;
  rule: string;
  /** ms since the epoch. */
  requestedAt: number;
  /** When the gateway stops waiting (ms since the epoch); after it the request cannot be approved. */
  expiresAt?: number | null | undefined;
}

export interface Approval extends ApprovalRequest {
  id: number;
  /** Random, per request: which request an id names (ids can be handed out again after a rollback). */
  token?: string | undefined;
  status: ApprovalStatus;
  decidedAt?: number | undefined;
  decidedBy?: string | undefined;
}

interface Row {
  id: number;
  session_id: string | null;
  seq: number | null;
  grant_id: string;
  tool: string;
  args: string;
  reason: string;
  rule: string;
  requested_at: number;
  expires_at: number | null;
  status: ApprovalStatus;
  decided_at: number | null;
  decided_by: string | null;
  token: string | null;
}

/** The `approvals` table: every state change is one conditional UPDATE, so it is atomic across processes. */
export class ApprovalQueue {
  private readonly stmts;

  /** `readOnly`: a db that cannot be written (see openReadOnly): the list leaves orphans out without expiring them. */
  constructor(
    db: Database.Database,
    private readonly readOnly = false,
  ) {
    this.stmts = {
      insert: db.prepare(
        `INSERT INTO approvals (session_id, seq, grant_id, tool, args, reason, rule, requested_at, expires_at, gateway_pid, gateway_host, token)
         VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?) RETURNING *`,
      ),
      mine: db.prepare(`SELECT id, gateway_pid FROM approvals WHERE status = 'pending' AND gateway_host = ?`),
      get: db.prepare(`SELECT * FROM approvals WHERE id = ?`),
      pending: db.prepare(
        `SELECT * FROM approvals WHERE status = 'pending' AND (expires_at IS NULL OR expires_at > ?)
         ORDER BY requested_at, id`,
      ),
      resolve: db.prepare(
        `UPDATE approvals SET status = ?, decided_at = ?, decided_by = ?
         WHERE id = ? AND status = 'pending' AND (expires_at IS NULL OR expires_at > ?)`,
      ),
      expireOne: db.prepare(
        `UPDATE approvals SET status = 'expired', decided_at = ?, decided_by = ? WHERE id = ? AND status = 'pending'`,
      ),
      expireMine: db.prepare(
        `UPDATE approvals SET status = 'expired', decided_at = ?, decided_by = ?
         WHERE id = ? AND token = ? AND status = 'pending'`,
      ),
      expireDue: db.prepare(
        `UPDATE approvals SET status = 'expired', decided_at = @now, decided_by = 'timeout'
         WHERE status = 'pending' AND expires_at IS NOT NULL AND expires_at <= @now`,
      ),
    };
  }

  enqueue(req: ApprovalRequest): Approval {
    const row = this.stmts.insert.get(
      req.sessionId ?? null,
      req.seq ?? null,
      req.grant,
      req.tool,
      JSON.stringify(req.args ?? null),
      req.reason,
      req.rule,
      req.requestedAt,
      req.expiresAt ?? null,
      process.pid,
      HOST,
      randomUUID(),
    ) as Row;
    return toApproval(row);
  }

  /**
   * Expires the pending requests of gateways of this host that are gone (killed: nobody waits
   * for the answer, an approval would be given for nothing). Another host's cannot be checked.
   */
  private expireOrphans(now: number): Set<number> {
    const orphans = new Set<number>();
    for (const r of this.stmts.mine.all(HOST) as { id: number; gateway_pid: number | null }[])
      if (r.gateway_pid !== null && !alive(r.gateway_pid)) {
        if (this.readOnly) orphans.add(r.id);
        else this.expire(r.id, now, 'gateway gone');
      }
    return orphans;
  }

  get(id: number): Approval | undefined {
    const row = this.stmts.get.get(id) as Row | undefined;
    return row && toApproval(row);
  }

  /** Pending requests still within their deadline at `now`, oldest first. */
  pending(now: number): Approval[] {
    const orphans = this.expireOrphans(now);
    return (this.stmts.pending.all(now) as Row[]).filter((r) => !orphans.has(r.id)).map(toApproval);
  }

  /** Approves or rejects a pending request; false when it is no longer pending (or past its deadline, or its gateway is gone). */
  resolve(id: number, status: 'approved' | 'rejected', by: string, at: number): boolean {
    this.expireOrphans(at);
    return this.stmts.resolve.run(status, at, by, id, at).changes === 1;
  }

  /** Marks one pending request expired (the gateway stopped waiting); false when already answered. */
  expire(id: number, at: number, by = 'timeout', token?: string): boolean {
    // With its token: only that request (its id may name another one after a rollback).
    const r = token === undefined ? this.stmts.expireOne.run(at, by, id) : this.stmts.expireMine.run(at, by, id, token);
    return r.changes === 1;
  }

  /** Marks every pending request past its deadline expired; returns how many. */
  expireDue(now: number): number {
    return this.stmts.expireDue.run({ now }).changes;
  }
}

function toApproval(r: Row): Approval {
  const a: Approval = {
    id: r.id,
    sessionId: r.session_id,
    seq: r.seq,
    grant: r.grant_id,
    tool: r.tool,
    args: JSON.parse(r.args) as unknown,
    reason: r.reason,
    rule: r.rule,
    requestedAt: r.requested_at,
    expiresAt: r.expires_at,
    status: r.status,
  };
  if (r.decided_at !== null) a.decidedAt = r.decided_at;
  if (r.decided_by !== null) a.decidedBy = r.decided_by;
  if (r.token !== null) a.token = r.token;
  return a;
}
