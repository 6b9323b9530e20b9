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

describe('policy keys and reasons a review found wrong', () => {
  const compile = (tools: object, extra: object = {}) => {
    const r = compilePolicyValue({ version: '1', default: 'allow', tools, ...extra });
    if (!r.ok) throw new Error(JSON.stringify(r.errors));
    return r.policy;
  };
  const decideOn = (policy: ReturnType<typeof compile>, limiter: MemoryLimiter, tool: string, args: unknown = {}) =>
    decide(policy, limiter, { tool, args, session: 's', grant: 'g' }, 0);

  it('refuses a tool keyed __proto__ (it vanished: a deny rule silently gone)', () => {
    const r = compilePolicyValue(
      JSON.parse('{"version":"1","default":"allow","tools":{"__proto__":{"action":"deny"}}}'),
    );
    expect(r.ok).toBe(false);
    if (!r.ok)
      expect(r.errors[0]).toMatchObject({
        path: 'tools.__proto__',
        message: expect.stringMatching(/cannot be a tool key/),
      });
    // The glob the message suggests rules the tool.
    expect(decideOn(compile({ '__proto_?': { action: 'deny' } }), new MemoryLimiter(), '__proto__').decision).toBe(
      'deny',
    );
  });

  it('a tool keyed all_tools counts apart from all_tools.limits (neither names a counter)', () => {
    const policy = compile(
      { all_tools: { limits: [{ window: 'minute', max: 1 }] } },
      { all_tools: { limits: [{ window: 'minute', max: 100 }] } },
    );
    const limiter = new MemoryLimiter();
    expect(decideOn(policy, limiter, 'read').decision).toBe('allow');
    expect(decideOn(policy, limiter, 'all_tools').decision).toBe('allow');
    expect(decideOn(policy, limiter, 'all_tools')).toMatchObject({
      decision: 'throttle',
      rule: 'tools.all_tools.limits[0]',
    });
  });

  it('names the argument that unevaluatedProperties or propertyNames refuses', () => {
    const policy = compile({
      a: { args: { properties: { x: {} }, unevaluatedProperties: false } },
      b: { args: { propertyNames: { pattern: '^[a-z]+$' } } },
    });
    expect(decideOn(policy, new MemoryLimiter(), 'a', { x: 1, evil: 2 }).reason).toMatch(
      /argument evil is not allowed/,
    );
    expect(decideOn(policy, new MemoryLimiter(), 'b', { ok: 1, EVIL: 2 }).reason).toMatch(
      /argument name EVIL must match pattern/,
    );
  });
});

describe('boolean args schemas (JSON Schema allows true and false, and so does the policy format)', () => {
  const compile = (tools: object) => {
    const r = compilePolicyValue({ version: '1', default: 'deny', tools });
    if (!r.ok) throw new Error(JSON.stringify(r.errors));
    return r.policy;
  };
  const decideOn = (policy: ReturnType<typeof compile>, tool: string, args: unknown) =>
    decide(policy, new MemoryLimiter(), { tool, args, session: 's', grant: 'g' }, 0);

  it('args: true allows any arguments, args: false denies every call, saying why', () => {
    const policy = compile({ any: { args: true }, none: { args: false } });
    expect(decideOn(policy, 'any', { x: 1 }).decision).toBe('allow');
    expect(decideOn(policy, 'none', {})).toMatchObject({
      decision: 'deny',
      rule: 'tools.none.args',
      reason: 'the args schema allows no arguments (false)',
    });
  });

  it('a false subschema names the argument it refuses', () => {
    const policy = compile({ t: { args: { properties: { force: false } } } });
    expect(decideOn(policy, 't', { bucket: 'b' }).decision).toBe('allow');
    expect(decideOn(policy, 't', { force: true })).toMatchObject({
      decision: 'deny',
      reason: 'argument force is not allowed',
    });
  });
});

describe('reasons of const and enum denials', () => {
  it('say what the argument must be (ajv says only "equal to constant")', () => {
    const r = compilePolicyValue({
      version: '1',
      default: 'deny',
      tools: {
        get_object: { args: { properties: { bucket: { const: 'team-data' }, region: { enum: ['eu-west-1', 1] } } } },
        many: { args: { properties: { b: { enum: ['a', 'b', 'c', 'd', 'e', 'f', 'g'] } } } },
      },
    });
    if (!r.ok) throw new Error(JSON.stringify(r.errors));
    const reason = (tool: string, args: unknown) =>
      decide(r.policy, new MemoryLimiter(), { tool, args, session: 's', grant: 'g' }, 0).reason;
    expect(reason('get_object', { bucket: 'other' })).toBe('argument bucket must be "team-data"');
    expect(reason('get_object', { region: 'us-east-1' })).toBe('argument region must be one of "eu-west-1", 1');
    expect(reason('many', { b: 'z' })).toBe('argument b must be one of "a", "b", "c", "d", "e", … (7 values)');
  });
});
