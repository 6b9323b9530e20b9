import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { InputError } from '../../engine/errors.js';
import { readLines } from '../../replayer/lines.js';
import { tempDir } from '../e2e/runCli.js';

const MB = 1 << 20;

describe('readLines', () => {
  it('gives every line whole, across reads: long lines, CRLF and UTF-8 split between two reads', () => {
    const lines = [
      'a'.repeat(MB - 1), // its \r ends the first read, its \n starts the second
      'é'.repeat(MB), // two bytes each: split within a character
      '',
      'b'.repeat(3 * MB + 7),
      'short',
      'last, without a newline',
    ];
    const file = join(tempDir(), 'lines.jsonl');
    writeFileSync(file, `${lines[0]}\r\n${lines.slice(1, -1).join('\n')}\n${lines.at(-1)}`);
    const read = [...readLines(file)];
    expect(read.map((l) => l.line)).toEqual([1, 2, 3, 4, 5, 6]);
    expect(read.map((l) => l.text.length)).toEqual(lines.map((l) => l.length));
    expect(read.map((l) => l.text)).toEqual(lines);
  });

  it('drops a byte order mark before the first line (a file saved by a Windows editor), as policy files allow one', () => {
    const file = join(tempDir(), 'bom.jsonl');
    writeFileSync(file, '\uFEFF{"a":1}\r\n\uFEFF{"b":2}\n');
    expect([...readLines(file)].map((l) => l.text)).toEqual(['{"a":1}', '\uFEFF{"b":2}']);
  });

  it('refuses bytes that are not UTF-8 with their line and column (read leniently they became U+FFFD: another tool name)', () => {
    const file = join(tempDir(), 'latin1.jsonl');
    // A Latin-1 é in line 3, after a line split between two reads and a real U+FFFD (valid UTF-8).
    const long = 'x'.repeat(MB + 3);
    writeFileSync(
      file,
      Buffer.concat([Buffer.from(`${long}\n\uFFFD ok\n{"name":"caf`), Buffer.from([0xe9]), Buffer.from('"}\n')]),
    );
    const read: string[] = [];
    expect(() => {
      for (const l of readLines(file)) read.push(l.text);
    }).toThrow(new InputError(`${file}:3:13: not UTF-8 text (byte 0xE9); save the file as UTF-8`));
    expect(read).toEqual([long, '\uFFFD ok']);
  });
});
