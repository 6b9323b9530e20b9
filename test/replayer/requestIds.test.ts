import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { REMEMBERED_REQUESTS, RememberedIds, StreamedIds } from '../../replayer/requestIds.js';
import type { ReplayMessage } from '../../store/types.js';

describe('RememberedIds', () => {
  it('remembers the last REMEMBERED_REQUESTS requests, ids compared by their text', () => {
    const ids = new RememberedIds(() => []); // nothing is ever answered
    const n = REMEMBERED_REQUESTS + 1000;
    for (let i = 1; i <= n; i++) expect(ids.claim(i, i)).toBe(true);
    expect(ids.claim(n - 1, n + 1)).toBe(false); // still in flight
    expect(ids.claim(String(n), n + 2)).toBe(false); // "70536" is 70536
    expect(ids.claim('0' + String(n), n + 3)).toBe(true); // "070536" is not
    expect(ids.claim(5, n + 4)).toBe(true); // forgotten: taken as answered
    // The same for ids that are not growing integers (kept by their text).
    const other = new RememberedIds(() => []);
    for (let i = 0; i < n; i++) expect(other.claim(`k${i}`, i)).toBe(true);
    expect(other.claim(`k${n - 1}`, n)).toBe(false);
    expect(other.claim(`k${n - REMEMBERED_REQUESTS + 1}`, n + 1)).toBe(false); // the oldest remembered
    expect(other.claim('k5', n + 2)).toBe(true);
  });

  it('agrees with StreamedIds (fed every answer) on any stream of requests, answers and refusals', () => {
    const event = fc.oneof(
      fc.record({
        kind: fc.constant('request' as const),
        id: fc.oneof(fc.integer({ min: 0, max: 6 }), fc.constantFrom('1', '2', 'x')),
      }),
      fc.record({
        kind: fc.constant('answer' as const),
        id: fc.oneof(fc.integer({ min: 0, max: 6 }), fc.constantFrom('1', 'x')),
      }),
    );
    fc.assert(
      fc.property(fc.array(event, { maxLength: 40 }), (events) => {
        const answers: ReplayMessage[] = [];
        const remembered = new RememberedIds((after, before) => answers.filter((a) => a.seq > after && a.seq < before));
        const streamed = new StreamedIds();
        const a: boolean[] = [];
        const b: boolean[] = [];
        const answer = (seq: number, id: unknown) => {
          const r: ReplayMessage = { seq, t: seq, dir: 's2c', method: null, rpcId: JSON.stringify(id), raw: null };
          answers.push(r);
          streamed.answered(r);
        };
        events.forEach((e, i) => {
          const seq = 2 * i;
          if (e.kind === 'answer') {
            answer(seq, e.id);
            return;
          }
          const r1 = remembered.claim(e.id, seq);
          const r2 = streamed.claim(e.id);
          a.push(r1);
          b.push(r2);
          // A refused request is answered by the gateway, right after it.
          if (!r1) remembered.owe(e.id, seq);
          if (!r2) streamed.owe(e.id);
          if (!r1 || !r2) answer(seq + 1, e.id);
        });
        expect(a).toEqual(b);
      }),
      { numRuns: 1000 },
    );
  });

  it('reads each answer once, however many requests a reused id skips (a client cycling through 1,000 ids)', () => {
    let read = 0;
    const ids = new RememberedIds(function* (after, before) {
      // Request i is at seq 2i, its answer at 2i + 1.
      for (let seq = Math.floor(after) + 1; seq < before; seq++) {
        if (seq % 2 === 0) continue;
        read++;
        yield { seq, t: seq, dir: 's2c', method: null, rpcId: String(((seq - 1) / 2) % 1000), raw: null };
      }
    });
    const n = 20_000;
    for (let i = 0; i < n; i++) expect(ids.claim(i % 1000, 2 * i)).toBe(true);
    expect(read).toBeLessThanOrEqual(n);
    // The last request of each id is still unanswered here (its answer not yet read): reuse is refused.
    expect(ids.claim((n - 1) % 1000, 2 * n - 1)).toBe(false);
    expect(ids.claim((n - 2) % 1000, 2 * n)).toBe(true);
  });
});
