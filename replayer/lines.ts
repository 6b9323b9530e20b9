import { isUtf8 } from 'node:buffer';
import { closeSync, fstatSync, openSync, readSync } from 'node:fs';
import { InputError, noSuchFile } from '../engine/errors.js';
import { utf8Text } from '../engine/sourceLocation.js';

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
  // Bytes that are not UTF-8 are an error naming where, not U+FFFD (a tool name other than the
  // one written), as in policy files. So each read is cut after its last '\n' (a byte never
  // inside a UTF-8 character) and the lines up to there checked and decoded at once; the bytes
  // after it wait for the next read: a line of 100 MB (a tool's result) is joined once.
  let rest: Buffer[] = [];
  let line = 0;
  function* linesOf(span: Buffer): Generator<{ line: number; text: string }> {
    if (!isUtf8(span)) {
      yield* checkedLinesOf(span);
      return;
    }
    const text = span.toString('utf8');
    let start = 0;
    for (let nl = text.indexOf('\n'); nl !== -1; nl = text.indexOf('\n', start)) {
      line++;
      yield { line, text: lineText(line, text.slice(start, nl)) };
      start = nl + 1;
    }
    line++;
    yield { line, text: lineText(line, text.slice(start)) };
  }
  /** Line by line, up to the one that is not UTF-8. */
  function* checkedLinesOf(span: Buffer): Generator<{ line: number; text: string }> {
    for (let start = 0; ; ) {
      const nl = span.indexOf(0x0a, start);
      const decoded = utf8Text(span.subarray(start, nl === -1 ? span.length : nl));
      line++;
      if (!decoded.ok) throw new InputError(`${file}:${line}:${decoded.location.column}: ${decoded.message}`);
      yield { line, text: lineText(line, decoded.text) };
      if (nl === -1) return;
      start = nl + 1;
    }
  }
  try {
    for (;;) {
      const n = readSync(fd, buf, 0, buf.length, null);
      if (n === 0) break;
      const chunk = buf.subarray(0, n);
      const last = chunk.lastIndexOf(0x0a);
      if (last === -1) {
        rest.push(Buffer.from(chunk)); // copied: the next read reuses buf
        continue;
      }
      const span = rest.length > 0 ? Buffer.concat([...rest, chunk.subarray(0, last)]) : chunk.subarray(0, last);
      rest = last + 1 < n ? [Buffer.from(chunk.subarray(last + 1))] : [];
      yield* linesOf(span);
    }
    if (rest.length > 0) yield* linesOf(Buffer.concat(rest));
  } finally {
    closeSync(fd);
  }
}

/** A line without its CR; the first without a byte order mark (a Windows editor's), as policy files may have one. */
function lineText(line: number, text: string): string {
  return (line === 1 && text.charCodeAt(0) === 0xfeff ? text.slice(1) : text).replace(/\r$/, '');
}
