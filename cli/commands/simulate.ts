import { statSync, writeFileSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { randomInt } from 'node:crypto';
import { InvalidArgumentError, type Command } from 'commander';
import { InputError } from '../../engine/errors.js';
import { resolveSources } from '../../replayer/dbSource.js';
import type { SimPolicy, ToolSpec } from '../../simulator/index.js';
import { defaultDbPath } from '../../store/dbPath.js';
import {
  collect,
  dbOutputClash,
  lazyStore,
  loadPolicyFile,
  outputFileArgument,
  readText,
  withCommon,
  type CommonOptions,
} from '../common.js';
import { Output } from '../output.js';
import { Progress, progressWanted } from '../progress.js';

interface SimulateCliOptions extends CommonOptions {
  policy: string[];
  tools?: string;
  from?: string;
  runs: number;
  seed?: number;
  path?: string;
  expect?: string;
  out?: string;
  maxCalls: number;
  adversarial: boolean;
}

const DEFAULT_RUNS = 300;

export function registerSimulate(program: Command): void {
  withCommon(
    program
      .command('simulate')
      .description(
        'property-generate call streams against a policy: outcome shares, built-in invariants, your expectations, ' +
          'and shrunk counterexamples with the seed to reproduce them (exit 3 on a violation)',
      )
      .requiredOption(
        '--policy <file>',
        'policy JSON file; give it twice to search for calls two policies decide differently',
        collect,
      )
      .option('--tools <file>', 'tool catalog: a JSON array of MCP Tool objects (name, inputSchema)')
      .option(
        '--from <session>',
        'tool catalog from the tools/list a recorded session returned (a session id or a .jsonl file)',
      )
      .option('--expect <file>', 'expectations: {"expect": [{tool, when?, never|always|atMost+per}]}')
      .option('--runs <n>', 'streams drawn', positiveInt('--runs'), DEFAULT_RUNS)
      .option('--seed <s>', 'random seed (default: a random one, printed)', int('--seed'))
      .option('--path <p>', 'with --seed: check only the stream a reported counterexample names', pathArg)
      .option(
        '--max-calls <n>',
        'longest stream drawn (more when a limit or atMost needs more calls to break)',
        positiveInt('--max-calls'),
        40,
      )
      .option('--no-adversarial', 'arguments from the tool schemas only, no adversarial values')
      .option(
        '--out <file>',
        'write the first counterexample as a JSONL session (one file per session) for replay/diff',
        outputFileArgument('leave --out out to write none'),
      ),
  ).action(async (opts: SimulateCliOptions) => {
    // Loaded on use: fast-check and the SDK's schemas stay out of every other command's startup.
    const {
      counterexampleSessions,
      humanReport,
      jsonReport,
      parseExpectations,
      parseToolsFile,
      simulate,
      toolsFromSession,
    } = await import('../../simulator/index.js');
    if (opts.policy.length > 2) throw new InputError('--policy: give one policy, or two to compare');
    if (opts.tools !== undefined && opts.from !== undefined)
      throw new InputError('--tools and --from: give one tool catalog, not both');
    if (opts.path !== undefined && opts.seed === undefined)
      throw new InputError('--path needs the --seed it was reported with');
    // Before the run, not after it: a folder that is not there would lose the counterexample.
    if (opts.out !== undefined && !isDirectory(dirname(resolve(opts.out))))
      throw new InputError(`--out ${opts.out}: no such folder ${dirname(resolve(opts.out))}`);
    if (opts.out !== undefined && isDirectory(opts.out))
      throw new InputError(`--out ${opts.out}: is a directory (give a file name)`);
    const clash = opts.out === undefined ? undefined : dbOutputClash(opts.out, opts.db ?? defaultDbPath());
    if (clash) throw new InputError(`--out ${opts.out}: ${clash}`);
    const policies: SimPolicy[] = opts.policy.map((file) => ({ name: file, ...loadPolicyFile(file) }));
    const db = lazyStore(opts, { readOnly: true });
    try {
      let catalog: ToolSpec[] | undefined;
      let catalogText: string;
      if (opts.tools !== undefined) {
        catalog = parseToolsFile(opts.tools, readText(opts.tools));
        catalogText = `${catalog.length} tool${catalog.length === 1 ? '' : 's'} from ${opts.tools}`;
      } else if (opts.from !== undefined) {
        const [source] = resolveSources([opts.from], db.get);
        catalog = toolsFromSession(source!);
        catalogText = `${catalog.length} tool${catalog.length === 1 ? '' : 's'} from the tools/list recorded in ${opts.from}`;
      } else {
        catalogText = 'no --tools or --from: tool names derived from the policy keys (globs instantiated)';
      }
      const expectations = opts.expect === undefined ? [] : parseExpectations(opts.expect, readText(opts.expect));
      const seed = opts.seed ?? randomInt(0, 2 ** 31 - 1);
      if (opts.seed === undefined)
        process.stderr.write(`simulate: random seed ${seed} (pass --seed ${seed} to repeat this run)\n`);
      // The streams' calls as they are decided: a sign of life on a long run (count and rate), with
      // the share of --runs explored; the shrinking after it has no known length (count and rate only).
      let explored = 0;
      const progress = new Progress(
        'calls decided',
        () => (opts.path === undefined && explored < opts.runs ? explored / opts.runs : undefined),
        { enabled: progressWanted(false) },
      );
      let report: ReturnType<typeof simulate>;
      try {
        report = simulate({
          policies,
          catalog,
          expectations,
          runs: opts.runs,
          seed,
          path: opts.path,
          adversarial: opts.adversarial,
          maxCalls: opts.maxCalls,
          onDecided: (n) => {
            for (let i = 0; i < n; i++) progress.tick();
          },
          onExplored: (n) => {
            explored = n;
          },
        });
      } finally {
        progress.done();
      }
      const ctx = { policies, catalog: catalogText, command: reproduceCommand(opts) };
      const out = new Output();
      if (opts.json) for (const line of jsonReport(report, ctx)) out.json(line);
      else for (const line of humanReport(report, ctx)) out.line(line);
      out.flush();
      if (opts.out !== undefined) {
        const cx = report.counterexamples[0];
        if (!cx) process.stderr.write(`simulate: no counterexample, ${opts.out} not written\n`);
        else {
          let whole = true;
          const files = counterexampleSessions(cx).map((s, i) => {
            const file = i === 0 ? opts.out! : opts.out!.replace(/(\.jsonl)?$/i, `.${s.session}$1`);
            try {
              writeFileSync(file, s.lines.join('\n') + '\n');
            } catch (err) {
              // The violation stands (exit 3); the file could not be written.
              whole = false;
              const code = (err as NodeJS.ErrnoException).code;
              const why = code === 'EISDIR' ? 'is a directory' : (code ?? (err as Error).message);
              process.stderr.write(`mcp-replay: --out ${file}: cannot write: ${why}\n`);
            }
            return file;
          });
          const again =
            opts.policy.length > 1
              ? `mcp-replay diff --policy ${opts.policy[0]} --policy ${opts.policy[1]}`
              : `mcp-replay replay --policy ${opts.policy[0]}`;
          // A session missing would replay as another stream: no file list to replay then.
          process.stderr.write(
            whole
              ? `simulate: wrote the ${cx.property} counterexample to ${files.join(', ')}; ` +
                  `see it again: ${again} ${files.join(' ')}\n`
              : `simulate: the counterexample was not written whole (see above); it is printed on stdout\n`,
          );
        }
      }
      if (report.counterexamples.length > 0) process.exitCode = 3;
    } finally {
      db.close();
    }
  });
}

function int(flag: string) {
  return (v: string): number => {
    if (!/^-?\d+$/.test(v) || !Number.isSafeInteger(Number(v)) || Math.abs(Number(v)) > 2 ** 31 - 1)
      throw new InvalidArgumentError(`${flag} expects an integer (32-bit), got "${v}"`);
    return Number(v);
  };
}

function positiveInt(flag: string) {
  return (v: string): number => {
    const n = int(flag)(v);
    if (n < 1) throw new InvalidArgumentError(`${flag} expects an integer ≥ 1, got "${v}"`);
    return n;
  };
}

function pathArg(v: string): string {
  if (!/^\d+(:\d+)*$/.test(v))
    throw new InvalidArgumentError(`--path expects a fast-check path like "12:0:3", got "${v}"`);
  return v;
}

/** The command line that reproduces a counterexample (append `--seed S --path P`). */
function reproduceCommand(opts: SimulateCliOptions): string {
  const parts = ['mcp-replay', 'simulate'];
  for (const p of opts.policy) parts.push('--policy', p);
  if (opts.tools !== undefined) parts.push('--tools', opts.tools);
  if (opts.from !== undefined) parts.push('--from', opts.from);
  if (opts.expect !== undefined) parts.push('--expect', opts.expect);
  if (opts.db !== undefined && opts.from !== undefined) parts.push('--db', opts.db);
  if (opts.maxCalls !== 40) parts.push('--max-calls', String(opts.maxCalls));
  if (!opts.adversarial) parts.push('--no-adversarial');
  return parts.map(shellQuote).join(' ');
}

function shellQuote(s: string): string {
  return /^[\w@%+=:,./-]+$/.test(s) ? s : `'${s.replace(/'/g, `'\\''`)}'`;
}

function isDirectory(path: string): boolean {
  try {
    return statSync(path).isDirectory();
  } catch {
    return false;
  }
}
