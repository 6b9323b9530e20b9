/**
 * Splits a byte stream into newline-terminated lines, the MCP stdio framing (the SDK's
 * `ReadBuffer`: a message is the bytes up to `\n`, a trailing `\r` stripped). Lines keep their
 * exact bytes, terminator included, so a pass-through forwards what it received.
 */
export class LineSplitter {
  /**
   * The chunks of a line under way: joined once a newline comes (joined at every read, a 100 MB
   * line in 64 KiB reads was copied 80 GB over, the proxy frozen for minutes).
   */
  private rest: Buffer[] = [];

  /** The complete lines `chunk` finishes (each ending in `\n`); a partial tail is kept. */
  push(chunk: Buffer): Buffer[] {
    const first = chunk.indexOf(10);
    // The common case (one message per read): the chunk itself, no Buffer made for a slice of it.
    if (this.rest.length === 0 && chunk.length > 0 && first === chunk.length - 1) return [chunk];
    if (first === -1) {
      if (chunk.length > 0) this.rest.push(chunk);
      return [];
    }
    // One buffer for the lines: those forwarded untouched then go out as one slice of it.
    const buf = this.rest.length > 0 ? Buffer.concat([...this.rest, chunk]) : chunk;
    const lines: Buffer[] = [];
    let start = 0;
    for (let nl = buf.indexOf(10); nl !== -1; nl = buf.indexOf(10, start)) {
      lines.push(buf.subarray(start, nl + 1));
      start = nl + 1;
    }
    this.rest = start < buf.length ? [buf.subarray(start)] : [];
    return lines;
  }

  /** Bytes after the last newline, at end of stream (a line without terminator). */
  end(): Buffer | undefined {
    const rest = this.rest;
    this.rest = [];
    if (rest.length === 0) return undefined;
    return rest.length === 1 ? rest[0] : Buffer.concat(rest);
  }
}
