import { randomUUID } from 'node:crypto';
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
 * decline). The gateway's own request ids carry a prefix no SDK uses and a random part: the
 * server cannot send a request of its own under one of them, so an answer the client gives
 * to one of ours is the answer to our question; it is routed back here by `answer` and never
 * reaches the server.
 */
export class ElicitationAsker {
  /** Open questions: how each ends (`unanswered`: timed out, withdrawn or the session ended). */
  private readonly waiting = new Map<string, (outcome: ApprovalOutcome, unanswered?: boolean) => void>();
  /** Every id we asked under, answered or not (a late answer is ours too). */
  private readonly asked = new Set<string>();

  constructor(
    /** `recordAs`: the message as the recording keeps it (the arguments redacted). */
    private readonly send: (message: unknown, recordAs?: unknown) => void,
    private readonly timeoutMs: number,
    /** What the recording may keep of a call's arguments (the recorder's redaction). */
    private readonly redact?: (args: unknown) => unknown,
  ) {}

  static readonly ID_PREFIX = 'mcp-replay-approval-';

  /** `withdrawn`: the client cancelled the call (our question is withdrawn from it too). */
  ask(q: ApprovalQuestion, withdrawn?: AbortSignal): Promise<ApprovalOutcome> {
    const id = `${ElicitationAsker.ID_PREFIX}${randomUUID()}`;
    this.asked.add(id);
    return new Promise((resolve) => {
      const timer = setTimeout(
        () => finish({ approved: false, why: `no answer within ${seconds(this.timeoutMs)}` }, true),
        this.timeoutMs,
      );
      const onWithdraw = () => finish({ approved: false, why: 'cancelled by the client' }, true);
      const finish = (outcome: ApprovalOutcome, unanswered = false) => {
        clearTimeout(timer);
        withdrawn?.removeEventListener('abort', onWithdraw);
        if (!this.waiting.delete(id)) return;
        // A question nobody answered is withdrawn, so the client's dialog does not stay open.
        if (unanswered)
          this.send({
            jsonrpc: '2.0',
            method: 'notifications/cancelled',
            params: { requestId: id, reason: outcome.approved ? '' : outcome.why },
          });
        resolve(outcome);
      };
      this.waiting.set(id, finish);
      withdrawn?.addEventListener('abort', onWithdraw);
      const question = (args: unknown) => ({
        jsonrpc: '2.0',
        id,
        method: 'elicitation/create',
        params: {
          mode: 'form',
          // Shown to the human who decides: nothing in it may hide or reorder what the call does.
          message: `Allow the tool call ${visibleName(q.tool)} ${visible(JSON.stringify(args) ?? '{}')}? (${visible(q.reason)}; ${q.rule})`,
          requestedSchema: { type: 'object', properties: {} },
        },
      });
      // The human reads the real arguments; the recording gets them redacted as the call's own
      // message is: in the question's text, escaped (`token\u000a`), a secret key can go unseen.
      this.send(question(q.args), this.redact && question(this.redact(q.args)));
    });
  }

  /** Whether `id` is one of ours (the message is then the client's answer, not for the server), late answers included. */
  owns(id: unknown): boolean {
    return typeof id === 'string' && this.asked.has(id);
  }

  /** The client answered request `id` with `message` (a result or an error). */
  answer(id: string, reply: unknown): void {
    const finish = this.waiting.get(id);
    if (!finish) return;
    const message = reply as { result?: { action?: unknown }; error?: { message?: unknown } };
    const action = message.result?.action;
    // An error wins (a reply with both is no accept): only a plain `accept` approves.
    if (message.error !== undefined)
      finish({ approved: false, why: `elicitation failed: ${String(message.error?.message)}` });
    else if (action === 'accept') finish({ approved: true, by: 'the user (elicitation)' });
    else finish({ approved: false, why: `${action === 'cancel' ? 'cancelled' : 'declined'} by the user` });
  }

  /** Every open question is answered no (the session is over). */
  cancelAll(why: string): void {
    for (const finish of [...this.waiting.values()]) finish({ approved: false, why }, true);
  }
}

/**
 * The question the approvals queue stores: the call's arguments redacted (the db keeps no
 * secret), and, where that hid some of them, a reason that says which: the human approves the
 * call that runs, not the text the queue shows. A value the agent put under a secret-looking key,
 * or after `Cookie:` in a command (whose value runs to the end of its line), is hidden there.
 */
export function queuedQuestion(q: ApprovalQuestion, redact: (args: unknown) => unknown): ApprovalQuestion {
  const args = redact(q.args);
  const hidden: string[] = [];
  changedPaths(q.args, args, '', hidden);
  if (hidden.length === 0) return { ...q, args };
  const list = hidden.length > MAX_LISTED ? `${hidden.slice(0, MAX_LISTED).join(', ')}, …` : hidden.join(', ');
  return {
    ...q,
    args,
    reason: `${q.reason}; redacted here, so not shown: ${list} (the call runs with their real values)`,
  };
}

const MAX_LISTED = 10;

/** The JSON pointers of the values `redacted` (the Redactor's output: unchanged parts are the same objects) changed in `original`. */
function changedPaths(original: unknown, redacted: unknown, at: string, out: string[]): void {
  if (original === redacted) return;
  if (typeof original === 'object' && original !== null && typeof redacted === 'object' && redacted !== null) {
    for (const k of Object.keys(original))
      changedPaths(
        (original as Record<string, unknown>)[k],
        (redacted as Record<string, unknown>)[k],
        `${at}/${k.replace(/~/g, '~0').replace(/\//g, '~1')}`,
        out,
      );
    return;
  }
  out.push(at === '' ? '/' : at);
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

  /** `withdrawn`: the client cancelled the call; its request leaves the queue. */
  ask(q: ApprovalQuestion, withdrawn?: AbortSignal): Promise<ApprovalOutcome> {
    const requestedAt = Date.now();
    const { id, token } = this.store.enqueueApproval({ ...q, requestedAt, expiresAt: requestedAt + this.timeoutMs });
    process.stderr.write(`mcp-replay: ${q.tool} waits for approval #${id} (mcp-replay approvals)\n`);
    return new Promise((resolve) => {
      const poll = () => {
        if (withdrawn?.aborted) return end('cancelled', 'cancelled by the client');
        let a;
        try {
          a = this.store.getApproval(id);
        } catch (err) {
          return resolve({ approved: false, why: `approval queue failed: ${(err as Error).message}` });
        }
        // Not ours any more (the insert was rolled back, e.g. its batch failed to commit; the id
        // may now name another request): no answer to it can approve this call.
        if (a?.token !== token)
          return resolve({ approved: false, why: 'its approval request was lost (the db rolled it back)' });
        if (a?.status === 'approved') return resolve({ approved: true, by: a.decidedBy ?? 'approvals' });
        if (a?.status === 'rejected')
          return resolve({ approved: false, why: `rejected by ${a.decidedBy ?? 'approvals'}` });
        if (this.closed) return end('session ended', 'the session ended');
        if (a?.status === 'expired' || Date.now() >= requestedAt + this.timeoutMs)
          return end('timeout', `no answer within ${seconds(this.timeoutMs)}`);
        const timer = setTimeout(() => {
          this.timers.delete(timer);
          withdrawn?.removeEventListener('abort', now);
          poll();
        }, this.pollMs);
        // Withdrawn: looked at once more at once (and expired), not at the next poll.
        const now = () => {
          clearTimeout(timer);
          this.timers.delete(timer);
          poll();
        };
        withdrawn?.addEventListener('abort', now, { once: true });
        this.timers.set(timer, poll);
      };
      /** Expires the request (so a late approval cannot land); an approval that landed first stands, unless withdrawn. */
      const end = (status: string, why: string) => {
        try {
          this.store.expireApproval(id, Date.now(), status, token);
        } catch {
          // expired anyway by its deadline
        }
        const late = status === 'cancelled' ? undefined : this.store.getApproval(id);
        if (late?.status === 'approved' && late.token === token)
          return resolve({ approved: true, by: late.decidedBy ?? 'approvals' });
        resolve({ approved: false, why });
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
