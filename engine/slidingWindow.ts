import type { Limiter } from './types.js';

export interface LimiterRetention {
  /**
   * Keep every allowed time at least this long (ms), whatever the windows asked: a policy
   * reloaded with a wider window (up to this long) then still counts the calls made before the
   * reload. Default 0: only as long as the longest window asked of the key (a fixed policy).
   */
  retainMs?: number;
}

interface Timeline {
  /** Times of allowed calls, ascending; entries before `head` are expired. */
  times: number[];
  head: number;
  /** Longest window any limit asked of this key: how long times must be kept. */
  keepMs: number;
}

/**
 * In-memory exact sliding-window limiter: a call at `now` fits when fewer than `max` allowed
 * calls lie in (now - window, now]. Then no half-open interval of length `window` ever holds
 * more than `max` allowed calls. Calls are expected in non-decreasing time per key (a merged
 * timeline); an earlier time is still answered exactly from what is kept, unless its key was
 * dropped: a key none of whose times a window can reach from the latest time seen (on any key)
 * is forgotten, so a replay of many distinct keys (sessions, grants) holds only the live ones.
 */
export class MemoryLimiter implements Limiter {
  private readonly keys = new Map<string, Timeline>();
  private readonly retainMs: number;
  /** The latest time seen on any key: what expiry of whole keys is relative to. */
  private latest = -Infinity;
  /** Key count at which the next sweep of expired keys runs (twice the live ones: O(1) per key). */
  private sweepAt = SWEEP_MIN;

  constructor(options: LimiterRetention = {}) {
    this.retainMs = options.retainMs ?? 0;
  }

  wait(key: string, windowMs: number, max: number, now: number): number {
    if (max <= 0) return Infinity;
    if (now > this.latest) this.latest = now;
    const tl = this.keys.get(key);
    if (!tl) {
      // Note the window all the same: a later record() with a shorter one must not forget
      // calls this window still reaches (limits of several tools sharing one counter).
      this.add(key, windowMs);
      return 0;
    }
    if (windowMs > tl.keepMs) tl.keepMs = windowMs;
    const { times } = tl;
    // Index one past the last time ≤ now (usually the end).
    let end = times.length;
    if (end > tl.head && times[end - 1]! > now) end = upperBound(times, tl.head, end, now);
    const inWindowFrom = end - max; // the max-th most recent call at or before now
    if (inWindowFrom < tl.head) return 0;
    const oldest = times[inWindowFrom]!;
    return oldest > now - windowMs ? oldest + windowMs - now : 0;
  }

  record(key: string, now: number, windowMs: number): void {
    if (now > this.latest) this.latest = now;
    const tl = this.keys.get(key) ?? this.add(key, windowMs);
    if (windowMs > tl.keepMs) tl.keepMs = windowMs;
    const { times } = tl;
    if (times.length === tl.head || times[times.length - 1]! <= now) times.push(now);
    else times.splice(upperBound(times, tl.head, times.length, now), 0, now);
    // Forget what no window can reach any more (only safe relative to the newest time).
    const horizon = times[times.length - 1]! - tl.keepMs;
    while (tl.head < times.length && times[tl.head]! <= horizon) tl.head++;
    if (tl.head > 1024 && tl.head * 2 > times.length) {
      tl.times = times.slice(tl.head);
      tl.head = 0;
    }
  }

  atomically<T>(fn: () => T): T {
    return fn();
  }

  private add(key: string, windowMs: number): Timeline {
    if (this.keys.size >= this.sweepAt) this.sweep();
    const tl: Timeline = { times: [], head: 0, keepMs: Math.max(windowMs, this.retainMs) };
    this.keys.set(key, tl);
    return tl;
  }

  /**
   * Drops the keys whose every time is out of reach: the newest is `keepMs` or more before the
   * latest time seen, so every window from now on answers 0 for them, as for an unknown key.
   * (A key noted by `wait` with no time yet goes too: `record` is given its window again.)
   */
  private sweep(): void {
    for (const [key, tl] of this.keys) {
      const n = tl.times.length;
      if (n === tl.head || tl.times[n - 1]! <= this.latest - tl.keepMs) this.keys.delete(key);
    }
    this.sweepAt = Math.max(SWEEP_MIN, this.keys.size * 2);
  }

  /** Number of keys tracked (for tests and memory checks). */
  get size(): number {
    return this.keys.size;
  }
}

const SWEEP_MIN = 1024;

function upperBound(a: readonly number[], lo: number, hi: number, x: number): number {
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if (a[mid]! <= x) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}
