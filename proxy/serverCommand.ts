import { accessSync, constants, statSync } from 'node:fs';
import { delimiter, join } from 'node:path';

/**
 * Why the server command cannot be run, or undefined if it can: checked before anything is
 * recorded, so that a typo in a host's config is a one-line usage error (exit 2) rather than an
 * empty session and a bare ENOENT. It looks where the spawn will (a name with a slash as it is,
 * else every PATH entry, an empty one being the current folder); Windows resolves commands
 * otherwise (PATHEXT), so there the spawn alone decides.
 */
export function whyServerCannotRun(command: string, env: NodeJS.ProcessEnv = process.env): string | undefined {
  if (process.platform === 'win32') return undefined;
  if (command.includes('/')) return whyNotExecutable(command);
  const dirs = (env.PATH ?? '/usr/bin:/bin').split(delimiter);
  if (dirs.some((dir) => whyNotExecutable(join(dir || '.', command)) === undefined)) return undefined;
  return 'not found on PATH';
}

function whyNotExecutable(file: string): string | undefined {
  let isFile: boolean;
  try {
    isFile = statSync(file).isFile();
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    return code === 'ENOENT' || code === 'ENOTDIR' ? 'no such file' : `cannot read it (${code})`;
  }
  if (!isFile) return 'is a directory, not a program';
  try {
    accessSync(file, constants.X_OK);
    return undefined;
  } catch {
    return 'is not executable (chmod +x it, or name its interpreter: -- node FILE)';
  }
}
