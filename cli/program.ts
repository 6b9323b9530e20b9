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
    .enablePositionalOptions()
    .hook('preAction', (_, action) => refuseDashDashValues(action));
  registerRecord(program);
  registerEnforce(program);
  registerSessions(program);
  registerPolicy(program);
  registerReplay(program);
  registerDiff(program);
  registerSimulate(program);
  registerApprovals(program);
  registerDemo(program);
  withHelpCommands(program);
  return program;
}

/**
 * `help [command...]` for every command with subcommands, in place of commander's: that one
 * printed the whole help (exit 2) for a command that is not there (`help sesions`), and read
 * only one level (`help sessions list`). An unknown name is the one-line error, with a
 * suggestion, that the command itself gives (`mcp-replay sesions`).
 */
function withHelpCommands(cmd: Command): void {
  const subcommands = cmd.commands.filter((c) => c.name() !== 'help');
  if (subcommands.length === 0) return;
  for (const sub of subcommands) withHelpCommands(sub);
  cmd.helpCommand(false);
  cmd
    .command('help')
    .argument('[command...]')
    .description('display help for command')
    .action((names: string[]) => {
      let target = cmd;
      for (const name of names) {
        const sub = target.commands.find((c) => c.name() === name || c.aliases().includes(name));
        if (!sub || sub.name() === 'help') {
          // Commander's own message for it, with its suggestion (public in its JS, not in its types).
          target.args = [name];
          (target as unknown as { unknownCommand(): never }).unknownCommand();
          return;
        }
        target = sub;
      }
      target.help();
    });
}

/**
 * `record --name -- node server.js`: commander takes `--` as the value of an option that wants
 * one, and CMD then starts one word late (here the session was named `--`). No option of ours
 * takes `--` as a value: it means the value is missing.
 */
function refuseDashDashValues(cmd: Command): void {
  for (const option of cmd.options) {
    const value: unknown = cmd.getOptionValue(option.attributeName());
    if (value === '--' || (Array.isArray(value) && value.includes('--')))
      cmd.error(`error: option '${option.flags}' argument missing (got '--', which ends the options)`, {
        exitCode: 2,
        code: 'mcp-replay.missingOptionValue',
      });
  }
}

/** Commander's `error: <what>\n` as one line of ours, with where to read more. */
export function usageLine(text: string): string {
  const what = text
    .trim()
    .replace(/^error: /, '')
    .replace(/\s*\n\s*/g, ' ');
  return `mcp-replay: ${what} (add --help for usage)\n`;
}
