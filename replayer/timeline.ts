import { callsOf, type CallOptions, type RecordedCall } from './calls.js';
import type { SessionSource } from './source.js';

/**
 * Merges the calls of several sessions into one timeline by absolute time, so `global` and
 * `grant` budgets are shared as they were live. Ties go to the session given first, then `seq`.
 * Streams: holds one pending call per session, and opens a session only when the timeline
 * reaches its start (no call of it can come earlier), so a db of 100,000 sessions one after the
 * other reads one or two at a time, not 100,000 statements (or files) open at once.
 */
export function* timeline(sources: readonly SessionSource[], options: CallOptions = {}): Generator<RecordedCall> {
  if (sources.length === 1) {
    yield* callsOf(sources[0]!, options);
    return;
  }
  const heap: { call: RecordedCall; src: number; it: Iterator<RecordedCall> }[] = [];
  const less = (a: (typeof heap)[number], b: (typeof heap)[number]) =>
    a.call.at < b.call.at ||
    (a.call.at === b.call.at && (a.src < b.src || (a.src === b.src && a.call.seq < b.call.seq)));
  const up = (i: number) => {
    while (i > 0) {
      const p = (i - 1) >> 1;
      if (!less(heap[i]!, heap[p]!)) break;
      [heap[i], heap[p]] = [heap[p]!, heap[i]!];
      i = p;
    }
  };
  const down = (i: number) => {
    for (;;) {
      const l = 2 * i + 1;
      const r = l + 1;
      let m = i;
      if (l < heap.length && less(heap[l]!, heap[m]!)) m = l;
      if (r < heap.length && less(heap[r]!, heap[m]!)) m = r;
      if (m === i) return;
      [heap[i], heap[m]] = [heap[m]!, heap[i]!];
      i = m;
    }
  };
  // A call is at its session's start or later (`t` ≥ 0): sessions open in order of their start.
  const starts = sources.map((s) => {
    const ms = Date.parse(s.info.startedAt);
    return Number.isNaN(ms) ? -Infinity : ms;
  });
  const order = sources.map((_, i) => i).sort((a, b) => starts[a]! - starts[b]! || a - b);
  let opened = 0;
  const openNext = () => {
    const src = order[opened++]!;
    const it = callsOf(sources[src]!, options)[Symbol.iterator]();
    const first = it.next();
    if (!first.done) {
      heap.push({ call: first.value, src, it });
      up(heap.length - 1);
    }
  };
  // A timeline left early (`| head`, an error) closes every session it has open: a db cannot
  // close while a statement still iterates.
  try {
    for (;;) {
      if (heap.length === 0) {
        if (opened === order.length) return;
        openNext();
        continue;
      }
      // Every session that starts by the next call may have one before it (or tied with it).
      while (opened < order.length && starts[order[opened]!]! <= heap[0]!.call.at) openNext();
      const top = heap[0]!;
      yield top.call;
      const next = top.it.next();
      if (!next.done) {
        top.call = next.value;
        down(0);
      } else {
        const last = heap.pop()!;
        if (heap.length > 0) {
          heap[0] = last;
          down(0);
        }
      }
    }
  } finally {
    for (const h of heap) h.it.return?.(undefined);
  }
}

/** Where a timeline's times count from (its tables' `+1.234s`): the earliest session's start, in ms. */
export function timelineOrigin(sources: readonly SessionSource[]): number {
  // A loop: `Math.min(...all)` overflows the stack past about 125,000 sessions.
  let origin = Infinity;
  for (const s of sources) origin = Math.min(origin, Date.parse(s.info.startedAt));
  return origin;
}
