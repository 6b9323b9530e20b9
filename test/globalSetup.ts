import { execFileSync } from 'node:child_process';
import { existsSync, statSync, readdirSync } from 'node:fs';
import { join } from 'node:path';

/**
 * e2e tests run the built CLI (`dist/cli/main.js`), as a user does. Rebuild first when any
 * source file is newer than the build, so `npm test` after an edit never tests stale code.
 */
export default function setup(): void {
  const root = join(import.meta.dirname, '..');
  const bin = join(root, 'dist/cli/main.js');
  const built = existsSync(bin) ? statSync(bin).mtimeMs : 0;
  const folders = ['cli', 'engine', 'store', 'proxy', 'recorder', 'replayer', 'simulator', 'tui', 'fixtures'];
  const newest = Math.max(0, ...folders.map((f) => newestMtime(join(root, f))));
  if (newest > built) execFileSync('npm', ['run', 'build', '--silent'], { cwd: root, stdio: 'inherit' });
}

function newestMtime(dir: string): number {
  if (!existsSync(dir)) return 0;
  let newest = 0;
  for (const e of readdirSync(dir, { withFileTypes: true })) {
    const p = join(dir, e.name);
    newest = Math.max(newest, e.isDirectory() ? newestMtime(p) : statSync(p).mtimeMs);
  }
  return newest;
}
