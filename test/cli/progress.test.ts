import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { measuredSources, Progress } from '../../cli/progress.js';
import { callsOf, dbSource, jsonlSource } from '../../replayer/index.js';
import { openStore } from '../../store/store.js';

const fixture = join(import.meta.dirname, '../../fixtures/sessions/seed-15-calls.jsonl');

function fakeStream() {
  const writes: string[] = [];
  const stream = { isTTY: true, columns: 80, write: (s: string) => writes.push(s) > 0 };
  return { writes, stream: stream as unknown as NodeJS.WriteStream };
}

describe('Progress', () => {
  it('stays quiet for the first second, then draws a bar with a count and rate, and erases it', () => {
    const { writes, stream } = fakeStream();
    let now = 0;
    let fraction = 0;
    const p = new Progress('calls', () => fraction, { stream, enabled: true, now: () => now });
    for (let i = 0; i < 5000; i++) p.tick();
    expect(writes).toEqual([]); // work under a second shows nothing
    now = 2000;
    fraction = 0.5;
    for (let i = 0; i < 5000; i++) p.tick();
    expect(writes).toHaveLength(1);
    expect(writes[0]).toBe(`\r[############------------]  50%  5,120 calls  3k/s\x1b[K`);
    now = 2050; // at most ten draws a second
    for (let i = 0; i < 2048; i++) p.tick();
    expect(writes).toHaveLength(1);
    p.done();
    expect(writes.at(-1)).toBe('\r\x1b[2K');
  });

  it('draws nothing when disabled (a pipe, or CI)', () => {
    const { writes, stream } = fakeStream();
    let now = 0;
    const p = new Progress('calls', () => 1, { stream, enabled: false, now: () => now });
    now = 10_000;
    for (let i = 0; i < 10_000; i++) p.tick();
    p.done();
    expect(writes).toEqual([]);
  });

  it('without a known total shows the count and rate only', () => {
    const p = new Progress('calls', () => undefined, { enabled: false, now: () => 1000 });
    expect(p.line(3000)).toBe('0 calls  0/s');
  });
});

describe('measuredSources', () => {
  it('measures a JSONL file by bytes read, reaching 1 at the end, and passes records through unchanged', () => {
    const source = jsonlSource(fixture);
    const { sources, fraction } = measuredSources([source]);
    expect(fraction()).toBe(0);
    const it = callsOf(sources[0]!)[Symbol.iterator]();
    it.next();
    const early = fraction();
    expect(early).toBeGreaterThan(0);
    expect(early).toBeLessThan(0.5);
    const rest = [...{ [Symbol.iterator]: () => it }];
    expect(fraction()).toBe(1);
    expect(rest).toHaveLength(14);
    expect([...callsOf(sources[0]!)]).toEqual([...callsOf(source)]);
  });

  it('measures a db session by seq out of its last, asked of the db only once the session is read', () => {
    const store = openStore(':memory:');
    try {
      store.insertSession({ id: 'S', startedAt: '2026-01-01T00:00:00.000Z', transport: 'stdio' });
      for (let i = 0; i < 10; i++) {
        const call = { jsonrpc: '2.0', id: i, method: 'tools/call', params: { name: 'x', arguments: {} } };
        store.appendMessage('S', 2 * i, i, 'c2s', JSON.stringify(call), 'tools/call', String(i));
        store.appendMessage('S', 2 * i + 1, i, 's2c', `{"jsonrpc":"2.0","id":${i},"result":{}}`, null, String(i));
      }
      let asked = 0;
      const source = dbSource(store, 'S');
      const { sources, fraction } = measuredSources([{ ...source, lastSeq: () => (asked++, source.lastSeq!()) }]);
      expect(fraction()).toBe(0);
      expect(asked).toBe(0);
      const it = callsOf(sources[0]!)[Symbol.iterator]();
      for (let i = 0; i < 5; i++) it.next();
      expect(fraction()).toBeCloseTo(8 / 19);
      expect(asked).toBe(1);
      expect([...{ [Symbol.iterator]: () => it }]).toHaveLength(5);
      expect(fraction()).toBe(1);
    } finally {
      store.close();
    }
  });
});
