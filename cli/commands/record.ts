import type { Command } from 'commander';
import { InputError } from '../../engine/errors.js';
import { holdEarlySignals } from '../../proxy/earlySignals.js';
import { RecorderTap } from '../../proxy/recorderTap.js';
import { SessionClock } from '../../proxy/sessionClock.js';
import { prepareForTraffic } from '../../proxy/prepareForTraffic.js';
import { whyServerCannotRun } from '../../proxy/serverCommand.js';
import { runStdioProxy } from '../../proxy/stdioProxy.js';
import { Redactor } from '../../recorder/redact.js';
import { ulid } from '../../recorder/ulid.js';
import { collect, lazyStore, withCommon } from '../common.js';
import { serverEnv } from '../noColor.js';

export interface RecordOptions {
  db?: string;
  name?: string;
  /** `--redact KEY`... (string[]), or false for `--no-redact`. */
  redact?: string[] | false;
}

export function registerRecord(program: Command): void {
  withCommon(
    recordingOptions(program.command('record'))
      .description(
        'stdio proxy: spawn CMD as the MCP server, forward stdin/stdout both ways unchanged, record every message',
      )
      .usage('[options] -- <cmd> [args...]')
      .addHelpText(
        'after',
        `
stdout carries the MCP protocol; diagnostics go to stderr. Exits with the server's exit code.
Example (a Claude Desktop / Cursor server entry):
  "command": "npx", "args": ["mcp-replay", "record", "--", "npx", "@modelcontextprotocol/server-filesystem", "/data"]`,
      ),
    { json: false },
  ).action(async (cmd: string[], opts: RecordOptions) => {
    await exitWith(await record(cmd, opts));
  });
}

/** The options of a proxy in front of a server command (`record`, `enforce`): session name, redaction, CMD. */
export function recordingOptions(cmd: Command): Command {
  // Commander lets the last of `--redact KEY` and `--no-redact` win: asked for both, a session
  // would store every secret though a key was meant to be redacted too. Both are an error.
  const given = new Set<string>();
  return (
    cmd
      .option('--name <name>', 'a name for the session')
      .option('--redact <key>', 'also redact values under KEY (repeatable; whole key, any case)', collect)
      .option('--no-redact', 'record secrets as they are (no redaction)')
      .on('option:redact', () => given.add('redact'))
      .on('option:no-redact', () => given.add('no-redact'))
      .hook('preAction', () => {
        if (given.size === 2) cmd.error('error: --redact and --no-redact contradict each other; give one');
      })
      // Optional to commander, so that a missing command gets our message (with the `-- CMD` form).
      .argument('[cmd...]', 'the MCP server command and its arguments')
      .passThroughOptions()
  );
}

/** Exits with the server's code once stdout is written out: it holds the last messages to the client. */
export async function exitWith(code: number): Promise<never> {
  await new Promise<void>((resolve) => process.stdout.write('', () => resolve()));
  process.exit(code);
}

async function record(cmd: string[], opts: RecordOptions): Promise<number> {
  const [command, ...args] = cmd;
  if (!command) throw new InputError('record: missing the server command (mcp-replay record -- CMD [ARGS...])');
  const why = whyServerCannotRun(command);
  if (why)
    throw new InputError(
      `record: cannot run the server command ${command}: ${why} (mcp-replay record -- CMD [ARGS...])`,
    );
  const db = lazyStore(opts, { live: true });
  const store = db.get();
  const clock = new SessionClock();
  const id = ulid(clock.startedAtMs);
  const redactor = new Redactor({ enabled: opts.redact !== false, extraKeys: opts.redact || [] });
  const recorder = new RecorderTap(store, id, redactor);
  // From the session's start: a signal before the proxy forwards it must not leave it endless.
  const early = holdEarlySignals();
  recorder.log.begin({
    id,
    name: opts.name,
    startedAt: clock.startedAt,
    transport: 'stdio',
    server: { command: redactor.argv(cmd) },
  });
  process.stderr.write(`mcp-replay: recording session ${id} to ${store.file}\n`);
  try {
    prepareForTraffic();
    const running = runStdioProxy({ command, args, clock, taps: [recorder], stoppedBy: early.first, env: serverEnv() });
    early.release(); // the proxy forwards signals now
    const exit = await running;
    if (exit.spawnError) process.stderr.write(`mcp-replay: ${exit.spawnError}\n`);
    return exit.code;
  } finally {
    early.release();
    db.close();
  }
}
