import { describe, expect, it } from 'vitest';
import { callsOf, type SessionSource } from '../../replayer/index.js';

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
