import { closeSync, fstatSync, openSync, readSync } from 'node:fs';
import { StringDecoder } from 'node:string_decoder';
import { InputError, noSuchFile } from '../engine/errors.js';

/** Streams a text file's lines (1-based numbers) without loading it whole. */
export function* readLines(file: string): Generator<{ line: number; text: string }> {
  let fd: number;
  try {
    fd = openSync(file, 'r');
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    const why = code === 'ENOENT' ? (file === '-' ? 'no such file (stdin is /dev/stdin)' : noSuchFile(file)) : code;
    throw new InputError(`${file}: cannot read: ${why ?? (err as Error).message}`);
  }
  if (fstatSync(fd).isDirectory()) {
    closeSync(fd);
    throw new InputError(`${file}: is a directory, not a JSONL file`);
  }
  const buf = Buffer.allocUnsafe(1 << 20);
  const decoder = new StringDecoder('utf8');
  // The current line's text read so far, in pieces: a line of 100 MB (a tool's result) is
  // scanned and joined once, not rescanned from its start at every read.
  let pieces: string[] = [];
  let line = 0;
  try {
    for (;;) {
      const n = readSync(fd, buf, 0, buf.length, null);
      if (n === 0) break;
      const chunk = decoder.write(buf.subarray(0, n));
      let start = 0;
      for (let nl = chunk.indexOf('\n'); nl !== -1; nl = chunk.indexOf('\n', start)) {
        line++;
        let text = chunk.slice(start, nl);
        if (pieces.length > 0) {
          pieces.push(text);
          text = pieces.join('');
          pieces = [];
        }
        yield { line, text: lineText(line, text) };
        start = nl + 1;
      }
      if (start < chunk.length) pieces.push(chunk.slice(start));
    }
    pieces.push(decoder.end());
    const rest = pieces.join('');
    if (rest.length > 0) yield { line: line + 1, text: lineText(line + 1, rest) };
  } finally {
    closeSync(fd);
  }
}

/** A line without its CR; the first without a byte order mark (a Windows editor's), as policy files may have one. */
function lineText(line: number, text: string): string {
  return (line === 1 && text.charCodeAt(0) === 0xfeff ? text.slice(1) : text).replace(/\r$/, '');
}
