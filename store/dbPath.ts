import { homedir } from 'node:os';
import { isAbsolute, join } from 'node:path';

/** `--db` default (SPEC §1): $MCP_REPLAY_DB, else $XDG_DATA_HOME/mcp-replay, else ~/.local/share/mcp-replay. */
export function defaultDbPath(env: NodeJS.ProcessEnv = process.env): string {
  if (env.MCP_REPLAY_DB) return env.MCP_REPLAY_DB;
  // The XDG Base Directory spec: a relative path in XDG_DATA_HOME is invalid and ignored (it would
  // put the db wherever the agent host happened to start us).
  const xdg = env.XDG_DATA_HOME && isAbsolute(env.XDG_DATA_HOME) ? env.XDG_DATA_HOME : undefined;
  const base = xdg ?? join(homedir(), '.local', 'share');
  return join(base, 'mcp-replay', 'recordings.db');
}
