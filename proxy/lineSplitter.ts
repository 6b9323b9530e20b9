/**
 * Splits a byte stream into newline-terminated lines, the MCP stdio framing (the SDK's
 * `ReadBuffer`: a message is the bytes up to `\n`, a trailing `\r` stripped). Lines keep their
 * exact bytes, terminator included, so a pass-through forwards what it received.
 */
export class LineSplitter {
  private rest: Buffer | undefined;

  /** The complete lines `chunk` finishes (each ending in `\n`); a partial tail is kept. */
  push(chunk: Buffer): Buffer[] {
    // The common case (one message per read): the chunk itself, no Buffer made for a slice of it.
    if (!this.rest && chunk.length > 0 && chunk.indexOf(10) === chunk.length - 1) return [chunk];
    const buf = this.rest ? Buffer.concat([this.rest, chunk]) : chunk;
    const lines: Buffer[] = [];
    let start = 0;
    for (let nl = buf.indexOf(10); nl !== -1; nl = buf.indexOf(10, start)) {
      lines.push(buf.subarray(start, nl + 1));
      start = nl + 1;
    }
    this.rest = start < buf.length ? buf.subarray(start) : undefined;
    return lines;
  }

  /** Bytes after the last newline, at end of stream (a line without terminator). */
  end(): Buffer | undefined {
    const rest = this.rest;
    this.rest = undefined;
    return rest;
  }
}
