import { writeFileSync } from 'node:fs';
import { join } from 'node:path';

/**
 * Writes the benches' gateway policy into `dir` and returns its path: limits on the hot path
 * (never reached: every call is allowed and counted), a per-grant one on `echo` and a global one.
 */
export function writeBenchPolicy(dir: string): string {
  const file = join(dir, 'policy.json');
  writeFileSync(
    file,
    JSON.stringify({
      version: '1',
      default: 'deny',
      tools: { echo: { limits: [{ window: 'minute', max: 1_000_000, scope: 'grant' }] } },
      all_tools: { limits: [{ window: 'second', max: 100_000, scope: 'global' }] },
    }),
  );
  return file;
}
