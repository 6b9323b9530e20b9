/**
 * Buffered stdout for large outputs (a line per call): writes in 64 KiB chunks, and a closed
 * pipe (`| head`) ends the output quietly instead of failing. A loop that writes many lines
 * checks `full` and awaits `drained()` (a reader slower than the loop, `| gzip`, `| less`: the
 * stream would otherwise hold everything not yet read), and stops when `done` (the reader is
 * gone: nothing more can be shown).
 */
export class Output {
  private buf = '';
  private closed = false;
  private failed: Error | undefined;
  private waiting = false;
  private wake: (() => void) | undefined;

  constructor(private readonly stream: NodeJS.WriteStream = process.stdout) {
    // Either way nothing more can be written: EPIPE ends the output quietly, another error
    // (ENOSPC) is thrown by the next flush (an event handler's throw would print a stack trace).
    stream.on('error', (err: NodeJS.ErrnoException) => {
      if (err.code !== 'EPIPE') this.failed ??= err;
      this.closed = true;
      this.woken();
    });
    stream.on('drain', () => this.woken());
    stream.on('close', () => {
      this.closed = true;
      this.woken();
    });
  }

  /** The reader is gone (EPIPE) or the stream closed: what is written from now on is dropped. */
  get done(): boolean {
    return this.closed || this.stream.destroyed;
  }

  /** The stream holds more than its buffer: await `drained()` before writing more. */
  get full(): boolean {
    return this.waiting && !this.done;
  }

  /** Resolves when the stream has taken what it holds, or the reader is gone. */
  drained(): Promise<void> {
    if (!this.full) return Promise.resolve();
    return new Promise((resolve) => {
      const previous = this.wake;
      this.wake = () => {
        previous?.();
        resolve();
      };
    });
  }

  line(text: string): void {
    if (this.done) return;
    this.buf += text + '\n';
    if (this.buf.length >= 65536) this.flush();
  }

  json(value: unknown): void {
    this.line(toJson(value));
  }

  flush(): void {
    if (this.failed) throw new Error(`cannot write the output: ${this.failed.message}`);
    if (this.buf.length === 0 || this.done) return;
    if (!this.stream.write(this.buf)) this.waiting = true;
    this.buf = '';
  }

  private woken(): void {
    this.waiting = false;
    const wake = this.wake;
    this.wake = undefined;
    wake?.();
  }
}

/** Nesting beyond which `toJson` writes a marker: a recorded call may nest deeper than the stack. */
const MAX_JSON_DEPTH = 500;

/**
 * `JSON.stringify`, except that a value nested deeper than the stack allows (a recorded call
 * thousands of levels deep) is written with `"[nested too deep]"` below 500 levels, instead of
 * failing the whole command.
 */
export function toJson(value: unknown): string {
  try {
    return JSON.stringify(value);
  } catch (err) {
    if (!(err instanceof RangeError)) throw err;
  }
  const depth = new WeakMap<object, number>();
  return JSON.stringify(value, function (this: unknown, _key, v: unknown) {
    const d = typeof this === 'object' && this !== null ? (depth.get(this) ?? 0) : 0;
    if (typeof v !== 'object' || v === null) return v;
    if (d >= MAX_JSON_DEPTH) return '[nested too deep]';
    depth.set(v, d + 1);
    return v;
  });
}
