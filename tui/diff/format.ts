import type { Decision } from '../../engine/types.js';
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

export function fit(text: string, width: number): string {
  if (width <= 0) return '';
  return text.length > width ? text.slice(0, Math.max(0, width - 1)) + '…' : text.padEnd(width);
}
