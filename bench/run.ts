/** `npm run bench`: runs every benchmark in bench/ in turn. */
import { execFileSync } from 'node:child_process';
import { readdirSync } from 'node:fs';
import { join } from 'node:path';

const dir = import.meta.dirname;
for (const file of readdirSync(dir)
  .filter((f) => f.endsWith('.ts') && f !== 'run.ts')
  .sort()) {
  console.log(`\n== ${file}`);
  execFileSync(process.execPath, ['--import', 'tsx', join(dir, file), ...process.argv.slice(2)], { stdio: 'inherit' });
}
