import { userInfo } from 'node:os';
import { InvalidArgumentError, type Command } from 'commander';
import { InputError } from '../../engine/errors.js';
import { argsSummary, shortDuration } from '../../tui/approvals/format.js';
import { lazyStore, withCommon, type CommonOptions } from '../common.js';
import { Output } from '../output.js';
import { shortId, table, visible, visibleName } from '../../engine/visible.js';

interface ApprovalsOptions extends CommonOptions {
  user?: string;
  approve?: number;
  reject?: number;
}

/** `--approve ID` / `--reject ID`: a queued approval's number. */
function approvalId(v: string): number {
  const n = Number(v);
  if (!Number.isInteger(n) || n <= 0)
    throw new InvalidArgumentError(`expects an approval ID (see the ID column), got "${v}"`);
  return n;
}

export function registerApprovals(program: Command): void {
  withCommon(
    program
      .command('approvals')
      .description(
        'review the calls enforce queued for a human: a TUI (↑/↓, a approve, r reject, q quit) on a terminal, the pending list otherwise',
      )
      .option('--user <name>', 'recorded as the approver (default: the OS user name)')
      .option('--approve <id>', 'approve one pending call without the TUI (for scripts)', approvalId)
      .option('--reject <id>', 'reject one pending call without the TUI (for scripts)', approvalId),
  ).action(async (opts: ApprovalsOptions) => {
    const tui = !opts.json && process.stdout.isTTY && process.stdin.isTTY && !process.env.CI;
    // The list only reads; answering (here or in the TUI) writes.
    const db = lazyStore(
      opts,
      tui || opts.approve !== undefined || opts.reject !== undefined ? { create: false } : { readOnly: true },
    );
    try {
      const store = db.get();
      if (opts.approve !== undefined && opts.reject !== undefined) {
        throw new InputError('approvals: --approve and --reject are one call at a time; give one');
      }
      const answer = opts.approve ?? opts.reject;
      if (answer !== undefined) {
        const status = opts.approve !== undefined ? 'approved' : 'rejected';
        const by = opts.user ?? osUser();
        if (!store.resolveApproval(answer, status, by, Date.now())) {
          const known = store.getApproval(answer);
          throw new InputError(
            known
              ? `approval ${answer} is no longer pending (${known.status === 'pending' ? 'its deadline passed' : `${known.status}${known.decidedBy ? `: ${known.decidedBy}` : ''}`}) in ${store.file}`
              : `unknown approval ${answer} in ${store.file} (see 'mcp-replay approvals')`,
          );
        }
        if (opts.json) process.stdout.write(`${JSON.stringify({ type: 'answer', id: answer, status, by })}\n`);
        else process.stderr.write(`approval ${answer} ${status}\n`);
        return;
      }
      if (tui) {
        // ink and react load only for the TUI: every other command starts without them.
        const { runApprovalsTui } = await import('../../tui/approvals/run.js');
        await runApprovalsTui(store, { user: opts.user ?? osUser(), dbFile: store.file });
        return;
      }
      const now = Date.now();
      const pending = store.pendingApprovals(now);
      const out = new Output();
      if (opts.json) {
        for (const a of pending) {
          out.json({
            type: 'approval',
            id: a.id,
            tool: a.tool,
            args: a.args,
            session: a.sessionId ?? null,
            seq: a.seq ?? null,
            grant: a.grant,
            reason: a.reason,
            rule: a.rule,
            requestedAt: new Date(a.requestedAt).toISOString(),
            expiresAt: a.expiresAt === null || a.expiresAt === undefined ? null : new Date(a.expiresAt).toISOString(),
          });
        }
      } else if (pending.length === 0) process.stderr.write(`no pending approvals in ${store.file}\n`);
      else {
        const rows = pending.map((a) => [
          String(a.id),
          visibleName(a.tool),
          argsSummary(a.args, Infinity), // in full: what is approved is what is read
          shortId(a.sessionId),
          visible(a.grant),
          shortDuration(now - a.requestedAt),
          visible(a.reason),
        ]);
        for (const l of table(['ID', 'TOOL', 'ARGS', 'SESSION', 'GRANT', 'AGE', 'REASON'], rows)) out.line(l);
      }
      out.flush();
    } finally {
      db.close();
    }
  });
}

function osUser(): string {
  try {
    return userInfo().username;
  } catch {
    return process.env.USER ?? 'unknown';
  }
}
