import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { compilePolicy } from '../../engine/index.js';
import { dryRun, jsonlSource, timeline } from '../../replayer/index.js';

const root = join(import.meta.dirname, '../..');

describe('seed policy on the 15-call fixture', () => {
  it('gives the decisions SPEC §2 computes by hand', () => {
    const compiled = compilePolicy(readFileSync(join(root, 'fixtures/policies/seed.json'), 'utf8'));
    if (!compiled.ok) throw new Error(JSON.stringify(compiled.errors));
    const source = jsonlSource(join(root, 'fixtures/sessions/seed-15-calls.jsonl'));
    const got = [...dryRun(compiled.policy, timeline([source]))].map(({ call, verdict }) => [
      call.t / 1e6,
      call.tool,
      verdict.decision,
      verdict.retryAfterMs,
    ]);
    // 10 invoke_agent_runtime per sliding minute per grant ("demo-agent"); everything else default-denied.
    // A call at time T is allowed when fewer than 10 allowed calls lie in (T - 60 s, T].
    expect(got).toEqual([
      [0.002, 'invoke_agent_runtime', 'allow', undefined], // 1st
      [1, 'invoke_agent_runtime', 'allow', undefined],
      [2, 'invoke_agent_runtime', 'allow', undefined],
      [3, 'invoke_agent_runtime', 'allow', undefined],
      [4, 'invoke_agent_runtime', 'allow', undefined],
      [5, 'invoke_agent_runtime', 'allow', undefined],
      [6, 'invoke_agent_runtime', 'allow', undefined],
      [7, 'invoke_agent_runtime', 'allow', undefined], // 8th
      [8, 'list_buckets', 'deny', undefined], // no rule, default deny; consumes nothing
      [9, 'invoke_agent_runtime', 'allow', undefined], // 9th
      [10, 'invoke_agent_runtime', 'allow', undefined], // 10th: the budget is now full
      [30, 'invoke_agent_runtime', 'throttle', 30002], // frees when the 0.002 s call leaves: 60.002 - 30
      [60.002, 'invoke_agent_runtime', 'allow', undefined], // the 0.002 s call is out of (0.002, 60.002]
      [60.5, 'invoke_agent_runtime', 'throttle', 500], // (0.5, 60.5] holds 1..7, 9, 10, 60.002: full until 61
      [70, 'invoke_agent_runtime', 'allow', undefined], // (10, 70] holds only 60.002
    ]);
  });
});
