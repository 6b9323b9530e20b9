import type { Store } from '../../store/store.js';
import { visible, visibleName } from '../../engine/visible.js';

/** The answer to a `require_approval` call: approved (by whom), or not (why not). */
export type ApprovalOutcome = { approved: true; by: string } | { approved: false; why: string };

export interface ApprovalQuestion {
  tool: string;
  args: unknown;
  reason: string;
  rule: string;
  grant: string;
  sessionId: string | null;
  seq: number | null;
}

const seconds = (ms: number) => `${Math.round(ms / 100) / 10} s`;

/**
 * Asks the human through the client (`elicitation/create`, a form with no fields: accept or
 * decline). The gateway's own request ids carry a prefix no SDK uses; the client's answer is
 * routed back here by `answer` and never reaches the server.
 */
export class ElicitationAsker {
  private next = 0;
  private readonly waiting = new Map<string, (outcome: ApprovalOutcome) => void>();

  constructor(
    private readonly send: (message: unknown) => void,
    private readonly timeoutMs: number,
  ) {}

  static readonly ID_PREFIX = 'mcp-replay-approval-';

  ask(q: ApprovalQuestion): Promise<ApprovalOutcome> {
    const id = `${ElicitationAsker.ID_PREFIX}${++this.next}`;
    return new Promise((resolve) => {
      const timer = setTimeout(
        () => finish({ approved: false, why: `no answer within ${seconds(this.timeoutMs)}` }),
        this.timeoutMs,
      );
      const finish = (outcome: ApprovalOutcome) => {
        clearTimeout(timer);
        this.waiting.delete(id);
        resolve(outcome);
      };
      this.waiting.set(id, finish);
      this.send({
        jsonrpc: '2.0',
        id,
        method: 'elicitation/create',
        params: {
          mode: 'form',
          // Shown to the human who decides: nothing in it may hide or reorder what the call does.
          message: `Allow the tool call ${visibleName(q.tool)} ${visible(JSON.stringify(q.args) ?? '{}')}? (${visible(q.reason)}; ${q.rule})`,
          requestedSchema: { type: 'object', properties: {} },
        },
      });
    });
  }

  /** Whether `id` is one of ours (the message is then the client's answer, not for the server), late answers included. */
  owns(id: unknown): boolean {
    return typeof id === 'string' && id.startsWith(ElicitationAsker.ID_PREFIX);
  }

  /** The client answered request `id` with `message` (a result or an error). */
  answer(id: string, reply: unknown): void {
    const finish = this.waiting.get(id);
    if (!finish) return;
    const message = reply as { result?: { action?: unknown }; error?: { message?: unknown } };
    const action = message.result?.action;
    if (action === 'accept') finish({ approved: true, by: 'the user (elicitation)' });
    else if (message.error) finish({ approved: false, why: `elicitation failed: ${String(message.error.message)}` });
    else finish({ approved: false, why: `${action === 'cancel' ? 'cancelled' : 'declined'} by the user` });
  }

  /** Every open question is answered no (the session is over). */
  cancelAll(why: string): void {
    for (const finish of [...this.waiting.values()]) finish({ approved: false, why });
  }
}

/**
 * Queues the call in the db for `mcp-replay approvals` and polls for the answer; past the
 * timeout the request is expired (so a late approval cannot land) and the call denied.
 */
export class QueueAsker {
  private readonly timers = new Map<NodeJS.Timeout, () => void>();
  private closed = false;

  constructor(
    private readonly store: Store,
    private readonly timeoutMs: number,
    private readonly pollMs = 200,
  ) {}

  ask(q: ApprovalQuestion): Promise<ApprovalOutcome> {
    const requestedAt = Date.now();
    const { id } = this.store.enqueueApproval({ ...q, requestedAt, expiresAt: requestedAt + this.timeoutMs });
    process.stderr.write(`mcp-replay: ${q.tool} waits for approval #${id} (mcp-replay approvals)\n`);
    return new Promise((resolve) => {
      const poll = () => {
        let a;
        try {
          a = this.store.getApproval(id);
        } catch (err) {
          return resolve({ approved: false, why: `approval queue failed: ${(err as Error).message}` });
        }
        if (a?.status === 'approved') return resolve({ approved: true, by: a.decidedBy ?? 'approvals' });
        if (a?.status === 'rejected')
          return resolve({ approved: false, why: `rejected by ${a.decidedBy ?? 'approvals'}` });
        if (this.closed || a?.status === 'expired' || Date.now() >= requestedAt + this.timeoutMs) {
          try {
            this.store.expireApproval(id, Date.now(), this.closed ? 'session ended' : 'timeout');
          } catch {
            // expired anyway by its deadline
          }
          const late = this.store.getApproval(id);
          if (late?.status === 'approved') return resolve({ approved: true, by: late.decidedBy ?? 'approvals' });
          return resolve({
            approved: false,
            why: this.closed ? 'the session ended' : `no answer within ${seconds(this.timeoutMs)}`,
          });
        }
        const timer = setTimeout(() => {
          this.timers.delete(timer);
          poll();
        }, this.pollMs);
        this.timers.set(timer, poll);
      };
      poll();
    });
  }

  /** Every open question is answered no at once (the session is over). */
  cancelAll(): void {
    this.closed = true;
    const polls = [...this.timers];
    this.timers.clear();
    for (const [timer, poll] of polls) {
      clearTimeout(timer);
      poll();
    }
  }
}
