import { CallToolResultSchema, JSONRPCMessageSchema } from '@modelcontextprotocol/sdk/types.js';
import { describe, expect, it } from 'vitest';
import { compilePolicyValue, decide, MemoryLimiter, type Verdict } from '../../../engine/index.js';
import {
  approvalDenied,
  denialResponse,
  denialResult,
  failClosed,
  isDenial,
  type Denial,
} from '../../../proxy/enforce/responses.js';

const compiled = compilePolicyValue({
  version: '1',
  default: 'deny',
  tools: {
    'get-sum': { limits: [{ window: 'minute', max: 1 }] },
    never: { limits: [{ window: 'minute', max: 0 }] },
    'delete_*': { action: 'deny', reason: 'destructive tools are blocked' },
  },
});
if (!compiled.ok) throw new Error(JSON.stringify(compiled.errors));
const policy = compiled.policy;
const verdicts = (() => {
  const l = new MemoryLimiter();
  const call = (tool: string) => ({ tool, args: {}, session: 's', grant: 'g' });
  decide(policy, l, call('get-sum'), 1000);
  return {
    deny: decide(policy, l, call('delete_repo'), 1000) as Denial,
    throttle: decide(policy, l, call('get-sum'), 1500) as Denial,
    never: decide(policy, l, call('never'), 1500) as Denial,
  };
})();

describe('denied and throttled calls answer a CallToolResult by default (SPEC §3)', () => {
  it('deny: isError, "Denied by policy: <reason>", and the decision in _meta', () => {
    const result = denialResult(verdicts.deny);
    expect(CallToolResultSchema.parse(result)).toEqual(result);
    expect(result).toEqual({
      content: [{ type: 'text', text: 'Denied by policy: destructive tools are blocked' }],
      isError: true,
      _meta: {
        'mcp-replay/decision': {
          decision: 'deny',
          reason: 'destructive tools are blocked',
          rule: 'tools.delete_*',
        },
      },
    });
  });

  it('throttle: "Rate limited: <reason>; retry after <n> ms", with the hint in _meta', () => {
    const result = denialResult(verdicts.throttle);
    const reason = 'tools.get-sum.limits[0]: at most 1 call per minute per grant (counter get-sum#0)';
    expect(result.content).toEqual([{ type: 'text', text: `Rate limited: ${reason}; retry after 59500 ms` }]);
    expect(result.isError).toBe(true);
    expect(result._meta?.['mcp-replay/decision']).toEqual({
      decision: 'throttle',
      reason,
      rule: 'tools.get-sum.limits[0]',
      retryAfterMs: 59_500,
    });
  });

  it('a limit of max 0 gives no retry hint (no retry can succeed)', () => {
    expect(verdicts.never.retryAfterMs).toBeUndefined();
    expect(denialResult(verdicts.never).content).toEqual([
      {
        type: 'text',
        text: 'Rate limited: tools.never.limits[0]: at most 0 calls per minute per grant (counter never#0)',
      },
    ]);
  });

  it('answers with the request id, as a valid JSON-RPC response', () => {
    const msg = denialResponse('req-7', verdicts.deny);
    expect(JSONRPCMessageSchema.parse(msg)).toEqual(msg);
    expect(msg).toEqual({ jsonrpc: '2.0', id: 'req-7', result: denialResult(verdicts.deny) });
  });
});

describe('--deny-as error answers JSON-RPC errors', () => {
  it('-32001 for deny', () => {
    const msg = denialResponse(3, verdicts.deny, 'error');
    expect(JSONRPCMessageSchema.parse(msg)).toEqual(msg);
    expect(msg).toEqual({
      jsonrpc: '2.0',
      id: 3,
      error: {
        code: -32001,
        message: 'Denied by policy: destructive tools are blocked',
        data: { decision: 'deny', reason: 'destructive tools are blocked', rule: 'tools.delete_*' },
      },
    });
  });

  it('-32029 for throttle with data.retryAfterMs', () => {
    const msg = denialResponse(4, verdicts.throttle, 'error') as { error: { code: number; data: unknown } };
    expect(msg.error.code).toBe(-32029);
    expect(msg.error.data).toMatchObject({ decision: 'throttle', retryAfterMs: 59_500 });
  });
});

describe('verdicts the gateway makes itself', () => {
  it('an unanswered approval is a deny naming the rule and why', () => {
    const approval: Verdict = {
      decision: 'approval',
      reason: 'run_command requires approval',
      rule: 'tools.run_command',
      charges: [],
    };
    expect(isDenial(approval)).toBe(false);
    const denied = approvalDenied(approval, 'no answer within 60 s');
    expect(isDenial(denied)).toBe(true);
    expect(denialResult(denied).content).toEqual([
      { type: 'text', text: 'Denied by policy: run_command requires approval: no answer within 60 s' },
    ]);
  });

  it('an engine or storage failure denies the call, naming the failure (fail closed)', () => {
    const v = failClosed(new Error('SQLITE_BUSY: database is locked'));
    expect(v).toMatchObject({ decision: 'deny', rule: 'fail-closed' });
    expect(denialResult(v).content[0]).toMatchObject({
      text: expect.stringContaining('SQLITE_BUSY: database is locked'),
    });
  });
});
