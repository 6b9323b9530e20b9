import { closeSync, mkdtempSync, openSync, readSync, rmSync, writeSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { openStore } from '../../store/index.js';

const dir = mkdtempSync(join(tmpdir(), 'mcp-replay-list-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const call = (id: number) => ({
  jsonrpc: '2.0',
  id,
  method: 'tools/call',
  params: { name: 'read_file', arguments: {} },
});
/** A big file read's answer: its text fills overflow pages with nothing but `x`. */
const bigAnswer = (id: number) =>
  JSON.stringify({ jsonrpc: '2.0', id, result: { content: [{ type: 'text', text: 'x'.repeat(400_000) }] } });

/**
 * Breaks the overflow chain of every page that holds nothing but `x` (the big answers' text):
 * reading such a message is then an error (SQLITE_CORRUPT), so a reader that succeeds never
 * read it.
 */
function breakBigAnswers(file: string, pageSize = 4096): number {
  const fd = openSync(file, 'r+');
  const page = Buffer.alloc(pageSize);
  let broken = 0;
  try {
    for (let at = 0; readSync(fd, page, 0, pageSize, at) === pageSize; at += pageSize) {
      if (page.subarray(4).every((b) => b === 0x78)) {
        writeSync(fd, Buffer.from([0x7f, 0xff, 0xff, 0xff]), 0, 4, at); // next overflow page: far beyond the file
        broken++;
      }
    }
  } finally {
    closeSync(fd);
  }
  return broken;
}

describe('sessions list', () => {
  it("counts each session's messages and calls without reading the servers' answers", () => {
    const file = join(dir, 'big.db');
    const store = openStore(file);
    try {
      for (const id of ['A', 'B', 'C'])
        store.insertSession({ id, startedAt: `2026-12-01T00:00:0${'ABC'.indexOf(id)}.000Z`, transport: 'stdio' });
      store.appendMessage('A', 0, 1, 'c2s', JSON.stringify(call(1)), 'tools/call', '1');
      store.appendMessage('A', 1, 2, 's2c', bigAnswer(1), null, '1');
      store.appendMessage('A', 2, 3, 'c2s', JSON.stringify(call(2)), 'tools/call', '2');
      store.appendMessage('A', 3, 4, 's2c', bigAnswer(2), null, '2');
      // A batch of two calls and a ping (its method column is its first member's), and its answers.
      const batch = [call(3), { jsonrpc: '2.0', id: 4, method: 'ping' }, call(5)];
      store.appendMessage('B', 0, 1, 'c2s', ` ${JSON.stringify(batch)}`, 'tools/call', '3');
      store.appendMessage('B', 1, 2, 's2c', `[${bigAnswer(3)},${bigAnswer(5)}]`, null, null);
      store.appendMessage(
        'B',
        2,
        3,
        'c2s',
        JSON.stringify({ jsonrpc: '2.0', method: 'notifications/initialized' }),
        'notifications/initialized',
        null,
      );
    } finally {
      store.close();
    }
    expect(breakBigAnswers(file)).toBeGreaterThan(300);

    const again = openStore(file);
    try {
      // The corruption is real: a reader of the answers fails on it.
      expect(() => [...again.records('A')]).toThrow(/malformed|corrupt/i);
      expect(again.listSessions().map(({ id, messages, calls }) => ({ id, messages, calls }))).toEqual([
        { id: 'A', messages: 4, calls: 2 },
        { id: 'B', messages: 3, calls: 2 },
        { id: 'C', messages: 0, calls: 0 },
      ]);
    } finally {
      again.close();
    }
  });
});
