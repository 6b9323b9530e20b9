import { describe, expect, it } from 'vitest';
import { compilePolicyValue, decide, MemoryLimiter } from '../../engine/index.js';

describe('args schemas without "type"', () => {
  it('compile and decide as SPEC §2 writes them', () => {
    // SPEC §2's read_file rule: properties and required, no "type": "object".
    const compiled = compilePolicyValue({
      version: '1',
      default: 'deny',
      tools: {
        read_file: { action: 'allow', args: { properties: { path: { pattern: '^/srv/data/' } }, required: ['path'] } },
      },
    });
    if (!compiled.ok) throw new Error(JSON.stringify(compiled.errors));
    const call = (args: unknown) =>
      decide(compiled.policy, new MemoryLimiter(), { tool: 'read_file', args, session: 's', grant: 'g' }, 0).decision;
    expect(call({ path: '/srv/data/x' })).toBe('allow');
    expect(call({ path: '/etc/passwd' })).toBe('deny');
    expect(call({})).toBe('deny');
  });

  it('still rejects unknown keywords (typos must not weaken a policy)', () => {
    const compiled = compilePolicyValue({
      version: '1',
      default: 'deny',
      tools: { read_file: { args: { properties: { path: { patern: '^/srv/' } } } } },
    });
    expect(compiled.ok).toBe(false);
  });
});
