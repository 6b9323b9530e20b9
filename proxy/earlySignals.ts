import { FORWARDED_SIGNALS } from './stdioProxy.js';

export interface EarlySignals {
  /** The first signal that came, if one did. */
  first(): NodeJS.Signals | undefined;
  /** Stops listening (the proxy's own handlers have taken over). */
  release(): void;
}

/**
 * Holds SIGINT/SIGTERM/SIGHUP from the moment a session is started until the proxy forwards them
 * to the server: without a listener a signal kills Node outright, and a host that restarts us
 * just after starting us (Cursor, Claude Desktop) left a session without an end. A signal held
 * here stops the proxy before it starts the server (runStdioProxy's `stoppedBy`).
 */
export function holdEarlySignals(): EarlySignals {
  let first: NodeJS.Signals | undefined;
  const hold = (signal: NodeJS.Signals) => {
    first ??= signal;
  };
  for (const s of FORWARDED_SIGNALS) process.on(s, hold);
  return {
    first: () => first,
    release: () => {
      for (const s of FORWARDED_SIGNALS) process.off(s, hold);
    },
  };
}
