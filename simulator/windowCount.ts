/**
 * The independent check of every sliding-window bound (limits and `atMost` expectations): given
 * the ascending times of the calls a window counts, finds an interval (t - window, t] holding
 * more than `max` of them. Returns the indexes of the calls in the first such interval, or
 * undefined. Deliberately written apart from the engine's limiter: a two-pointer scan.
 */
export function overfullWindow(
  times: readonly number[],
  windowMs: number,
  max: number,
  /** Only windows that end at these positions count (default: all). */
  endsAt: (hi: number) => boolean = () => true,
): number[] | undefined {
  let lo = 0;
  for (let hi = 0; hi < times.length; hi++) {
    while (times[lo]! <= times[hi]! - windowMs) lo++;
    if (hi - lo + 1 > max && endsAt(hi)) return Array.from({ length: hi - lo + 1 }, (_, k) => lo + k);
  }
  return undefined;
}
