import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { constants } from 'node:os';
import type { Readable, Writable } from 'node:stream';
import { StringDecoder } from 'node:string_decoder';
import { Pump } from './pump.js';
import type { SessionClock } from './sessionClock.js';
import type { Tap } from './tap.js';

export interface StdioProxyOptions {
  command: string;
  args: readonly string[];
  taps: readonly Tap[];
  clock: SessionClock;
  /** The client's side; our own stdio by default. */
  stdin?: Readable;
  stdout?: Writable;
  stderr?: Writable;
  /** Runs each batch as one unit (see PumpOptions.atomic). */
  atomic?: (fn: () => void) => void;
  /** The server's environment (default: ours). */
  env?: NodeJS.ProcessEnv;
  /** How long to wait, after the server exits, for the rest of its stdout. */
  drainMs?: number;
  /** How long a server may take to exit after a forwarded signal before it is killed (SIGKILL). */
  killAfterMs?: number;
  /** A signal that came while the session was set up (holdEarlySignals): the server is not started. */
  stoppedBy?: () => NodeJS.Signals | undefined;
}

export interface ProxyExit {
  /** The exit code to exit with: the server's, 128 + n if a signal killed it, 1 if it never started. */
  code: number;
  signal: string | null;
  /** Why the server could not be started, if it could not. */
  spawnError?: string;
}

export const FORWARDED_SIGNALS = ['SIGINT', 'SIGTERM', 'SIGHUP'] as const;

/**
 * A host that stops us waits about this long before it kills us (the MCP SDK's client: 2 s after
 * SIGTERM, then SIGKILL): a server still running then is killed by us first, since the host's
 * SIGKILL would stop only us and leave the server running, orphaned.
 */
const KILL_AFTER_MS = 1000;

/**
 * MCP's stdio shutdown is the client's: it closes the server's stdin, then sends SIGTERM to a
 * server that has not exited "within a reasonable time" (the SDK's client: 2 s). Ours closed our
 * stdin: a server still running this long after answering everything then gets SIGTERM (and
 * SIGKILL after KILL_AFTER_MS), since a host that only closes stdin does nothing more.
 */
const STOP_AFTER_EOF_MS = 2000;
const EOF_CHECK_MS = 100;

/** The server's stderr is recorded by lines; one without a newline is cut at this length. */
const STDERR_LINE_MAX = 64 * 1024;

/**
 * Spawns the MCP server and pumps our stdin to its stdin and its stdout to our stdout through
 * the taps. Its stderr goes to ours (and to the taps as events). Resolves when the server has
 * exited and every message was passed on: the client closing stdin closes the server's stdin,
 * and SIGINT/SIGTERM/SIGHUP are forwarded to it (then SIGKILL if it outlives them).
 */
export function runStdioProxy(options: StdioProxyOptions): Promise<ProxyExit> {
  const stdin = options.stdin ?? process.stdin;
  const stdout = options.stdout ?? process.stdout;
  const stderr = options.stderr ?? process.stderr;
  const { clock } = options;

  const early = options.stoppedBy?.();
  if (early) return Promise.resolve(stoppedBeforeStart(early, options));

  // Not `detached` (a process group of its own, which would let a kill reach what the server
  // started): that is setsid(), which takes the server off the terminal and, with the kernel's
  // autogroup scheduling, into a CPU share of its own — the proxy must not change either.
  const child = spawn(options.command, [...options.args], {
    stdio: ['pipe', 'pipe', 'pipe'],
    env: options.env ?? process.env,
  });
  const pump = new Pump({
    taps: options.taps,
    clock: () => clock.micros(),
    atomic: options.atomic,
    write: (dir, bytes) => {
      if (dir === 'c2s') {
        if (child.stdin.writable && !child.stdin.write(bytes)) pauseUntilDrain(stdin, child.stdin);
      } else if (stdout.writable && !stdout.write(bytes)) pauseUntilDrain(child.stdout, stdout);
    },
    onTapError: (err, where) =>
      stderr.write(
        `mcp-replay: ${where ? `${where}: ` : ''}${(err as Error)?.message ?? String(err)}\n${process.env.MCP_REPLAY_DEBUG ? ((err as Error)?.stack ?? '') + '\n' : ''}`,
      ),
  });

  // A client that went away (EPIPE) or a server that died (EPIPE on its stdin) is not our failure.
  stdout.on('error', () => {});
  child.stdin.on('error', () => {});
  // A host that closed our stderr (its log gone) loses the server's stderr, not the session.
  stderr.on('error', () => {});

  const onData = (chunk: Buffer) => pump.receive('c2s', chunk);
  let eofTimer: NodeJS.Timeout | undefined;
  const onEnd = () => {
    pump.end('c2s');
    child.stdin.end();
    // Counted from the last answer owed: a call still running when stdin closed is not cut short.
    let quietMs = 0;
    eofTimer = setInterval(() => {
      quietMs = pump.pendingCount > 0 ? 0 : quietMs + EOF_CHECK_MS;
      if (quietMs < STOP_AFTER_EOF_MS || !running()) return;
      clearInterval(eofTimer);
      stderr.write(
        `mcp-replay: the server did not exit within ${STOP_AFTER_EOF_MS / 1000} s of its stdin closing; sent it SIGTERM\n`,
      );
      stop('SIGTERM');
    }, EOF_CHECK_MS);
  };
  stdin.on('data', onData);
  stdin.on('end', onEnd);

  let stdoutEnded = false;
  const stdoutDone = new Promise<void>((resolve) => {
    child.stdout.on('end', () => {
      stdoutEnded = true;
      pump.end('s2c');
      resolve();
    });
    child.stdout.on('error', () => resolve());
  });
  child.stdout.on('data', (chunk: Buffer) => pump.receive('s2c', chunk));

  // Passed through at once; recorded by whole lines, so that redaction sees `TOKEN=x` whole even
  // when the server wrote it in two pieces (a line longer than 64 KiB is recorded in parts).
  const decoder = new StringDecoder('utf8');
  let errLine = '';
  const recordStderr = (data: string, all: boolean) => {
    const text = errLine + data;
    let cut = all ? text.length : text.lastIndexOf('\n') + 1;
    // Only a line still open after STDERR_LINE_MAX characters is cut (a big chunk of short lines is not).
    if (text.length - cut > STDERR_LINE_MAX) cut = text.length;
    errLine = text.slice(cut);
    if (cut > 0) pump.event({ kind: 'stderr', data: text.slice(0, cut), t: clock.micros() });
  };
  child.stderr.on('data', (chunk: Buffer) => {
    // A host that does not read our stderr stalls the server's, as it would without us.
    if (!stderr.destroyed && !stderr.write(chunk)) pauseUntilDrain(child.stderr, stderr);
    recordStderr(decoder.write(chunk), false);
  });
  child.stderr.on('end', () => recordStderr(decoder.end(), true));

  // A second signal, or a server still running KILL_AFTER_MS after the first, is killed: a
  // server that ignores SIGTERM would otherwise keep us (and the host's shutdown) waiting forever.
  const running = () => child.exitCode === null && child.signalCode === null;
  let killTimer: NodeJS.Timeout | undefined;
  const kill = (why: string) => {
    if (!running()) return;
    stderr.write(`mcp-replay: ${why}; killed it (SIGKILL)\n`);
    child.kill('SIGKILL');
  };
  const stop = (signal: NodeJS.Signals) => {
    if (!running()) return;
    if (killTimer) return kill(`the server was still running at a second signal (${signal})`);
    child.kill(signal);
    const ms = options.killAfterMs ?? KILL_AFTER_MS;
    killTimer = setTimeout(() => kill(`the server did not exit within ${ms / 1000} s of ${signal}`), ms);
  };
  const forward = (signal: NodeJS.Signals) => () => stop(signal);
  const handlers = FORWARDED_SIGNALS.map((s) => [s, forward(s)] as const);
  for (const [s, h] of handlers) process.on(s, h);

  const detach = () => {
    stdin.off('data', onData);
    stdin.off('end', onEnd);
    stdin.pause();
    for (const [s, h] of handlers) process.off(s, h);
    clearTimeout(killTimer);
    clearInterval(eofTimer);
  };

  return new Promise<ProxyExit>((resolve) => {
    child.on('error', (err: NodeJS.ErrnoException) => {
      // Only a failure to start ends up here without an 'exit'.
      if (child.pid !== undefined) return;
      // The program is there (whyServerCannotRun checked it) but exec found no file: its `#!` interpreter.
      const why =
        err.code === 'ENOENT' && options.command.includes('/') && existsSync(options.command)
          ? 'ENOENT (the interpreter its #! line names was not found)'
          : (err.code ?? err.message);
      const message = `cannot start ${options.command}: ${why}`;
      pump.event({ kind: 'error', message, t: clock.micros() });
      pump.serverExited(null, null);
      detach();
      resolve({ code: 1, signal: null, spawnError: message });
    });
    child.on('exit', (code, signal) => {
      let done = false;
      const finish = () => {
        if (done) return;
        done = true;
        recordStderr('', true);
        pump.serverExited(code, signal);
        detach();
        const exitCode = code ?? (signal ? 128 + (constants.signals[signal] ?? 0) : 1);
        resolve({ code: exitCode, signal });
      };
      if (stdoutEnded) finish();
      else {
        // The server's stdout may hold the last messages: read to its end. A grandchild may keep
        // it open: then we stop once it has been quiet for drainMs, counting only while it flows
        // (a client reading slowly pauses it, with the server's last messages still in the pipe).
        let timer: NodeJS.Timeout | undefined;
        const quiet = () => {
          clearTimeout(timer);
          if (!child.stdout.isPaused()) timer = setTimeout(finish, options.drainMs ?? 250);
        };
        child.stdout
          .on('data', quiet)
          .on('resume', quiet)
          .on('pause', () => clearTimeout(timer));
        quiet();
        void stdoutDone.then(() => {
          clearTimeout(timer);
          finish();
        });
      }
    });
  });
}

/** The session of a proxy stopped before it started the server: an error event, then the end (128 + n). */
function stoppedBeforeStart(signal: NodeJS.Signals, options: StdioProxyOptions): ProxyExit {
  const { clock } = options;
  const pump = new Pump({ taps: options.taps, clock: () => clock.micros(), atomic: options.atomic, write: () => {} });
  const message = `stopped by ${signal} before the server was started`;
  (options.stderr ?? process.stderr).write(`mcp-replay: ${message}\n`);
  pump.event({ kind: 'error', message, t: clock.micros() });
  pump.serverExited(null, signal);
  return { code: 128 + (constants.signals[signal] ?? 0), signal };
}

/** Pauses `source` until `sink` drains, or is gone (a pipe its reader closed never drains). */
function pauseUntilDrain(source: Readable, sink: Writable): void {
  if (source.isPaused()) return;
  source.pause();
  const resume = () => {
    sink.off('drain', resume).off('close', resume);
    source.resume();
  };
  sink.on('drain', resume).on('close', resume);
}
