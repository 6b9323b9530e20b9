/**
 * Buffered stdout for large outputs (a line per call): writes in 64 KiB chunks, and a closed
 * pipe (`| head`) ends the output quietly instead of failing.
 */
export class Output {
  private buf = '';
  private closed = false;

  constructor(private readonly stream: NodeJS.WriteStream = process.stdout) {
    stream.on('error', (err: NodeJS.ErrnoException) => {
      if (err.code === 'EPIPE') this.closed = true;
      else throw err;
    });
  }

  line(text: string): void {
    if (this.closed) return;
    this.buf += text + '\n';
    if (this.buf.length >= 65536) this.flush();
  }

  json(value: unknown): void {
    this.line(toJson(value));
  }

  flush(): void {
    if (this.buf.length === 0 || this.closed) return;
    this.stream.write(this.buf);
    this.buf = '';
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
