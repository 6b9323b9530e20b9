import { visible } from '../../engine/visible.js';

/** Text helpers of the approvals list (shared by the TUI and the plain listing). */

/** `12s`, `4m`, `3h`, `2d`: how long ago, or how long left. */
export function shortDuration(ms: number): string {
  const s = Math.max(0, Math.floor(ms / 1000));
  if (s < 60) return `${s}s`;
  if (s < 3600) return `${Math.floor(s / 60)}m`;
  if (s < 86400) return `${Math.floor(s / 3600)}h`;
  return `${Math.floor(s / 86400)}d`;
}

/**
 * The arguments as one line of JSON, cut to `width` characters (the TUI's list; the selected
 * call's are shown in full under it, see argumentsInFull). Characters that would hide or
 * reorder text (bidi overrides, zero-width, C1 controls, line separators) show as escapes: the
 * human approving the call reads what it does.
 */
export function argsSummary(args: unknown, width = 40): string {
  const flat = visible(JSON.stringify(args) ?? 'undefined');
  return flat.length <= width ? flat : flat.slice(0, width - 1) + '…';
}

/** Lines of a call's arguments shown in full under the list, at most (more: `approvals --json`). */
const FULL_ARGS_LINES = 40;

/**
 * The selected call's arguments in full, indented JSON with the same escapes as the list: what
 * the human approves is what they read, not a cut of it. Past FULL_ARGS_LINES lines it says
 * how many more there are and where to read them.
 */
export function argumentsInFull(args: unknown): string {
  // Split first: the only raw line breaks of indented JSON are its own (a string's are `\n`).
  const lines = (JSON.stringify(args, null, 2) ?? 'undefined').split('\n').map(visible);
  const shown = lines.slice(0, FULL_ARGS_LINES).map((l) => `  ${l}`);
  if (lines.length > FULL_ARGS_LINES)
    shown.push(`  … ${lines.length - FULL_ARGS_LINES} more lines: mcp-replay approvals --json`);
  return `  arguments:\n${shown.join('\n')}`;
}
