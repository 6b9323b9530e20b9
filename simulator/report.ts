import { DECISIONS } from '../engine/types.js';
import { table, visibleName } from '../engine/visible.js';
import type { Counterexample, Counts, SimulationReport } from './simulate.js';
import type { SimPolicy } from './types.js';

export interface ReportContext {
  policies: readonly SimPolicy[];
  /** The command that reproduces a counterexample, without `--seed`/`--path` (e.g. `mcp-replay simulate --policy p.json`). */
  command: string;
  /** Where the tools came from, one line (e.g. `3 tools from tools.json`). */
  catalog: string;
}

const pct = (n: number, of: number) => (of === 0 ? '-' : `${((100 * n) / of).toFixed(1)}%`);
const share = (n: number, of: number) => (of === 0 ? 0 : Math.round((n / of) * 10_000) / 10_000);

/** The human report: header, outcome shares per tool, properties, each counterexample with how to reproduce it. */
export function humanReport(report: SimulationReport, ctx: ReportContext): string[] {
  const out: string[] = [];
  const how = report.path === undefined ? `seed ${report.seed}` : `seed ${report.seed}, path ${report.path}`;
  out.push(`simulate: ${how}; ${ctx.catalog}`);
  out.push(
    `tried ${report.streams} stream${report.streams === 1 ? '' : 's'} (${report.calls} call${report.calls === 1 ? '' : 's'}) ` +
      `against ${report.properties.length} propert${report.properties.length === 1 ? 'y' : 'ies'}`,
  );
  report.byTool.forEach((tools, p) => {
    out.push('');
    out.push(`outcome shares under ${ctx.policies[p]!.name} (generated traffic):`);
    // Name variants (case, look-alikes, padding) are one row, plus any one a policy does not deny.
    const variants = { calls: 0, allow: 0, deny: 0, throttle: 0, approval: 0 };
    let variantNames = 0;
    const rows: string[][] = [];
    const rowOf = (name: string, c: Counts) => [name, String(c.calls), ...DECISIONS.map((d) => pct(c[d], c.calls))];
    for (const [tool, c] of tools) {
      if (!report.variants.has(tool)) rows.push(rowOf(printable(tool), c));
      else {
        variantNames++;
        for (const k of ['calls', ...DECISIONS] as const) variants[k] += c[k];
        if (c.deny < c.calls) rows.push(rowOf(`${printable(tool)} (variant)`, c));
      }
    }
    if (variantNames > 0) rows.push(rowOf(`(${variantNames} name variants: case, look-alike, padding)`, variants));
    out.push(...table(['TOOL', 'CALLS', 'ALLOW', 'DENY', 'THROTTLE', 'APPROVAL'], rows));
  });
  out.push('');
  out.push('properties:');
  for (const p of report.properties) {
    // An expectation no generated call matched held vacuously: it was not tested, and says so.
    // So did one whose bound no stream is long enough to break.
    const untested = p.ok && (p.calls === 0 || p.untested !== undefined);
    const why = p.untested ?? 'no generated call matched it';
    out.push(
      `  ${untested ? '----' : p.ok ? 'ok  ' : 'FAIL'}  ${p.id}: ${p.description}${untested ? ` (untested: ${why})` : ''}`,
    );
  }
  for (const cx of report.counterexamples) {
    out.push('');
    out.push(...humanCounterexample(cx, ctx));
  }
  out.push('');
  const failed = report.counterexamples.length;
  out.push(
    failed === 0
      ? `no violation in ${report.streams} streams (${report.calls} calls)`
      : `${failed} propert${failed === 1 ? 'y' : 'ies'} violated`,
  );
  return out;
}

function humanCounterexample(cx: Counterexample, ctx: ReportContext): string[] {
  const out = [
    `counterexample for ${cx.property} (${cx.description}): ${cx.message}`,
    `shrunk to ${cx.calls.length} call${cx.calls.length === 1 ? '' : 's'}:`,
  ];
  const two = cx.decisions.length > 1;
  const header = ['', 'TIME', 'SESSION', 'GRANT', 'TOOL', ...(two ? ['A', 'B'] : ['DECISION']), 'ARGS'];
  const highlight = new Set(cx.highlight);
  const rows = cx.calls.map((c, i) => [
    highlight.has(i) ? '>' : ' ',
    `+${(c.at / 1000).toFixed(3)}s`,
    c.session,
    c.grant,
    printable(c.tool),
    ...cx.decisions.map((ds) => ds[i]!.decision),
    shortJson(c.args),
  ]);
  out.push(...table(header, rows).map((l) => `  ${l}`));
  out.push(`reproduce: ${ctx.command} --seed ${cx.seed} --path ${cx.path}`);
  return out;
}

/** `--json`: one `counterexample` line per violated property, then the summary (SPEC §5). */
export function jsonReport(report: SimulationReport, ctx: ReportContext): unknown[] {
  const lines: unknown[] = report.counterexamples.map((cx) => ({
    type: 'counterexample',
    property: cx.property,
    description: cx.description,
    message: cx.message,
    seed: cx.seed,
    path: cx.path,
    calls: cx.calls.map((c, i) => {
      const line: Record<string, unknown> = {
        at: c.at,
        session: c.session,
        grant: c.grant,
        tool: c.tool,
        args: c.args,
      };
      if (cx.decisions.length === 1) Object.assign(line, cx.decisions[0]![i]);
      else {
        line.a = cx.decisions[0]![i];
        line.b = cx.decisions[1]![i];
      }
      return line;
    }),
  }));
  const byTool = (tools: Map<string, Counts>) =>
    Object.fromEntries(
      [...tools].map(([tool, c]) => [
        tool,
        { ...c, shares: Object.fromEntries(DECISIONS.map((d) => [d, share(c[d], c.calls)])) },
      ]),
    );
  lines.push({
    type: 'summary',
    seed: report.seed,
    ...(report.path === undefined ? {} : { path: report.path }),
    streams: report.streams,
    calls: report.calls,
    violations: report.counterexamples.length,
    properties: report.properties,
    byTool: byTool(report.byTool[0]!),
    policies: report.byTool.map((tools, p) => ({
      file: ctx.policies[p]!.name,
      sha256: ctx.policies[p]!.policy.sha256,
      byTool: byTool(tools),
    })),
  });
  return lines;
}

/**
 * Shows invisible and look-alike characters: non-ASCII and control characters as \u escapes; a
 * name with spaces or escapes is quoted.
 */
export function printable(text: string): string {
  return /^[\x21-\x7e]+$/.test(text) ? text : `"${visibleName(text)}"`;
}

/** Arguments as JSON, long strings cut (`"AAAA...(10000 chars)"`), non-ASCII escaped. */
function shortJson(args: unknown): string {
  const json = JSON.stringify(args, (_k, v: unknown) =>
    typeof v === 'string' && v.length > 48 ? `${v.slice(0, 40)}...(${v.length} chars)` : v,
  );
  return visibleName(json ?? 'undefined');
}
