import { homedir, userInfo } from 'node:os';
import { isAbsolute, join } from 'node:path';

/** `--db` default (SPEC §1): $MCP_REPLAY_DB, else $XDG_DATA_HOME/mcp-replay, else ~/.local/share/mcp-replay. */
export function defaultDbPath(env: NodeJS.ProcessEnv = process.env): string {
  if (env.MCP_REPLAY_DB) return env.MCP_REPLAY_DB;
  // The XDG Base Directory spec: a relative path in XDG_DATA_HOME is invalid and ignored (it would
  // put the db wherever the agent host happened to start us).
  const xdg = env.XDG_DATA_HOME && isAbsolute(env.XDG_DATA_HOME) ? env.XDG_DATA_HOME : undefined;
  const base = xdg ?? join(homeFolder(env), '.local', 'share');
  return join(base, 'mcp-replay', 'recordings.db');
}

/**
 * `~`: $HOME, or where it is unset, empty or relative (a host's minimal environment), the home
 * folder of the user's account: Node's homedir() returns such a HOME as it is, and an empty or
 * relative one put the db under whatever folder the host started us in.
 */
function homeFolder(env: NodeJS.ProcessEnv): string {
  if (process.platform === 'win32') return homedir();
  if (env.HOME && isAbsolute(env.HOME)) return env.HOME;
  try {
    return userInfo().homedir;
  } catch {
    return homedir(); // no account entry (a container's arbitrary uid): as before
  }
}
