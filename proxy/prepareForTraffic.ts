import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';

/**
 * V8's interrupt budget (bytes of a function's bytecode run between its looks at whether to
 * optimize it) for a proxy process: 2,000 instead of V8's 67,584. A proxy runs a few hundred bytes
 * of bytecode per function per message, so with V8's default its per-message code stays in the
 * interpreter and the baseline tier for the first thousand or so messages of a session, which for
 * most MCP sessions is all of them.
 */
export const PROXY_INTERRUPT_BUDGET = 2000;

/**
 * Readies this process to carry a session's traffic, once the command has parsed its options and
 * just before the proxy starts (see decisions/proxy-startup.md):
 * - hot code is optimized after tens of messages, not a thousand (PROXY_INTERRUPT_BUDGET; the
 *   functions that already ran at startup keep their budgets until their next check);
 * - the garbage of startup (loading modules, compiling the policy) is collected now, in one full
 *   collection of ~10 ms before the server is even spawned, instead of in the 5–10 ms pause of the
 *   major collection that it otherwise triggers in the session's first second, with calls waiting.
 *
 * Measured here (`bench/proxy.ts`, 50 warm-up calls): the proxy's own time per hop halves
 * (≈50 → ≈28 µs), its CPU per call drops by a third, and `record` goes from ≈1.35× to ≈1.05× the
 * byte pipe's sequential round trip. Long sessions end up with the same optimized code either way.
 */
export function prepareForTraffic(): void {
  try {
    setFlagsFromString(`--interrupt-budget=${PROXY_INTERRUPT_BUDGET}`);
    // `gc` exists only in contexts made after `--expose-gc`: a fresh one lends it (ours is unchanged).
    setFlagsFromString('--expose-gc');
    const gc: unknown = runInNewContext('gc');
    if (typeof gc === 'function') gc();
  } catch {
    // Tuning only: where V8 refuses it, the proxy runs as it is.
  }
}
