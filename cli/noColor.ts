/**
 * NO_COLOR (https://no-color.org): set and not empty, no colours. The terminal UIs draw with ink,
 * whose chalk reads FORCE_COLOR but not NO_COLOR, once, when it is loaded: so this module is the
 * CLI's first import. An explicit FORCE_COLOR still wins.
 */
const added =
  process.env.NO_COLOR !== undefined && process.env.NO_COLOR !== '' && process.env.FORCE_COLOR === undefined;
if (added) process.env.FORCE_COLOR = '0';

/**
 * The environment to start the MCP server with: ours as we were given it, without the FORCE_COLOR
 * set above (the proxy must not change what the server sees; it keeps NO_COLOR, its own to read).
 */
export function serverEnv(): NodeJS.ProcessEnv {
  if (!added) return process.env;
  const env = { ...process.env };
  delete env.FORCE_COLOR;
  return env;
}
