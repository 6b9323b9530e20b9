import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
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

describe('dryRun when the engine throws on a call', () => {
  it('denies that call as the gateway does (fail closed) and goes on with the next', () => {
    // A recursive args schema and arguments nested deeper than its validator can recurse: the
    // gateway answers `rule: fail-closed`; replay must decide the same, not abort the whole run.
    const r = compilePolicyValue({
      version: '1',
      default: 'deny',
      tools: {
        t: {
          args: {
            $defs: { n: { type: ['object', 'integer'], additionalProperties: { $ref: '#/$defs/n' } } },
            $ref: '#/$defs/n',
          },
        },
      },
    });
    if (!r.ok) throw new Error('policy');
    const depth = 20_000;
    const deep = '{"a":'.repeat(depth) + '1' + '}'.repeat(depth);
    const call = (id: number, args: string) =>
      `{"type":"message","seq":${id},"t":${id * 1000},"dir":"c2s","msg":{"jsonrpc":"2.0","id":${id},"method":"tools/call","params":{"name":"t","arguments":${args}}}}`;
    const dir = mkdtempSync(join(tmpdir(), 'mcp-replay-dryrun-'));
    const file = join(dir, 'deep.jsonl');
    writeFileSync(file, [call(0, deep), call(1, '{"a":{"b":1}}')].join('\n') + '\n');
    const verdicts = [...dryRun(r.policy, timeline([jsonlSource(file)]))].map((d) => d.verdict);
    expect(verdicts.map((v) => [v.decision, v.rule])).toEqual([
      ['deny', 'fail-closed'],
      ['allow', 'tools.t'],
    ]);
    expect(verdicts[0]!.reason).toMatch(/^mcp-replay could not decide this call \(.+\); denied to fail closed$/);
  });
});

describe('dryRun of arguments the recorder stored redacted', () => {
  it('says so when an args schema denies a value that is "[REDACTED]" in the recording (the gateway saw the real one)', () => {
    // AWS-style `SecretId` matches the recorder's secret keys: the recording holds "[REDACTED]".
    const r = compilePolicyValue({
      version: '1',
      default: 'deny',
      tools: {
        get_secret_value: {
          args: {
            properties: { SecretId: { type: 'string', pattern: '^arn:aws:secretsmanager:[^:]+:123:secret:team/' } },
            required: ['SecretId'],
          },
        },
      },
    });
    if (!r.ok) throw new Error('policy');
    const call = (id: number, args: object) =>
      JSON.stringify({
        type: 'message',
        seq: id,
        t: id * 1000,
        dir: 'c2s',
        msg: { jsonrpc: '2.0', id, method: 'tools/call', params: { name: 'get_secret_value', arguments: args } },
      });
    const dir = mkdtempSync(join(tmpdir(), 'mcp-replay-dryrun-'));
    const file = join(dir, 'redacted.jsonl');
    writeFileSync(
      file,
      [call(0, { SecretId: '[REDACTED]' }), call(1, { SecretId: 'other/db' }), call(2, {})].join('\n') + '\n',
    );
    const reasons = [...dryRun(r.policy, timeline([jsonlSource(file)]))].map((d) => [
      d.verdict.decision,
      d.verdict.reason,
    ]);
    expect(reasons).toEqual([
      [
        'deny',
        'argument SecretId must match pattern "^arn:aws:secretsmanager:[^:]+:123:secret:team/"' +
          ' (the recording holds this value redacted, "[REDACTED]": the gateway decided on the real one)',
      ],
      ['deny', 'argument SecretId must match pattern "^arn:aws:secretsmanager:[^:]+:123:secret:team/"'],
      ['deny', 'argument SecretId is required'],
    ]);
  });
});
