/**
 * A session's clock: the wall-clock start (whole ms, as the ISO `startedAt` stores it) and a
 * monotonic µs offset since then. A message's absolute time is `startedAtMs + t / 1000`, the
 * formula replay uses, so a recording carries the clock live decisions were made with.
 */
export class SessionClock {
  readonly startedAtMs: number;
  /** `performance.now()` at the start: monotonic, sub-µs, and read without allocating (hrtime.bigint allocates). */
  private readonly origin: number;
  private last = 0;

  constructor(nowMs: number = Date.now()) {
    this.startedAtMs = Math.floor(nowMs);
    this.origin = performance.now();
  }

  get startedAt(): string {
    return new Date(this.startedAtMs).toISOString();
  }

  /** µs since the start; never goes backwards. */
  micros(): number {
    const t = Math.floor((performance.now() - this.origin) * 1000);
    if (t > this.last) this.last = t;
    return this.last;
  }

  /** Absolute time in ms since the epoch of an offset `t` (µs). */
  at(t: number): number {
    return this.startedAtMs + t / 1000;
  }
}
