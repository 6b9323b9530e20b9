import { Option, type Command } from 'commander';
import { InputError } from '../../engine/errors.js';
import {
  changeLine,
  diffRun,
  DiffSummary,
  parseTransitions,
  TRANSITIONS,
  type DiffedCall,
  type Transition,
} from '../../replayer/diff.js';
import { resolveSources } from '../../replayer/dbSource.js';
import type { SessionSource } from '../../replayer/source.js';
import type { SessionRecord } from '../../store/types.js';
import { timeline, timelineOrigin } from '../../replayer/timeline.js';
import { collect, type CommonOptions, grantId, lazyStore, loadPolicy, withCommon } from '../common.js';
import { Output } from '../output.js';
import { row, shortId, table, visible } from '../../engine/visible.js';
import { measuredSources, Progress, progressWanted } from '../progress.js';

interface DiffOptions extends CommonOptions {
  policy: string[];
  grant?: string;
  assumeApproval: 'grant' | 'deny';
  failOnChange?: boolean;
  allowTransition: string[];
  tui?: boolean;
}

export function registerDiff(program: Command): void {
  withCommon(
    program
      .command('diff')
      .description('compare two policies call by call over recorded sessions (A → B)')
      .argument(
        '[session...]',
        'session ids (or unique prefixes) in the db, or .jsonl files; none = every session in the db',
      )
      .requiredOption('--policy <file>', 'policy JSON file; give it twice: --policy A --policy B', collect)
      .option('--fail-on-change', 'exit 3 when any call changed decision (for CI)')
      .option(
        '--allow-transition <from->to>',
        'a kind of change that does not fail --fail-on-change, e.g. allow->throttle (repeatable; * = any)',
        collect,
        [],
      )
      .option('--grant <id>', 'run every call under this grant instead of the recorded client name', grantId)
      .addOption(
        new Option('--assume-approval <answer>', 'how a require_approval call is answered in dry-run')
          .choices(['grant', 'deny'])
          .default('grant'),
      )
      .option('--no-tui', 'print the table even when stdout is a terminal'),
  ).action(async (sessions: string[], opts: DiffOptions) => {
    if (opts.policy.length !== 2) {
      throw new InputError(`diff needs exactly two --policy files (A and B), got ${opts.policy.length}`);
    }
    // Without --fail-on-change it changes nothing: a CI step written so would pass whatever changed.
    if (opts.allowTransition.length > 0 && !opts.failOnChange) {
      throw new InputError(
        '--allow-transition only says which changes --fail-on-change lets pass; add --fail-on-change',
      );
    }
    const allowed = new Set<Transition>();
    for (const text of opts.allowTransition) {
      const ts = parseTransitions(text);
      if (!ts)
        throw new InputError(`--allow-transition ${text}: expected FROM->TO with allow|deny|throttle|approval|*`);
      for (const t of ts) allowed.add(t);
    }
    const [fileA, fileB] = opts.policy as [string, string];
    const a = loadPolicy(fileA);
    const b = loadPolicy(fileB);
    const db = lazyStore(opts, { readOnly: true });
    try {
      const resolved = resolveSources(sessions, db.get);
      const measured = measuredSources(resolved);
      // ink renders nothing interactive when CI is set (is-in-ci): then the table, as in a pipe.
      const tui =
        !opts.json &&
        opts.tui !== false &&
        process.stdout.isTTY === true &&
        process.stdin.isTTY === true &&
        !process.env.CI;
      const progress = new Progress('calls', measured.fraction, { enabled: progressWanted(!tui) });
      const calls = timeline(measured.sources, { grant: opts.grant });
      const summary = new DiffSummary();
      const run = diffRun(a, b, calls, { assumeApproval: opts.assumeApproval });
      if (opts.json) {
        const out = new Output();
        for (const d of run) {
          progress.tick();
          if (summary.add(d)) out.json(changeLine(d));
          if (out.full) await out.drained();
          // A reader gone ends the run, unless the exit code depends on every call.
          if (out.done && !opts.failOnChange) break;
        }
        progress.done();
        out.json(summary.toJSON());
        out.flush();
      } else if (tui) {
        await runTui(run, summary, progress, fileA, fileB, resolved);
      } else {
        await printDiffTable(run, summary, progress, fileA, fileB, timelineOrigin(measured.sources), {
          whole: opts.failOnChange === true,
        });
      }
      if (opts.failOnChange) {
        const bad = summary.unexpected(allowed);
        if (bad.length > 0) {
          const counts = bad.map((t) => `${t} ${summary.transitions.get(t)}`).join(', ');
          process.stderr.write(`mcp-replay: ${summary.changed} call(s) changed decision (${counts})\n`);
          process.exitCode = 3;
        }
      }
    } finally {
      db.close();
    }
  });
}

/** The diff as a plain aligned table: the changed calls, then the transition matrix per tool. */
export async function printDiffTable(
  run: Iterable<DiffedCall>,
  summary: DiffSummary,
  progress: Progress,
  fileA: string,
  fileB: string,
  /** Where TIME counts from (ms): the earliest session's start, as in `replay`. */
  origin: number,
  {
    out = new Output(),
    whole = false,
  }: {
    out?: Output;
    /** Decide every call even when the reader is gone (`--fail-on-change`: the exit code depends on them all). */
    whole?: boolean;
  } = {},
): Promise<void> {
  out.line(`A ${visible(fileA)} → B ${visible(fileB)}`);
  out.line('');
  // Column widths come from the first rows; later rows stream with the same widths.
  const header = ['TIME', 'SESSION', 'TOOL', 'A', 'B', 'RULE A', 'RULE B', 'REASON A → REASON B'];
  let pending: string[][] | undefined = [];
  let widths: number[] = [];
  const emit = (cells: string[]) => {
    if (!pending) return out.line(row(cells, widths));
    pending.push(cells);
    if (pending.length < 1000) return;
    flushPending();
  };
  const flushPending = () => {
    if (!pending) return;
    if (pending.length > 0) {
      widths = header.map((h, i) => Math.max(h.length, ...pending!.map((r) => r[i]!.length)));
      out.line(row(header, widths));
      for (const r of pending) out.line(row(r, widths));
    }
    pending = undefined;
  };
  for (const d of run) {
    progress.tick();
    if (!summary.add(d)) continue;
    const { call, a, b } = d;
    const why = (v: DiffedCall['a']) =>
      v.retryAfterMs !== undefined ? `${v.reason}; retry after ${v.retryAfterMs} ms` : v.reason;
    // Recorded text is read by a human here: its controls and invisible characters show as
    // escapes, as in the TUI (`--json` keeps them).
    emit([
      `+${((call.at - origin) / 1000).toFixed(3)}s`,
      visible(shortId(call.session)),
      visible(call.tool),
      a.decision,
      b.decision,
      visible(a.rule),
      visible(b.rule),
      visible(`${why(a)} → ${why(b)}`),
    ]);
    // A slow reader is waited for; a reader gone (`| head`) ends the table, unless `whole`.
    if (out.full) await out.drained();
    if (out.done && !whole) break;
  }
  flushPending();
  progress.done();
  const s = summary.toJSON();
  if (s.changed === 0) out.line('(no call changed decision)');
  out.line('');
  out.line(`${s.calls} call${s.calls === 1 ? '' : 's'}, ${s.changed} changed`);
  const present = TRANSITIONS.filter((t) => s.transitions[t]);
  if (s.calls > 0) {
    out.line('');
    const rows = Object.entries(s.byTool).map(([tool, t]) => [
      visible(tool),
      String(t.calls),
      String(t.changed),
      ...present.map((tr) => String(t.transitions[tr] ?? 0)),
    ]);
    rows.push(['(all)', String(s.calls), String(s.changed), ...present.map((tr) => String(s.transitions[tr] ?? 0))]);
    for (const l of table(['TOOL', 'CALLS', 'CHANGED', ...present], rows)) out.line(l);
  }
  out.flush();
}

async function runTui(
  run: Iterable<DiffedCall>,
  summary: DiffSummary,
  progress: Progress,
  fileA: string,
  fileB: string,
  sources: readonly SessionSource[],
): Promise<void> {
  // Loaded only here: the table and JSON paths never pay for React.
  const [{ render }, { createElement }, { DiffApp, DiffModel }] = await Promise.all([
    import('ink'),
    import('react'),
    import('../../tui/index.js'),
  ]);
  const model = new DiffModel();
  for (const d of run) {
    progress.tick();
    summary.add(d);
    model.add(d);
  }
  progress.done();
  // Full screen on the terminal's alternate screen, restored on exit: the shell's scrollback stays clean.
  process.stdout.write('\x1b[?1049h');
  try {
    const app = render(
      createElement(DiffApp, {
        model,
        summary: summary.toJSON(),
        policyA: fileA,
        policyB: fileB,
        loadArgs: (session: string, seq: number) => argsAt(sources, session, seq),
        originMs: timelineOrigin(sources),
      }),
      // Ctrl-C is the view's own key (applyKey): the command ends interrupted, exit 130.
      { exitOnCtrlC: false },
    );
    await app.waitUntilExit();
  } finally {
    process.stdout.write('\x1b[?1049l');
  }
  const s = summary.toJSON();
  const counts = TRANSITIONS.filter((t) => s.transitions[t]).map((t) => `${t} ${s.transitions[t]}`);
  process.stdout.write(`${s.calls} calls, ${s.changed} changed${counts.length ? `: ${counts.join(', ')}` : ''}\n`);
}

/** Re-reads one call's arguments from its source (the TUI keeps only the changed calls'). */
export function argsAt(sources: readonly SessionSource[], session: string, seq: number): unknown {
  const source = sources.find((s) => s.info.id === session);
  if (!source) return undefined;
  let record: SessionRecord | undefined = source.messageAt?.(seq);
  if (!source.messageAt) {
    for (const r of source.records())
      if (r.seq === seq) {
        record = r;
        break;
      }
  }
  if (record?.type !== 'message') return undefined;
  const msg = JSON.parse(record.raw) as unknown;
  for (const m of Array.isArray(msg) ? msg : [msg]) {
    const req = m as { method?: unknown; params?: { arguments?: unknown } } | null;
    if (req?.method === 'tools/call') return req.params?.arguments ?? {};
  }
  return undefined;
}
