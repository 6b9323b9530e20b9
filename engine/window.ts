const NAMED: Record<string, number> = {
  second: 1_000,
  minute: 60_000,
  hour: 3_600_000,
  day: 86_400_000,
};

const UNIT: Record<string, number> = { ms: 1, s: 1_000, m: 60_000, h: 3_600_000, d: 86_400_000 };

export const WINDOW_HINT = 'expected "second"|"minute"|"hour"|"day" or a duration like "30s", "5m", "2h"';

/** Parses a limit window ("minute", "30s", "1500ms") into milliseconds; undefined if invalid. */
export function parseWindow(text: string): number | undefined {
  const named = NAMED[text];
  if (named !== undefined) return named;
  const m = /^([1-9][0-9]*)(ms|s|m|h|d)$/.exec(text);
  if (!m) return undefined;
  const ms = Number(m[1]) * (UNIT[m[2]!] ?? NaN);
  return Number.isSafeInteger(ms) ? ms : undefined;
}

/** "minute", "30s" → a phrase for reasons: "per minute", "per 30s". */
export function describeWindow(ms: number): string {
  for (const [name, v] of Object.entries(NAMED)) if (v === ms) return name;
  for (const [unit, v] of Object.entries(UNIT).reverse()) if (ms % v === 0) return `${ms / v}${unit}`;
  return `${ms}ms`;
}
