import type { Command } from 'commander';
import { compilePolicy, formatProblem } from '../../engine/compilePolicy.js';
import { Output } from '../output.js';
import { readText, withCommon, type CommonOptions } from '../common.js';

export function registerPolicy(program: Command): void {
  const policy = program.command('policy').description('validate and inspect policy files');
  withCommon(
    policy
      .command('check')
      .description('validate a policy file; every error names its line and JSON path')
      .argument('<file>', 'policy JSON file'),
  ).action((file: string, opts: CommonOptions) => {
    const out = new Output();
    const result = compilePolicy(readText(file));
    if (opts.json) {
      if (result.ok) {
        out.json({
          type: 'policy',
          file,
          ok: true,
          sha256: result.policy.sha256,
          default: result.policy.default,
          rules: result.policy.rules.length,
          warnings: result.warnings,
        });
      } else out.json({ type: 'policy', file, ok: false, errors: result.errors });
      out.flush();
    } else if (result.ok) {
      for (const w of result.warnings) process.stderr.write(`warning: ${formatProblem(file, w)}\n`);
      const p = result.policy;
      out.line(
        `${file}: ok — ${p.rules.length} rule${p.rules.length === 1 ? '' : 's'}, default ${p.default}` +
          `${p.hide.length ? `, ${p.hide.length} hidden` : ''}, sha256 ${p.sha256.slice(0, 12)}`,
      );
      out.flush();
    } else {
      for (const e of result.errors) process.stderr.write(`${formatProblem(file, e)}\n`);
    }
    if (!result.ok) process.exitCode = 2;
  });
}
