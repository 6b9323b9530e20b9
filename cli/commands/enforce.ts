import { InvalidArgumentError, Option, type Command } from 'commander';
import { InputError } from '../../engine/errors.js';
import { parseWindow } from '../../engine/window.js';
import { EnforcerTap } from '../../proxy/enforce/enforcerTap.js';
import { holdEarlySignals } from '../../proxy/earlySignals.js';
import { PolicyWatcher } from '../../proxy/enforce/policyWatcher.js';
import type { DenyAs } from '../../proxy/enforce/responses.js';
import { RecorderTap } from '../../proxy/recorderTap.js';
import { SessionClock } from '../../proxy/sessionClock.js';
import { prepareForTraffic } from '../../proxy/prepareForTraffic.js';
import { whyServerCannotRun } from '../../proxy/serverCommand.js';
import { runStdioProxy } from '../../proxy/stdioProxy.js';
import type { Tap } from '../../proxy/tap.js';
import { Redactor } from '../../recorder/redact.js';
import { ulid } from '../../recorder/ulid.js';
import { SqliteLimiter } from '../../store/sqliteLimiter.js';
import { grantId, lazyStore, withCommon } from '../common.js';
import { exitWith, recordingOptions, type RecordOptions } from './record.js';
import { serverEnv } from '../noColor.js';

interface EnforceOptions extends RecordOptions {
  policy: string;
  grant?: string;
  shadow?: boolean;
  record: boolean;
  denyAs: DenyAs;
  approvalTimeout: number;
}

/** `--approval-timeout`: seconds (`60`, `2.5`) or a duration as in policy windows (`30s`, `5m`). */
function seconds(v: string): number {
  const ms = parseWindow(v) ?? Number(v) * 1000;
  if (!Number.isFinite(ms) || ms < 1) {
    throw new InvalidArgumentError(`expects seconds (at least 0.001) or a duration like "30s" or "5m", got "${v}"`);
  }
  // A timer cannot wait longer (Node fires a longer one at once: the call would be denied unasked).
  if (ms > MAX_TIMER_MS)
    throw new InvalidArgumentError(`expects at most ${MAX_TIMER_MS / 1000} s (24 days), got "${v}"`);
  return ms / 1000;
}

/** The longest a Node timer waits: 2^31 − 1 ms. */
const MAX_TIMER_MS = 2 ** 31 - 1;

/**
 * How long the gateway keeps every counted call, whatever the policy's windows: a reload that
 * widens a window up to a day (the longest named one) still counts the calls made before it.
 */
export const COUNTER_RETENTION_MS = 86_400_000;

/** The counters of `--shadow` gateways: a prefix no enforcing counter key can start with. */
export const SHADOW_NAMESPACE = '\u0000shadow\u0000';

export function registerEnforce(program: Command): void {
  withCommon(
    recordingOptions(
      program
        .command('enforce')
        .description('live gateway over stdio: the recorder proxy, with every tools/call decided by the policy')
        .usage('--policy FILE [options] -- <cmd> [args...]')
        .requiredOption('--policy <file>', 'policy file (re-read when it changes; an invalid version is ignored)')
        .option(
          '--grant <id>',
          'the identity calls run under (default: $MCP_REPLAY_GRANT, else clientInfo.name)',
          grantId,
        )
        .option(
          '--shadow',
          'decide and record every call, enforce nothing (live dry-run; counts apart from enforcing gateways)',
        )
        .option('--no-record', 'do not record the session (decisions are then not audited)')
        .addOption(
          new Option('--deny-as <how>', 'answer denied calls with a CallToolResult or a JSON-RPC error')
            .choices(['result', 'error'])
            .default('result'),
        )
        .option(
          '--approval-timeout <s>',
          'seconds (or a duration: 30s, 5m) to wait for an approval before denying',
          seconds,
          60,
        ),
    ).addHelpText(
      'after',
      `
Denied calls get "Denied by policy: <reason>" (throttled: "Rate limited: ...; retry after <n> ms")
and never reach the server. Counters live in the db, shared by every gateway on it.
stdout carries the MCP protocol; diagnostics go to stderr. Exits with the server's exit code.`,
    ),
    { json: false },
  ).action(async (cmd: string[], opts: EnforceOptions) => {
    await exitWith(await enforce(cmd, opts));
  });
}

async function enforce(cmd: string[], opts: EnforceOptions): Promise<number> {
  const [command, ...args] = cmd;
  if (!command)
    throw new InputError('enforce: missing the server command (mcp-replay enforce --policy FILE -- CMD [ARGS...])');
  const why = whyServerCannotRun(command);
  if (why)
    throw new InputError(
      `enforce: cannot run the server command ${command}: ${why} (mcp-replay enforce --policy FILE -- CMD [ARGS...])`,
    );
  let gateway: EnforcerTap | undefined;
  const watcher = PolicyWatcher.open(opts.policy, { onReload: () => gateway?.policyReloaded() });
  const db = lazyStore(opts, { live: true });
  // From the session's start: a signal before the proxy forwards it must not leave it endless.
  const early = holdEarlySignals();
  try {
    const store = db.get();
    const clock = new SessionClock();
    const sessionId = ulid(clock.startedAtMs);
    const grant = opts.grant ?? (process.env.MCP_REPLAY_GRANT || undefined);
    const taps: Tap[] = [];
    let recorder: RecorderTap | undefined;
    const redactor = new Redactor({ enabled: opts.redact !== false, extraKeys: opts.redact || [] });
    if (opts.record) {
      // Unlike record, a gateway needs the db to start (its counters), so a locked db stops it
      // here, before it made a spool: it does not start the session in one (SessionLog.begin).
      store.insertSession({
        id: sessionId,
        name: opts.name,
        startedAt: clock.startedAt,
        transport: 'stdio',
        server: { command: redactor.argv(cmd) },
        grant,
      });
      recorder = new RecorderTap(store, sessionId, redactor);
      taps.push(recorder);
    }
    const log = recorder?.log;
    // Alone on the db, the gateway counts in memory, its counted calls spooled with the session.
    // A shadow gateway counts apart: it must not spend the enforcing gateways' budgets. Its keys
    // start with NUL, which no counter name does (keys are `counter NUL scope NUL id`).
    const limiter = new SqliteLimiter(store, {
      ...(log && { spool: (id, key, t, keepMs) => log.limit(id, key, t, keepMs), copy: () => log.copy() }),
      ...(opts.shadow && { namespace: SHADOW_NAMESPACE }),
      retainMs: COUNTER_RETENTION_MS,
    });
    gateway = new EnforcerTap({
      policy: () => watcher.policy,
      limiter,
      store,
      audit: log && ((d) => log.decision(d)),
      sessionId,
      clock,
      grant,
      shadow: opts.shadow ?? false,
      denyAs: opts.denyAs,
      approvalTimeoutMs: opts.approvalTimeout * 1000,
      redact: (args) => redactor.value(args),
      unfiltered: recorder && ((frame) => recorder.unfiltered(frame)),
    });
    taps.push(gateway);
    process.stderr.write(
      `mcp-replay: enforcing ${opts.policy}${opts.shadow ? ' (shadow: nothing enforced)' : ''}` +
        `${opts.record ? `, recording session ${sessionId}` : ''} in ${store.file}\n`,
    );
    prepareForTraffic();
    // A batch's counters commit once, with the batch's messages and decisions spooled, before it
    // is forwarded; if its decisions could not be stored, the calls it lets through are refused.
    const atomic = (fn: () => void) =>
      limiter.batch(() => {
        fn();
        if (!opts.shadow) log?.assertKept();
      });
    const running = runStdioProxy({ command, args, clock, taps, atomic, stoppedBy: early.first, env: serverEnv() });
    early.release(); // the proxy forwards signals now
    const exit = await running;
    if (exit.spawnError) process.stderr.write(`mcp-replay: ${exit.spawnError}\n`);
    limiter.close();
    return exit.code;
  } finally {
    early.release();
    watcher.close();
    db.close();
  }
}
