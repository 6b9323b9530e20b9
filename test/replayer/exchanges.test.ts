import { describe, expect, it } from 'vitest';
import { exchangesOf } from '../../replayer/exchanges.js';
import type { Direction, SessionRecord } from '../../store/types.js';

/** Messages numbered in order, 10 µs apart. */
function messages(): (dir: Direction, m: object) => SessionRecord {
  let seq = 0;
  return (dir, m) => ({ type: 'message', seq: seq++, t: seq * 10, dir, raw: JSON.stringify({ jsonrpc: '2.0', ...m }) });
}

function* session(n: number): Generator<SessionRecord> {
  const msg = messages();
  // A slow call, answered after every other one; one never answered.
  yield msg('c2s', { id: 'slow', method: 'tools/call', params: { name: 'slow', arguments: {} } });
  yield msg('c2s', { id: 'lost', method: 'tools/call', params: { name: 'lost', arguments: {} } });
  for (let i = 0; i < n; i++) {
    yield msg('c2s', { id: i, method: 'tools/call', params: { name: 'fast', arguments: { i } } });
    yield msg('s2c', { id: i, result: { content: [] } });
  }
  yield msg('s2c', { id: 'slow', error: { code: -1, message: 'late' } });
}

describe('exchangesOf', () => {
  it('yields exchanges in request order, each once, whatever answered late or never', () => {
    const n = 5000;
    const seen = [...exchangesOf(session(n))];
    expect(seen).toHaveLength(n + 2);
    expect(seen[0]).toMatchObject({ id: 'slow', outcome: 'error', detail: '-1 late' });
    expect(seen[1]).toMatchObject({ id: 'lost', outcome: 'no response' });
    expect(seen.slice(2).map((x) => x.id)).toEqual(Array.from({ length: n }, (_, i) => i));
    expect(seen.slice(2).every((x) => x.outcome === 'ok' && x.latencyUs === 10)).toBe(true);
  });

  it('a request its sender cancelled is over: cancelled, and the exchanges after it come out at once', () => {
    const msg = messages();
    const it = exchangesOf(
      (function* () {
        yield msg('c2s', { id: 7, method: 'tools/call', params: { name: 'slow', arguments: {} } });
        // The server's cancel of an id 7 of its own is not about the client's request 7.
        yield msg('s2c', { method: 'notifications/cancelled', params: { requestId: 7 } });
        yield msg('c2s', { method: 'notifications/cancelled', params: { requestId: 7, reason: 'timed out' } });
        // The server asks the client something, then cancels it.
        yield msg('s2c', { id: 7, method: 'sampling/createMessage', params: {} });
        yield msg('s2c', { method: 'notifications/cancelled', params: { requestId: 7 } });
        yield msg('c2s', { id: 8, method: 'tools/call', params: { name: 'fast', arguments: {} } });
        yield msg('s2c', { id: 8, result: { content: [] } });
        yield msg('s2c', { id: 7, result: { content: [] } }); // late: the client had given up
        throw new Error('read too far');
      })(),
    );
    expect(it.next().value).toMatchObject({ id: 7, tool: 'slow', outcome: 'cancelled', detail: 'timed out' });
    expect(it.next().value).toMatchObject({
      id: 7,
      dir: 's2c',
      method: 'sampling/createMessage',
      outcome: 'cancelled',
    });
    expect(it.next().value).toMatchObject({ id: 8, outcome: 'ok' });
  });

  it('streams: an exchange comes out once it and every earlier one are answered', () => {
    const it = exchangesOf(
      (function* () {
        yield* [...session(3)].filter((r) => r.seq >= 2); // without the slow and the lost call
        throw new Error('read too far');
      })(),
    );
    expect([0, 1, 2].map(() => it.next().value?.id)).toEqual([0, 1, 2]);
  });
});
