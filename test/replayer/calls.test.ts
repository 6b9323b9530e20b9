import { describe, expect, it } from 'vitest';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { callsOf, dbSource, type SessionSource } from '../../replayer/index.js';
import { messageFacts } from '../../store/spool.js';
import { openStore } from '../../store/store.js';

function source(messages: unknown[]): SessionSource {
  return {
    info: { id: 's', startedAt: '2026-11-24T10:00:00.000Z', transport: 'stdio' },
    origin: 'test',
    records: () =>
      messages.map((msg, seq) => ({
        type: 'message' as const,
        seq,
        t: seq * 1000,
        dir: 'c2s' as const,
        raw: JSON.stringify(msg),
      })),
  };
}

describe('callsOf', () => {
  it('decides what the gateway decides, and nothing it rejects or drops first', () => {
    const call = (id: unknown, params: unknown) => ({ jsonrpc: '2.0', id, method: 'tools/call', params });
    const calls = [
      ...callsOf(
        source([
          { jsonrpc: '2.0', id: 0, method: 'initialize', params: { clientInfo: { name: 'agent-7' } } },
          call(1, { name: 'a', arguments: { x: 1 } }),
          call('two', { name: 'b' }),
          { jsonrpc: '2.0', method: 'tools/call', params: { name: 'notification' } },
          call(null, { name: 'null-id' }),
          call(3, { arguments: {} }),
          call(4, { name: 'array-args', arguments: [1] }),
          call(5, { name: 'string-args', arguments: 'x' }),
          [call(6, { name: 'in-batch' }), { jsonrpc: '2.0', id: 7, method: 'ping' }],
          { jsonrpc: '2.0', id: 8, method: 'Tools/Call', params: { name: 'variant' } },
        ]),
      ),
    ];
    expect(calls.map((c) => [c.tool, c.args, c.grant, c.id])).toEqual([
      ['a', { x: 1 }, 'agent-7', 1],
      ['b', {}, 'agent-7', 'two'],
      ['in-batch', {}, 'agent-7', 6],
    ]);
  });
});

describe('callsOf: request ids in flight, as the gateway keeps them', () => {
  const call = (id: unknown, name: string) => ({ jsonrpc: '2.0', id, method: 'tools/call', params: { name } });
  const answer = (id: unknown) => ({ jsonrpc: '2.0', id, result: {} });
  const refusal = (id: unknown) => ({ jsonrpc: '2.0', id, error: { code: -32600, message: 'refused by mcp-replay' } });
  // [dir, message]: a client that reuses ids, and what it received.
  const traffic: ['c2s' | 's2c', unknown][] = [
    ['c2s', call(1, 'a')],
    ['c2s', call(1, 'reused-in-flight')], // refused...
    ['s2c', refusal(1)], // ...with its id: that answer does not end call 1
    ['c2s', call('1', 'same-text')], // "1" is 1 to the gateway: still in flight
    ['s2c', refusal('1')],
    ['s2c', { jsonrpc: '2.0', method: 'notifications/progress', params: { progressToken: 1 } }],
    ['s2c', answer(1)], // call 1 answered: its id is free
    ['c2s', call(1, 'reused-after')],
    ['c2s', { jsonrpc: '2.0', id: 2, method: 'ping' }],
    ['c2s', call(2, 'reuses-ping')],
    ['s2c', refusal(2)],
    ['s2c', [answer(2), answer(1)]], // a batch of answers frees both
    ['c2s', call(2, 'after-batch')],
    ['c2s', call('q"1', 'escaped-id')], // an id the envelope scan leaves to JSON.parse
    ['c2s', call('q"1', 'escaped-in-flight')],
    ['s2c', refusal('q"1')],
    ['s2c', answer('q"1')],
    ['c2s', call('q"1', 'escaped-after')],
  ];
  const expected = ['a', 'reused-after', 'after-batch', 'escaped-id', 'escaped-after'];

  it('reads them from the messages', () => {
    const source: SessionSource = {
      info: { id: 's', startedAt: '2026-11-24T10:00:00.000Z', transport: 'stdio' },
      origin: 'test',
      records: () =>
        traffic.map(([dir, msg], seq) => ({ type: 'message' as const, seq, t: seq, dir, raw: JSON.stringify(msg) })),
    };
    expect([...callsOf(source)].map((c) => c.tool)).toEqual(expected);
  });

  it('reads the same from the db’s stored method and id (the fast path)', () => {
    const store = openStore(join(mkdtempSync(join(tmpdir(), 'mcp-replay-test-')), 'r.db'));
    try {
      store.insertSession({ id: 's', startedAt: '2026-11-24T10:00:00.000Z', transport: 'stdio' });
      traffic.forEach(([dir, msg], seq) => {
        const { method, id } = messageFacts(msg);
        store.appendMessage('s', seq, seq, dir, JSON.stringify(msg), method, id);
      });
      const db = dbSource(store, 's');
      expect([...callsOf(db)].map((c) => c.tool)).toEqual(expected);
    } finally {
      store.close();
    }
  });
});

describe('JSONL round trip of raw messages', () => {
  it('keeps the digits of an integer too large for a double, through import and export', async () => {
    const { parseJsonlLine, recordToJsonl } = await import('../../replayer/index.js');
    const line =
      '{"type":"message","seq":1,"t":5,"dir":"c2s","msg":{"jsonrpc":"2.0","id":1,"method":"tools/call","params":{"name":"x","arguments":{"big":12345678901234567890}}}}';
    const parsed = parseJsonlLine('f.jsonl', 1, line);
    if (parsed.kind !== 'record' || parsed.record.type !== 'message') throw new Error('not a message');
    expect(parsed.record.raw).toContain('12345678901234567890');
    expect(recordToJsonl(parsed.record)).toBe(line);
  });

  it('imports a message nested deeper than the stack, as the recorder stored it', async () => {
    const { parseJsonlLine, recordToJsonl } = await import('../../replayer/index.js');
    const deep = '['.repeat(20_000) + ']'.repeat(20_000);
    const raw = `{"jsonrpc":"2.0","id":1,"method":"tools/call","params":{"name":"x","arguments":{"a":${deep}}}}`;
    const exported = recordToJsonl({ type: 'message', seq: 3, t: 9, dir: 'c2s', raw });
    // Keys may come in any order in a file written by hand: msg is found by its key, not its place.
    const reordered = `{"type":"message","msg":${raw},"seq":3,"t":9,"dir":"c2s"}`;
    for (const line of [exported, reordered]) {
      const parsed = parseJsonlLine('f.jsonl', 1, line);
      if (parsed.kind !== 'record' || parsed.record.type !== 'message') throw new Error('not a message');
      expect(parsed.record.raw).toBe(raw);
      expect(recordToJsonl(parsed.record)).toBe(exported);
    }
  });

  it('imports what it exported of a line that is JSON but no JSON-RPC object (a server printing 42)', async () => {
    const { parseJsonlLine, recordToJsonl } = await import('../../replayer/index.js');
    for (const raw of ['42', 'null', '"text"']) {
      const exported = recordToJsonl({ type: 'message', seq: 3, t: 9, dir: 's2c', raw });
      const parsed = parseJsonlLine('f.jsonl', 1, exported);
      if (parsed.kind !== 'record') throw new Error('not a record');
      expect(recordToJsonl(parsed.record)).toBe(exported);
    }
    expect(() => parseJsonlLine('f.jsonl', 2, '{"type":"message","seq":1,"t":5,"dir":"c2s"}')).toThrow(
      'f.jsonl:2: msg: expected the message (JSON)',
    );
  });
});
