import stringWidth from 'string-width';
import type { Decision } from '../../engine/types.js';
import { visible } from '../../engine/visible.js';
import type { Side } from './model.js';

export const DECISION_COLOR: Record<Decision, string> = {
  allow: 'green',
  deny: 'red',
  throttle: 'yellow',
  approval: 'cyan',
};

/** `+12.345s` relative to the timeline's origin (its earliest session's start). */
export function relTime(atMs: number, originMs: number): string {
  return `+${((atMs - originMs) / 1000).toFixed(3)}s`;
}

export function describeSide(s: Side): string {
  return s.retryAfterMs !== undefined ? `${s.reason}; retry after ${s.retryAfterMs} ms` : s.reason;
}

/**
 * Recorded text as the terminal shows it: controls, zero-width and bidi characters as `\uXXXX`
 * escapes (a tool name or reason from a recording must not move the cursor, recolour the screen
 * or reorder what is read), like the approvals list.
 */
export function shown(text: string): string {
  return visible(text);
}

const graphemes = new Intl.Segmenter();

/** `text` escaped, cut (with `…`) or padded to exactly `width` terminal cells (CJK and emoji take two). */
export function fit(text: string, width: number): string {
  if (width <= 0) return '';
  const t = visible(text);
  const w = stringWidth(t);
  if (w <= width) return t + ' '.repeat(width - w);
  let out = '';
  let used = 0;
  for (const { segment } of graphemes.segment(t)) {
    const sw = stringWidth(segment);
    if (used + sw > width - 1) break;
    out += segment;
    used += sw;
  }
  return out + '…' + ' '.repeat(width - 1 - used);
}
