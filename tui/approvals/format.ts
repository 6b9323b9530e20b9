import stringWidth from 'string-width';
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
 * the human approves is what they read, not a cut of it. Past FULL_ARGS_LINES lines, or past
 * `rows` terminal lines of `width` columns (long lines wrap), it says how many more there are and
 * where to read them.
 */
export function argumentsInFull(args: unknown, { rows = Infinity, width = Infinity } = {}): string {
  // Split first: the only raw line breaks of indented JSON are its own (a string's are `\n`).
  const lines = (JSON.stringify(args, null, 2) ?? 'undefined').split('\n').map((l) => `  ${visible(l)}`);
  const tall = (l: string) => Math.max(1, Math.ceil(stringWidth(l) / Math.max(1, width)));
  // The "arguments:" line, then as many lines as fit (one kept for the "more" line if any are left).
  const room = Math.max(2, rows) - 1;
  let used = 0;
  let n = 0;
  while (n < lines.length && n < FULL_ARGS_LINES && used + tall(lines[n]!) <= room) used += tall(lines[n++]!);
  if (n > 0 && n < lines.length && used + 1 > room) used -= tall(lines[--n]!);
  const shown = lines.slice(0, Math.max(n, 0));
  if (n < lines.length) shown.push(`  … ${lines.length - n} more lines: mcp-replay approvals --json`);
  return `  arguments:\n${shown.join('\n')}`;
}
