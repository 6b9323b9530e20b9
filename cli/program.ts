import { Command, Help } from 'commander';
import { registerApprovals } from './commands/approvals.js';
import { registerDemo } from './commands/demo.js';
import { registerDiff } from './commands/diff.js';
import { registerEnforce } from './commands/enforce.js';
import { registerRecord } from './commands/record.js';
import { registerPolicy } from './commands/policy.js';
import { registerReplay } from './commands/replay.js';
import { registerSessions } from './commands/sessions.js';
import { registerSimulate } from './commands/simulate.js';

export const VERSION = '0.1.0';

/** The whole command tree; every command gets `--help`. */
export function buildProgram(): Command {
  const program = new Command('mcp-replay')
    .description("Record, replay, diff, simulate and enforce policies over AI agents' MCP traffic")
    .version(VERSION)
    // Bad usage in one line, as every other error (SPEC §1): `mcp-replay: <what> (add --help for usage)`.
    .configureOutput({ outputError: (text, write) => write(usageLine(text)) })
    .configureHelp({
      sortSubcommands: false,
      // `record` and `enforce` take CMD after `--`, optional to commander so that a missing one
      // gets their own message; listed as required all the same.
      subcommandTerm: (cmd) =>
        cmd.registeredArguments.some((a) => a.name() === 'cmd')
          ? `${cmd.name()} [options] -- <cmd...>`
          : new Help().subcommandTerm(cmd),
    })
    // `record -- CMD --flag`: options after CMD belong to CMD.
    .enablePositionalOptions();
  registerRecord(program);
  registerEnforce(program);
  registerSessions(program);
  registerPolicy(program);
  registerReplay(program);
  registerDiff(program);
  registerSimulate(program);
  registerApprovals(program);
  registerDemo(program);
  return program;
}

/** Commander's `error: <what>\n` as one line of ours, with where to read more. */
export function usageLine(text: string): string {
  const what = text
    .trim()
    .replace(/^error: /, '')
    .replace(/\s*\n\s*/g, ' ');
  return `mcp-replay: ${what} (add --help for usage)\n`;
}
