import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { isAbsolute, join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Command } from 'commander';
import { changeLine, diffRun, DiffSummary } from '../../replayer/diff.js';
import { dbSource } from '../../replayer/dbSource.js';
import { dryRun, ReplaySummary } from '../../replayer/dryRun.js';
import { timeline, timelineOrigin } from '../../replayer/timeline.js';
import { openStore } from '../../store/store.js';
import { loadPolicy, type CommonOptions } from '../common.js';
import { Output } from '../output.js';
import { Progress } from '../progress.js';
import { printDiffTable } from './diff.js';

const here = (path: string) => fileURLToPath(new URL(path, import.meta.url));
// Paths from dist/cli/commands/ (the demo runs the built CLI and the compiled demo server).
const CLI = here('../main.js');
const SERVER = here('../../fixtures/demo/server.js');
const SEED = here('../../../fixtures/policies/seed.json');
const STRICT = here('../../../fixtures/policies/strict.json');

export function registerDemo(program: Command): void {
  program
    .command('demo')
    .description(
      'the whole loop on bundled fixtures: record a scripted agent against a demo MCP server, ' +
        'replay it under two policies, print the diff',
    )
    .addHelpText(
      'after',
      `
Records into a new temporary db unless --db is given, and prints the commands to explore it.
Runs offline; the demo server (dist/fixtures/demo/server.js) has AWS-style tools
(invoke_agent_runtime, list_buckets, get_object, put_object, delete_bucket, ...).`,
    )
    .option('--db <file>', 'record into this db (default: a new temporary db, kept for the next commands)')
    .option('--json', 'the diff as JSON Lines on stdout (SPEC §5) instead of human output')
    .action(async (opts: CommonOptions) => {
      const db = opts.db ?? join(mkdtempSync(join(tmpdir(), 'mcp-replay-demo-')), 'demo.db');
      const name = `demo ${new Date().toISOString()}`;
      const say = (line: string) => process.stderr.write(`${line}\n`);

      say(`recording: demo-agent → mcp-replay record → demo MCP server (db ${db})`);
      const serverLog: string[] = [];
      // Loaded here: the MCP SDK client is for the demo only, not every command's start-up.
      const { runDemoAgent } = await import('../../fixtures/demo/agent.js');
      const run = await runDemoAgent(
        process.execPath,
        [CLI, 'record', '--db', db, '--name', name, '--', process.execPath, SERVER],
        (text: string) => serverLog.push(text),
      );
      const store = openStore(db, { mustExist: true });
      try {
        const recorded = store.listSessions().filter((s) => s.name === name);
        if (recorded.length !== 1) {
          throw new Error(`the recorder did not record the demo session:\n${serverLog.join('').trim()}`);
        }
        const session = recorded[0]!;
        const source = dbSource(store, session.id);
        const seed = loadPolicy(SEED);
        const strict = loadPolicy(STRICT);
        const [seedName, strictName] = [shown(SEED), shown(STRICT)];
        const out = new Output();

        if (opts.json) {
          const summary = new DiffSummary();
          for (const d of diffRun(seed, strict, timeline([source]))) if (summary.add(d)) out.json(changeLine(d));
          out.json(summary.toJSON());
          out.flush();
          return;
        }

        out.line(
          `1. recorded  session ${session.id}: ${session.messages} messages, ${session.calls} tool calls ` +
            `(${run.tools.length} tools listed) in ${db}`,
        );
        for (const [label, file, policy] of [
          ['2. replayed', seedName, seed],
          ['   replayed', strictName, strict],
        ] as const) {
          const s = new ReplaySummary(policy);
          for (const d of dryRun(policy, timeline([source]))) s.add(d);
          const t = s.total;
          out.line(
            `${label.padEnd(11)} under ${file}: ${t.allow} allow, ${t.deny} deny, ${t.throttle} throttle, ${t.approval} approval`,
          );
        }
        out.line(`3. diff      ${seedName} → ${strictName}, call by call:`);
        out.line('');
        await printDiffTable(
          diffRun(seed, strict, timeline([source])),
          new DiffSummary(),
          new Progress('calls', () => undefined, { enabled: false }),
          seedName,
          strictName,
          timelineOrigin([source]),
          { out },
        );
        const dbArg = opts.db === undefined ? `--db ${db}` : `--db ${opts.db}`;
        out.line('');
        out.line('Next:');
        out.line(`  npx mcp-replay sessions show ${dbArg} ${session.id}`);
        out.line(`  npx mcp-replay replay ${dbArg} --policy ${seedName} ${session.id}`);
        out.line(`  npx mcp-replay diff ${dbArg} --policy ${seedName} --policy ${strictName} ${session.id}`);
        out.line(`  npx mcp-replay record --db ${db} -- node ${shown(SERVER)}   # record your own agent's traffic`);
        out.flush();
      } finally {
        store.close();
      }
    });
}

/** A path as the user can type it from here: relative when under the current folder. */
function shown(path: string): string {
  const rel = relative(process.cwd(), path);
  return rel.startsWith('..') || isAbsolute(rel) ? path : rel;
}
