import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { compilePolicyValue } from '../../engine/index.js';
import { dryRun, jsonlSource, timeline } from '../../replayer/index.js';

const fixture = join(import.meta.dirname, '../../fixtures/sessions/seed-15-calls.jsonl');

describe('dryRun --assume-approval', () => {
  const r = compilePolicyValue({
    version: '1',
    default: 'deny',
    tools: { invoke_agent_runtime: { action: 'require_approval', limits: [{ window: 'minute', max: 10 }] } },
  });
  if (!r.ok) throw new Error('policy');
  const decisions = (assume: 'grant' | 'deny') =>
    [...dryRun(r.policy, timeline([jsonlSource(fixture)]), { assumeApproval: assume })].map((d) => d.verdict.decision);

  it('grant (default): approvals are reported and consume their counters, as if approved', () => {
    const d = decisions('grant');
    expect(d.filter((x) => x === 'approval')).toHaveLength(12);
    expect(d.filter((x) => x === 'throttle')).toHaveLength(2);
  });

  it('deny: nobody approves, so the calls end denied and consume nothing (no throttle)', () => {
    const d = decisions('deny');
    expect(d).toEqual(Array(15).fill('deny'));
  });
});
