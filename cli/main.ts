#!/usr/bin/env node
// First: it decides colours before anything that draws is loaded.
import './noColor.js';
import { CommanderError, type Command } from 'commander';
import { InputError, Interrupted } from '../engine/errors.js';
import { visible } from '../engine/visible.js';
import { openedDb } from './common.js';
import { buildProgram } from './program.js';

/**
 * Entry point: bad usage and bad input exit 2 with one line (SPEC §1), runtime failures exit 1
 * with one line; a stack trace only with MCP_REPLAY_DEBUG=1.
 */
async function main(argv: string[]): Promise<void> {
  // A reader that stops early (`| head`) closes our stdout: that ends the output, not in a crash.
  // Output that cannot be written (a full disk) is a runtime failure: one line, exit 1.
  process.stdout.on('error', (err: NodeJS.ErrnoException) => {
    if (err.code === 'EPIPE') return;
    process.stderr.write(`mcp-replay: cannot write the output: ${err.message}\n`);
    process.exit(1);
  });
  const program = buildProgram();
  program.exitOverride();
  for (const cmd of allCommands(program)) cmd.exitOverride().configureOutput(program.configureOutput());
  try {
    await program.parseAsync(argv);
  } catch (err) {
    process.exitCode = exitCodeFor(err);
  }
}

function allCommands(cmd: Command): Command[] {
  return cmd.commands.flatMap((c) => [c, ...allCommands(c)]);
}

function exitCodeFor(err: unknown): number {
  if (err instanceof CommanderError) {
    // Commander has already printed its message (or the help).
    return err.exitCode === 0 ? 0 : 2;
  }
  // An error quotes what it was given (a session id, a file name, a recorded name): its controls
  // are escaped, so that it stays one line and cannot recolour or rewrite the terminal.
  if (err instanceof InputError) {
    process.stderr.write(`mcp-replay: ${visible(err.message)}\n`);
    return 2;
  }
  if (err instanceof Interrupted) return 130;
  // A damaged db is bad input, as one that is not a db at all is (openStore finds that one).
  const code = String((err as { code?: unknown })?.code ?? '');
  if (code.startsWith('SQLITE_CORRUPT') || code === 'SQLITE_NOTADB') {
    process.stderr.write(`mcp-replay: ${visible(`${openedDb() ?? 'the database'}: ${(err as Error).message}`)}\n`);
    return 2;
  }
  const e = err as Error;
  // The db's own errors (locked, full, read-only) say which db.
  const db = code.startsWith('SQLITE_') ? openedDb() : undefined;
  process.stderr.write(`mcp-replay: ${visible(`${db ? `${db}: ` : ''}${e?.message ?? String(err)}`)}\n`);
  if (process.env.MCP_REPLAY_DEBUG) process.stderr.write(`${e?.stack ?? ''}\n`);
  return 1;
}

await main(process.argv);
