import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { timeline, type SessionSource } from '../../replayer/index.js';
import type { SessionRecord } from '../../store/types.js';

const T0 = Date.parse('2026-01-01T00:00:00.000Z');

/** A session of `tools/call`s at the given µs, starting `startMs` after T0; counts its readers. */
function session(id: string, startMs: number, times: readonly number[], open: { now: number; max: number }) {
  const source: SessionSource = {
    info: { id, startedAt: new Date(T0 + startMs).toISOString(), transport: 'stdio' },
    origin: id,
    *records(): Generator<SessionRecord> {
      open.max = Math.max(open.max, ++open.now);
      try {
        for (const [seq, t] of times.entries()) {
          const msg = { jsonrpc: '2.0', id: seq, method: 'tools/call', params: { name: 'x', arguments: {} } };
          yield { type: 'message', seq, t, dir: 'c2s', raw: JSON.stringify(msg) };
        }
      } finally {
        open.now--;
      }
    },
  };
  return source;
}

describe('timeline', () => {
  it('merges by absolute time, ties to the session given first, then seq (whatever the sessions start)', () => {
    const sessions = fc.array(
      fc.record({
        startMs: fc.integer({ min: 0, max: 50 }),
        gaps: fc.array(fc.integer({ min: 0, max: 20_000 }), { maxLength: 6 }),
      }),
      { maxLength: 6 },
    );
    fc.assert(
      fc.property(sessions, (list) => {
        const open = { now: 0, max: 0 };
        const sources = list.map((s, i) => {
          let t = 0;
          return session(
            `s${i}`,
            s.startMs,
            s.gaps.map((g) => (t += g)),
            open,
          );
        });
        const merged = [...timeline(sources)].map((c) => [c.session, c.seq]);
        const expected = sources
          .flatMap((s, src) =>
            [...s.records()].map((r) => ({ src, seq: r.seq, at: T0 + list[src]!.startMs + r.t / 1000 })),
          )
          .sort((a, b) => a.at - b.at || a.src - b.src || a.seq - b.seq)
          .map((c) => [`s${c.src}`, c.seq]);
        expect(merged).toEqual(expected);
      }),
      { numRuns: 500 },
    );
  });

  it('reads a session only from its start on: sessions one after the other are read one at a time', () => {
    const open = { now: 0, max: 0 };
    const sources = Array.from({ length: 1000 }, (_, i) => session(`s${i}`, i * 1000, [0, 500_000], open));
    expect([...timeline(sources.toReversed())]).toHaveLength(2000);
    expect(open.max).toBe(1);
  });
});
