import { statSync } from 'node:fs';
import type { SessionSource } from '../replayer/source.js';
import type { ReplayMessage, SessionRecord } from '../store/types.js';

export interface ProgressOptions {
  stream?: NodeJS.WriteStream;
  /** Show nothing before this much time has passed (default 1 s): short runs stay quiet. */
  delayMs?: number;
  /** Default: the stream is a TTY and `CI` is not set. */
  enabled?: boolean;
  now?: () => number;
}

const BAR = 24;

/**
 * Whether a command should draw a bar: stderr is a terminal, not CI, and stdout is not that
 * terminal too while it streams lines (they would tear the bar; streaming lines show progress anyway).
 */
export function progressWanted(streamsToStdout: boolean): boolean {
  return process.stderr.isTTY === true && !process.env.CI && !(streamsToStdout && process.stdout.isTTY === true);
}
const CHECK_EVERY = 1024;

/**
 * A progress bar on stderr for long synchronous loops: `tick()` once per unit of work, and it
 * looks at the clock only every 1024 ticks, draws at most 10 times a second, and only after the
 * work has taken longer than about a second. `fraction` says how far the input has been read
 * (undefined when unknown: then a count and a rate, no bar). `done()` erases it.
 */
export class Progress {
  private count = 0;
  private next = CHECK_EVERY;
  private drawn = false;
  private lastDraw = 0;
  private readonly start: number;
  private readonly stream: NodeJS.WriteStream;
  private readonly enabled: boolean;
  private readonly delayMs: number;
  private readonly now: () => number;

  constructor(
    private readonly label: string,
    private readonly fraction: () => number | undefined,
    options: ProgressOptions = {},
  ) {
    this.stream = options.stream ?? process.stderr;
    this.enabled = options.enabled ?? (this.stream.isTTY === true && !process.env.CI);
    this.delayMs = options.delayMs ?? 1000;
    this.now = options.now ?? Date.now;
    this.start = this.now();
  }

  tick(): void {
    if (++this.count < this.next) return;
    this.next = this.count + CHECK_EVERY;
    if (!this.enabled) return;
    const now = this.now();
    if (now - this.start < this.delayMs || now - this.lastDraw < 100) return;
    this.lastDraw = now;
    this.draw(now);
  }

  done(): void {
    if (this.drawn) this.stream.write('\r\x1b[2K');
    this.drawn = false;
  }

  /** The line as drawn (exported for tests). */
  line(now = this.now()): string {
    const secs = Math.max(0.001, (now - this.start) / 1000);
    const rate = `${formatCount(this.count / secs)}/s`;
    const f = this.fraction();
    const counted = `${this.count.toLocaleString('en-US')} ${this.label}`;
    if (f === undefined) return `${counted}  ${rate}`;
    const p = Math.max(0, Math.min(1, f));
    const full = Math.round(p * BAR);
    return `[${'#'.repeat(full)}${'-'.repeat(BAR - full)}] ${(p * 100).toFixed(0).padStart(3)}%  ${counted}  ${rate}`;
  }

  private draw(now: number): void {
    const columns = this.stream.columns || 80;
    this.stream.write(`\r${this.line(now).slice(0, columns - 1)}\x1b[K`);
    this.drawn = true;
  }
}

function formatCount(n: number): string {
  return n >= 1e6 ? `${(n / 1e6).toFixed(1)}M` : n >= 1e3 ? `${(n / 1e3).toFixed(0)}k` : n.toFixed(0);
}

/**
 * Wraps sources so their reading can be measured: a db session by the `seq` read out of its
 * last one (asked of the db when the session is first read: nothing is counted up front, over
 * a db of 100,000 sessions); a JSONL file by the bytes of the records read (each record's text
 * plus its line's envelope) out of the file's size. The fraction is the mean over the sources.
 */
export function measuredSources(sources: readonly SessionSource[]): {
  sources: SessionSource[];
  fraction: () => number;
} {
  const parts = sources.map(() => ({ total: undefined as number | undefined, done: 0, ended: false }));
  const wrapped = sources.map((s, i): SessionSource => {
    const part = parts[i]!;
    const measured = function* (records: Iterable<SessionRecord>) {
      part.total ??= fileSize(s.origin);
      for (const r of records) {
        part.done += r.type === 'message' ? r.raw.length + 50 : 60;
        yield r;
      }
      part.ended = true;
    };
    // A db session: by seq, out of its last (whatever its messages are: calls, answers, events).
    const replayed = function* (messages: Iterable<ReplayMessage>) {
      for (const m of messages) {
        part.total ??= s.lastSeq?.() ?? 0;
        part.done = m.seq;
        yield m;
      }
      part.ended = true;
    };
    const replayMessages = s.replayMessages?.bind(s);
    return {
      ...s,
      records: () => measured(s.records()),
      ...(replayMessages ? { replayMessages: () => replayed(replayMessages()) } : {}),
    };
  });
  return {
    fraction: () =>
      parts.length === 0
        ? 1
        : parts.reduce((sum, p) => sum + (p.ended ? 1 : p.total ? Math.min(1, p.done / p.total) : 0), 0) / parts.length,
    sources: wrapped,
  };
}

function fileSize(file: string): number {
  try {
    return statSync(file).size;
  } catch {
    return 0;
  }
}
