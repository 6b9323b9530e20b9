import { describe, expect, it } from 'vitest';
import { MemoryLimiter } from '../../engine/index.js';
import { limiterContract } from './limiterContract.js';

limiterContract('MemoryLimiter', ({ retainMs }) => ({ limiter: new MemoryLimiter({ retainMs }) }));

describe('MemoryLimiter over many distinct keys', () => {
  it('drops the keys whose calls every window has left, and still answers the live ones', () => {
    const l = new MemoryLimiter();
    // One session key per call, a minute apart, each limited to 1 per 10 s; one long-lived key.
    l.record('long', 0, 3_600_000);
    for (let i = 0; i < 20_000; i++) {
      const now = i * 60_000;
      const key = `c\u0000session\u0000s${i}`;
      expect(l.wait(key, 10_000, 1, now)).toBe(0);
      l.record(key, now, 10_000);
      expect(l.wait(key, 10_000, 1, now)).toBe(10_000);
    }
    expect(l.size).toBeLessThan(2100);
    const last = 19_999 * 60_000;
    expect(l.wait('c\u0000session\u0000s19999', 10_000, 1, last + 1)).toBe(9_999);
    expect(l.wait('long', 3_600_000, 1, last)).toBe(0);
    // A key kept for an hour survives sweeps while its hour lasts.
    l.record('long', last, 3_600_000);
    for (let i = 0; i < 5000; i++) l.record(`x${i}`, last + 1000, 1);
    expect(l.wait('long', 3_600_000, 1, last + 2000)).toBe(3_600_000 - 2000);
  });
});
