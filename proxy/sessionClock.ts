/**
 * A session's clock: the wall-clock start (whole ms, as the ISO `startedAt` stores it) and a
 * monotonic µs offset since then. A message's absolute time is `startedAtMs + t / 1000`, the
 * formula replay uses, so a recording carries the clock live decisions were made with.
 */
export class SessionClock {
  readonly startedAtMs: number;
  private readonly origin: bigint;
  private last = 0;

  constructor(nowMs: number = Date.now()) {
    this.startedAtMs = Math.floor(nowMs);
    this.origin = process.hrtime.bigint();
  }

  get startedAt(): string {
    return new Date(this.startedAtMs).toISOString();
  }

  /** µs since the start; never goes backwards. */
  micros(): number {
    const t = Number((process.hrtime.bigint() - this.origin) / 1000n);
    if (t > this.last) this.last = t;
    return this.last;
  }

  /** Absolute time in ms since the epoch of an offset `t` (µs). */
  at(t: number): number {
    return this.startedAtMs + t / 1000;
  }
}
