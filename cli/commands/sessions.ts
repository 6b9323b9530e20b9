import { createWriteStream, openSync, statSync } from 'node:fs';
import { dirname } from 'node:path';
import type { Command } from 'commander';
import { InputError } from '../../engine/errors.js';
import { exchangesOf, type Exchange } from '../../replayer/exchanges.js';
import { DecisionsInOrder } from '../../replayer/liveDecisions.js';
import type { DecisionRecord } from '../../store/decisionLog.js';
import { jsonlSource, recordToJsonl, sessionToJsonl } from '../../replayer/jsonl.js';
import { dbOutputClash, lazyStore, openedDb, outputFileArgument, withCommon, type CommonOptions } from '../common.js';
import { Output, toJson } from '../output.js';
import { measuredSources, Progress, progressWanted } from '../progress.js';
import { row, table, visible, visibleName } from '../../engine/visible.js';

export function registerSessions(program: Command): void {
  const sessions = program.command('sessions').description('manage recorded sessions');

  withCommon(sessions.command('list').description('list recorded sessions')).action((opts: CommonOptions) => {
    const db = lazyStore(opts, { readOnly: true });
    try {
      const out = new Output();
      const list = db.get().listSessions();
      // `open`: its recorder runs (STATUS `open`), so `sessions rm` refuses it without --force.
      if (opts.json) {
        const live = db.get().liveSessions();
        for (const s of list) out.json({ type: 'session', ...s, open: live.has(s.id) });
      } else if (list.length === 0) process.stderr.write(`no sessions in ${db.get().file}\n`);
      else {
        // Ids and names come from imported files too: their controls show as escapes.
        const live = db.get().liveSessions();
        const rows = list.map((s) => [
          visible(s.id),
          visible(s.name ?? ''),
          s.startedAt,
          String(s.messages),
          String(s.calls),
          s.endedAt
            ? s.exitCode === undefined || s.exitCode === null
              ? 'ended'
              : `exit ${s.exitCode}`
            : live.has(s.id)
              ? 'open'
              : 'no end',
        ]);
        for (const l of table(['ID', 'NAME', 'STARTED', 'MESSAGES', 'CALLS', 'STATUS'], rows)) out.line(l);
      }
      out.flush();
    } finally {
      db.close();
    }
  });

  withCommon(
    sessions
      .command('show')
      .description("a session's calls with their latency (request → response), outcome, and what enforce decided")
      .argument('<id>', 'session id or unique prefix')
      .option('--all', 'every request (initialize, tools/list, ...), not only tools/call'),
  ).action(async (id: string, opts: CommonOptions & { all?: boolean }) => {
    const db = lazyStore(opts, { readOnly: true });
    let enforced: DecisionsInOrder | undefined;
    try {
      const store = db.get();
      const info = store.resolveSession(id);
      const out = new Output();
      // A bar on a terminal's stderr while the rows go elsewhere (a file, a slow pipe), by seq.
      const last = store.lastSeq(info.id);
      let at = 0;
      const progress = new Progress('messages', () => (last > 0 ? at / last : 1), {
        enabled: progressWanted(true),
      });
      const records = function* () {
        for (const r of store.records(info.id)) {
          at = r.seq;
          progress.tick();
          yield r;
        }
      };
      const exchanges = exchangesOf(records(), opts.all ? undefined : (m) => m === 'tools/call');
      // What `enforce` decided for each call (none for a recording made by `record`), read
      // alongside the calls (both in message order).
      enforced = new DecisionsInOrder(store.streamDecisions(info.id));
      if (opts.json) {
        out.json({ type: 'session', ...info, open: store.liveSessions().has(info.id) });
        for (const x of exchanges) {
          out.json(exchangeJson(x, enforced.of(x.seq, x.id)));
          if (out.full) await out.drained();
          if (out.done) break;
        }
      } else {
        const status = info.endedAt
          ? `ended ${info.endedAt}${info.exitCode === undefined || info.exitCode === null ? '' : `, exit ${info.exitCode}`}`
          : store.liveSessions().has(info.id)
            ? 'open (being recorded)'
            : 'no end recorded (its recorder was cut off, or it was imported so)';
        out.line(`session ${visible(info.id)}${info.name ? ` (${visible(info.name)})` : ''}`);
        out.line(`started ${info.startedAt}, ${status}`);
        const command = (info.server as { command?: unknown } | undefined)?.command;
        if (Array.isArray(command)) out.line(`server  ${visible(command.join(' '))}`);
        out.line('');
        // As wide as its longest cell (`approval→allow (shadow)`), known before the rows.
        const shapes = store.decisionPathShapes(info.id);
        const policyColumn = shapes.length > 0;
        let policyWidth = 'POLICY'.length;
        for (const p of shapes)
          policyWidth = Math.max(policyWidth, p.chars + p.count - 1 + (p.shadow ? SHADOW.length : 0));
        const widths = policyColumn ? [6, 10, 40, 10, policyWidth] : [6, 10, 40, 10];
        out.line(row(['SEQ', 'T (s)', 'CALL', 'LATENCY', ...(policyColumn ? ['POLICY'] : []), 'OUTCOME'], widths));
        let n = 0;
        for (const x of exchanges) {
          n++;
          // What a peer sent, shown with the characters that would hide or reorder text as escapes.
          const tool = x.tool === undefined ? undefined : visibleName(x.tool);
          const what =
            tool !== undefined
              ? `${tool} ${truncate(visible(toJson(x.args)), 40 - tool.length - 1)}`
              : visible(x.method);
          const outcome = x.detail
            ? `${x.outcome}: ${truncate(visible(x.detail.replace(/\s+/g, ' ')), 60)}`
            : x.outcome;
          const policy = policyColumn ? [policyCell(enforced.of(x.seq, x.id))] : [];
          out.line(row([String(x.seq), (x.t / 1e6).toFixed(3), what, latency(x), ...policy, outcome], widths));
          // A slow reader is waited for (the rows are not held in memory); a reader gone ends the table.
          if (out.full) await out.drained();
          if (out.done) break;
        }
        if (n === 0) out.line(opts.all ? '(no requests)' : '(no tool calls; --all shows every request)');
      }
      progress.done();
      out.flush();
    } finally {
      enforced?.close();
      db.close();
    }
  });

  withCommon(
    sessions
      .command('import')
      .description('store a JSONL recording (SPEC §4) in the db; all or nothing')
      .argument('<file>', 'JSONL file'),
  ).action((file: string, opts: CommonOptions) => {
    const db = lazyStore(opts);
    try {
      const source = jsonlSource(file);
      const store = db.get();
      let messages = 0;
      let events = 0;
      // Measured in bytes read (a pipe: its count of messages only).
      const measured = measuredSources([source]);
      const size = fileSize(file);
      const progress = new Progress('messages', () => (size > 0 ? measured.fraction() : undefined), {
        enabled: progressWanted(false),
      });
      store.transaction(() => {
        store.insertSession(source.info);
        for (const r of measured.sources[0]!.records()) {
          progress.tick();
          if (r.type === 'message') {
            const m = parseMeta(r.raw);
            store.appendMessage(source.info.id, r.seq, r.t, r.dir, r.raw, m.method, m.id);
            messages++;
          } else {
            store.appendEvent(source.info.id, r.seq, r.t, r.event, r.data);
            events++;
          }
        }
      });
      progress.done();
      if (opts.json) {
        const out = new Output();
        out.json({ type: 'imported', id: source.info.id, messages, events });
        out.flush();
      } else
        process.stdout.write(
          `imported session ${visible(source.info.id)} (${messages} messages, ${events} events) into ${store.file}\n`,
        );
    } finally {
      db.close();
    }
  });

  withCommon(
    sessions
      .command('export')
      .description('write a session as JSONL (SPEC §4)')
      .argument('<id>', 'session id or unique prefix')
      .option('-o, --output <file>', 'write to FILE instead of stdout', outputFileArgument('leave -o out for stdout')),
    { json: false },
  ).action(async (id: string, opts: CommonOptions & { output?: string }) => {
    const db = lazyStore(opts, { readOnly: true });
    try {
      const store = db.get();
      const info = store.resolveSession(id);
      const stream = opts.output ? createWriteStream(opts.output, { fd: openForWriting(opts.output) }) : undefined;
      const out = new Output(stream as unknown as NodeJS.WriteStream | undefined);
      const last = store.lastSeq(info.id);
      let at = 0;
      // A bar on a terminal's stderr while the lines go to a file (-o) or a pipe, by seq.
      const progress = new Progress('messages', () => (last > 0 ? at / last : 1), {
        enabled: progressWanted(!opts.output),
      });
      out.line(sessionToJsonl(info));
      for (const r of store.records(info.id)) {
        at = r.seq;
        progress.tick();
        out.line(recordToJsonl(r));
        if (out.full) await out.drained();
        if (out.done) break;
      }
      progress.done();
      out.flush();
      if (stream)
        await new Promise<void>((resolve, reject) =>
          stream.end((err?: NodeJS.ErrnoException | null) =>
            err ? reject(new Error(`${opts.output}: cannot write: ${err.code ?? err.message}`)) : resolve(),
          ),
        );
    } finally {
      db.close();
    }
  });

  withCommon(
    sessions
      .command('rm')
      .description('delete a session and its messages')
      .argument('<id>', 'session id or unique prefix')
      .option(
        '--force',
        'also a session a recorder may be writing (a recorder on another host counts as running: it cannot be checked)',
      ),
  ).action((id: string, opts: CommonOptions & { force?: boolean }) => {
    const db = lazyStore(opts, { create: false });
    try {
      const info = db.get().resolveSession(id);
      // Its recorder would go on, dropping every later row of a session that is gone.
      if (!opts.force && db.get().liveSessions().has(info.id))
        throw new InputError(
          `session ${visible(info.id)} is being recorded: stop its recorder first (else its later messages are dropped unrecorded), or --force`,
        );
      db.get().deleteSession(info.id);
      if (opts.json) process.stdout.write(`${JSON.stringify({ type: 'removed', id: info.id })}\n`);
      else process.stderr.write(`removed session ${visible(info.id)}\n`);
    } finally {
      db.close();
    }
  });
}

/** Method and id of a JSON-RPC message (or of the first of a batch), for the db's indexes. */
export function parseMeta(raw: string): { method: string | null; id: string | null } {
  try {
    const msg = JSON.parse(raw) as unknown;
    const m = (Array.isArray(msg) ? msg[0] : msg) as { method?: unknown; id?: unknown } | undefined;
    return {
      method: typeof m?.method === 'string' ? m.method : null,
      id: m?.id === undefined || m.id === null ? null : JSON.stringify(m.id),
    };
  } catch {
    return { method: null, id: null };
  }
}

function exchangeJson(x: Exchange, decisions: readonly DecisionRecord[] | undefined): Record<string, unknown> {
  const line: Record<string, unknown> = { type: 'call', seq: x.seq, t: x.t, dir: x.dir, method: x.method, id: x.id };
  if (x.tool !== undefined) {
    line.tool = x.tool;
    line.args = x.args;
  }
  line.latencyMs = x.latencyUs === undefined ? null : x.latencyUs / 1000;
  line.outcome = x.outcome;
  if (x.detail !== undefined) line.detail = x.detail;
  if (decisions) {
    line.decisions = decisions.map((d) => {
      const j: Record<string, unknown> = { decision: d.decision, reason: d.reason, rule: d.rule };
      if (d.retryAfterMs !== undefined) j.retryAfterMs = d.retryAfterMs;
      return { ...j, enforced: d.enforced, policy: d.policySha256, at: new Date(d.at).toISOString() };
    });
  }
  return line;
}

const SHADOW = ' (shadow)';

/** `deny`, `throttle`, `approval→allow`, `allow (shadow)`. */
function policyCell(decisions: readonly DecisionRecord[] | undefined): string {
  if (!decisions) return '-';
  const path = decisions.map((d) => d.decision).join('→');
  return decisions.some((d) => !d.enforced) ? `${path}${SHADOW}` : path;
}

function latency(x: Exchange): string {
  return x.latencyUs === undefined ? '-' : `${(x.latencyUs / 1000).toFixed(1)} ms`;
}

function truncate(s: string, n: number): string {
  return s.length <= n ? s : `${s.slice(0, Math.max(1, n - 1))}…`;
}

/** A regular file's size; 0 for a pipe (its end is not known). */
function fileSize(file: string): number {
  try {
    const st = statSync(file);
    return st.isFile() ? st.size : 0;
  } catch {
    return 0;
  }
}

/** Opens an output file up front, so a bad path is one line and exit 2, not a stream error. */
function openForWriting(file: string): number {
  const clash = dbOutputClash(file, openedDb()!);
  if (clash) throw new InputError(`${file}: cannot write: ${clash}`);
  try {
    return openSync(file, 'w', 0o600);
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    const why =
      code === 'ENOENT'
        ? `no such folder ${dirname(file)}`
        : code === 'EISDIR'
          ? 'is a directory'
          : (code ?? (err as Error).message);
    throw new InputError(`${file}: cannot write: ${why}`);
  }
}
