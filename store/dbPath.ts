import { homedir } from 'node:os';
import { join } from 'node:path';

/** `--db` default (SPEC §1): $MCP_REPLAY_DB, else $XDG_DATA_HOME/mcp-replay, else ~/.local/share/mcp-replay. */
export function defaultDbPath(env: NodeJS.ProcessEnv = process.env): string {
  if (env.MCP_REPLAY_DB) return env.MCP_REPLAY_DB;
  const base = env.XDG_DATA_HOME || join(homedir(), '.local', 'share');
  return join(base, 'mcp-replay', 'recordings.db');
}
