import { describe, expect, it } from 'vitest';
import { compilePolicyValue } from '../../../engine/index.js';
import { deniedOutright, filterToolsList } from '../../../proxy/enforce/toolsList.js';

function policy(value: unknown) {
  const compiled = compilePolicyValue(value);
  if (!compiled.ok) throw new Error(JSON.stringify(compiled.errors));
  return compiled.policy;
}

const strict = policy({
  version: '1',
  default: 'deny',
  hide: ['secret_*'],
  tools: {
    echo: {},
    'get-env': { action: 'deny' },
    read_file: { args: { type: 'object', properties: { path: { type: 'string', pattern: '^/srv/' } } } },
    'get-sum': { limits: [{ window: 'minute', max: 0 }] },
    run_command: { action: 'require_approval' },
    secret_echo: {},
  },
});

const tool = (name: string) => ({ name, description: `the ${name} tool`, inputSchema: { type: 'object' } });

describe('tools/list filtering (SPEC §3)', () => {
  it('removes hidden tools, tools with no rule under default deny, and action deny; keeps the rest', () => {
    const result = {
      tools: ['echo', 'get-env', 'read_file', 'get-sum', 'run_command', 'secret_echo', 'printEnv', 'ECHO'].map(tool),
      nextCursor: 'page-2',
      _meta: { x: 1 },
    };
    const { result: filtered, removed } = filterToolsList(strict, result);
    expect(filtered).toEqual({
      tools: ['echo', 'read_file', 'get-sum', 'run_command'].map(tool),
      nextCursor: 'page-2',
      _meta: { x: 1 },
    });
    expect(removed).toEqual(['get-env', 'secret_echo', 'printEnv', 'ECHO']);
    expect(result.tools).toHaveLength(8); // the input is not mutated
  });

  it('says why a tool is denied outright, and nothing for tools denied only by args or limits', () => {
    expect(deniedOutright(strict, 'secret_echo')).toBe('hidden by hide[0]');
    expect(deniedOutright(strict, 'nope')).toBe('no rule; default deny');
    expect(deniedOutright(strict, 'get-env')).toBe('denied by tools.get-env');
    for (const t of ['echo', 'read_file', 'get-sum', 'run_command']) expect(deniedOutright(strict, t)).toBeUndefined();
  });

  it('under default allow, keeps tools with no rule', () => {
    const open = policy({ version: '1', default: 'allow', tools: { 'delete_*': { action: 'deny' } } });
    const { result, removed } = filterToolsList(open, { tools: ['a', 'delete_all'].map(tool) });
    expect(result.tools.map((t) => t.name)).toEqual(['a']);
    expect(removed).toEqual(['delete_all']);
  });

  it('drops entries without a string name and leaves results without a tools array alone', () => {
    const { result, removed } = filterToolsList(strict, { tools: [tool('echo'), { description: 'no name' }, null] });
    expect(result.tools).toEqual([tool('echo')]);
    expect(removed).toEqual(['undefined', 'undefined']);
    const odd = { something: 'else' };
    expect(filterToolsList(strict, odd)).toEqual({ result: odd, removed: [] });
  });
});
