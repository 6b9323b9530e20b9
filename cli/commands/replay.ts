import { InvalidArgumentError, Option, type Command } from 'commander';
import { dryRun, ReplaySummary } from '../../replayer/dryRun.js';
import { resolveSources } from '../../replayer/dbSource.js';
import { liveDecisions } from '../../replayer/liveDecisions.js';
import { timeline, timelineOrigin } from '../../replayer/timeline.js';
import { type CommonOptions, grantId, lazyStore, loadPolicy, withCommon } from '../common.js';
import { Output } from '../output.js';
import { displayWidth, row, shortId, table, visible } from '../../engine/visible.js';
import type { Policy } from '../../engine/compilePolicy.js';
import { measuredSources, Progress, progressWanted } from '../progress.js';

interface ReplayOptions extends CommonOptions {
  policy: string;
  grant?: string;
  assumeApproval: 'grant' | 'deny';
  quiet?: boolean;
}

export function registerReplay(program: Command): void {
  withCommon(
    program
      .command('replay')
      .description('dry-run: decide every recorded tools/call under a policy')
      .argument(
        '[session...]',
        'session ids (or unique prefixes) in the db, or .jsonl files; none = every session in the db',
      )
      .requiredOption('--policy <file>', 'policy JSON file', onePolicy)
      .option('--grant <id>', 'run every call under this grant instead of the recorded client name', grantId)
      .addOption(
        new Option('--assume-approval <answer>', 'how a require_approval call is answered in dry-run')
          .choices(['grant', 'deny'])
          .default('grant'),
      )
      .option('-q, --quiet', 'print only the summary (with --json: only the summary line)'),
  ).action(async (sessions: string[], opts: ReplayOptions) => {
    const policy = loadPolicy(opts.policy);
    const db = lazyStore(opts, { readOnly: true });
    let opened = false;
    let liveOf: ReturnType<typeof liveDecisions> | undefined;
    try {
      const sources = resolveSources(sessions, () => ((opened = true), db.get()));
      const measured = measuredSources(sources);
      const progress = new Progress('calls', measured.fraction, {
        enabled: progressWanted(!opts.quiet || opts.json === true),
      });
      const out = new Output();
      const summary = new ReplaySummary(policy);
      // RULE: the entry, limit or `default` that decided (a custom reason does not say which),
      // as wide as the policy's longest rule path (up to 40 columns), so its rows stay aligned.
      const widths = [10, 12, 24, 9, Math.min(40, longestRulePath(policy))];
      const origin = timelineOrigin(sources);
      // Sessions recorded by `enforce` carry what was decided live: shown beside the dry-run.
      liveOf = liveDecisions(() => (opened ? db.get() : undefined));
      let liveCalls = 0;
      let shadowCalls = 0;
      let changedCalls = 0;
      // The versions of the policy that decided live: more than one when it was reloaded while running.
      const liveVersions = new Map<string, number>();
      if (!opts.json && !opts.quiet) out.line(row(['TIME', 'SESSION', 'TOOL', 'DECISION', 'RULE', 'REASON'], widths));
      for (const d of dryRun(policy, timeline(measured.sources, { grant: opts.grant }), {
        assumeApproval: opts.assumeApproval,
      })) {
        progress.tick();
        summary.add(d);
        const { call, verdict } = d;
        const live = liveOf.of(call.session, call.seq, call.id);
        // Live and dry-run are compared by what the policy decided: an approval the dry run
        // assumed unanswered (--assume-approval deny) is the policy's `approval` all the same.
        const differs = live !== undefined && live.decision !== (verdict.unapproved ? 'approval' : verdict.decision);
        if (live) {
          liveCalls++;
          if (!live.enforced) shadowCalls++;
          if (differs) changedCalls++;
          liveVersions.set(live.policySha256, (liveVersions.get(live.policySha256) ?? 0) + 1);
        }
        if (opts.json) {
          if (opts.quiet) continue; // only the summary line
          const line: Record<string, unknown> = {
            type: 'decision',
            session: call.session,
            seq: call.seq,
            t: call.t,
            tool: call.tool,
            args: call.args,
            decision: verdict.decision,
            reason: verdict.reason,
            rule: verdict.rule,
          };
          if (verdict.retryAfterMs !== undefined) line.retryAfterMs = verdict.retryAfterMs;
          if (live) {
            line.enforced = {
              decision: live.decision,
              reason: live.reason,
              rule: live.rule,
              policy: live.policySha256,
              ...(live.outcome !== undefined && { outcome: live.outcome }),
              // Decided and recorded by `enforce --shadow`: the call went through whatever it says.
              ...(!live.enforced && { shadow: true }),
            };
          }
          out.json(line);
        } else if (!opts.quiet) {
          const reason =
            (verdict.retryAfterMs !== undefined
              ? `${verdict.reason}; retry after ${verdict.retryAfterMs} ms`
              : verdict.reason) +
            (live && differs
              ? ` [live: ${live.decision}${live.outcome !== undefined ? `→${live.outcome}` : ''}${live.enforced ? '' : ' (shadow)'}]`
              : '');
          out.line(
            row(
              [
                `+${((call.at - origin) / 1000).toFixed(3)}s`,
                // Recorded text, read by a human: controls and invisible characters show as escapes (`--json` keeps them).
                visible(shortId(call.session)),
                visible(call.tool),
                verdict.decision,
                visible(verdict.rule),
                visible(reason),
              ],
              widths,
            ),
          );
        }
        // A slow reader is waited for (the output is not held in memory); a reader gone ends the run.
        if (out.full) await out.drained();
        if (out.done) break;
      }
      progress.done();
      if (opts.json) out.json(summary.toJSON());
      else {
        const s = summary.toJSON();
        if (!opts.quiet) out.line('');
        out.line(
          `${s.calls} call${s.calls === 1 ? '' : 's'} in ${sources.length} session${sources.length === 1 ? '' : 's'}: ` +
            `${s.allow} allow, ${s.deny} deny, ${s.throttle} throttle, ${s.approval} approval`,
        );
        if (summary.byTool.size > 0) {
          out.line('');
          for (const l of table(
            ['TOOL', 'CALLS', 'ALLOW', 'DENY', 'THROTTLE', 'APPROVAL'],
            [...summary.byTool].map(([tool, c]) => [
              visible(tool),
              ...[c.calls, c.allow, c.deny, c.throttle, c.approval].map(String),
            ]),
          ))
            out.line(l);
        }
        if (liveCalls > 0) {
          // A reloaded policy: the [live: ...] marks then also show where another version decided.
          const underThis = liveVersions.get(s.policy) ?? 0;
          const versions =
            liveVersions.size > 1
              ? ` by ${liveVersions.size} versions of the policy (reloaded while running; ` +
                `${underThis} call${underThis === 1 ? '' : 's'} by this one)`
              : '';
          const calls = `${liveCalls} call${liveCalls === 1 ? ' was' : 's were'}`;
          out.line(
            `\n${shadowCalls === 0 ? `${calls} enforced live` : `${calls} decided live, ${shadowCalls} of them by a shadow gateway (not enforced)`}${versions}; ` +
              `${changedCalls} decided differently by this policy (marked [live: ...])`,
          );
        }
        if (s.unusedRules.length > 0) out.line(`\nrules that decided no call: ${s.unusedRules.join(', ')}`);
        out.line(`policy ${opts.policy} sha256 ${s.policy}`);
      }
      out.flush();
    } finally {
      liveOf?.close();
      db.close();
    }
  });
}

/** The display width of the longest rule path a verdict of `policy` can name (at least RULE's and `fail-closed`'s). */
function longestRulePath(policy: Policy): number {
  let widest = 'fail-closed'.length;
  const see = (path: string) => (widest = Math.max(widest, displayWidth(visible(path))));
  for (const h of policy.hide) see(h.path);
  for (const r of policy.rules) {
    see(r.args ? r.argsPath : r.path);
    for (const l of r.limits) see(l.path);
  }
  for (const l of policy.allToolsLimits) see(l.path);
  return widest;
}

/** `--policy` once: a second one would silently win (`diff` compares two). */
function onePolicy(value: string, previous: string | undefined): string {
  if (previous !== undefined) throw new InvalidArgumentError('replay takes one policy; diff compares two');
  return value;
}
