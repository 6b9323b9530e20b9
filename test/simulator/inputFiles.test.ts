import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { InputError } from '../../engine/index.js';
import { jsonlSource } from '../../replayer/index.js';
import { parseExpectations, parseToolsFile, toolsFromSession } from '../../simulator/index.js';
import { root } from './fixtures.js';

const errorOf = (fn: () => unknown): string => {
  try {
    fn();
  } catch (err) {
    expect(err).toBeInstanceOf(InputError);
    return (err as Error).message;
  }
  throw new Error('expected an InputError');
};

describe('--tools files', () => {
  it('name the file, line and JSON path of what is wrong', () => {
    const text =
      '[\n  { "name": "a", "inputSchema": { "type": "object" } },\n  { "name": 3, "inputSchema": { "type": "object" } }\n]';
    expect(errorOf(() => parseToolsFile('tools.json', text))).toMatch(/^tools\.json:3:\d+: \[1\]\.name: /);
    expect(errorOf(() => parseToolsFile('t.json', '[{"name":"a"}]'))).toMatch(/^t\.json:1:\d+: \[0\]\.inputSchema: /);
    expect(errorOf(() => parseToolsFile('t.json', '{"a":1}'))).toBe(
      't.json:1:1: (root): expected a JSON array of MCP Tool objects',
    );
    expect(
      errorOf(() =>
        parseToolsFile(
          't.json',
          '[{"name":"a","inputSchema":{"type":"object"}},{"name":"a","inputSchema":{"type":"object"}}]',
        ),
      ),
    ).toMatch(/\[1\]\.name: duplicate tool name "a"/);
    expect(errorOf(() => parseToolsFile('t.json', '[{'))).toMatch(/^t\.json:1:\d+: invalid JSON/);
  });

  it('accept an array or a tools/list result', () => {
    const tool = { name: 'a', inputSchema: { type: 'object', properties: { x: { type: 'string' } } } };
    expect(parseToolsFile('t.json', JSON.stringify([tool]))).toEqual([{ name: 'a', inputSchema: tool.inputSchema }]);
    expect(parseToolsFile('t.json', JSON.stringify({ tools: [tool] }))).toEqual([
      { name: 'a', inputSchema: tool.inputSchema },
    ]);
  });
});

describe('--expect files', () => {
  it('name the file, line and JSON path of what is wrong', () => {
    const bad = (e: unknown) => errorOf(() => parseExpectations('e.json', JSON.stringify({ expect: [e] }, null, 2)));
    expect(bad({ tool: 'a', never: 'alow' })).toMatch(/^e\.json:5:\d+: expect\[0\]\.never: expected "allow"\|"deny"/);
    expect(bad({ tool: 'a', atMost: 3 })).toMatch(/expect\[0\]\.per: "atMost" needs "per"/);
    expect(bad({ tool: 'a', atMost: 3, per: 'fortnight' })).toMatch(/expect\[0\]\.per: expected "second"/);
    expect(bad({ tool: 'a' })).toMatch(/expect\[0\]: expected exactly one of "never", "always", "atMost"/);
    expect(bad({ tool: 'a', never: 'allow', always: 'deny' })).toMatch(/exactly one of/);
    expect(bad({ tool: 'a', never: 'allow', whn: {} })).toMatch(/expect\[0\]\.whn: unknown field/);
    expect(bad({ tool: 'a', never: 'allow', when: { properties: { p: { patern: 'x' } } } })).toMatch(
      /^e\.json:9:13: expect\[0\]\.when\.properties\.p\.patern: invalid JSON Schema: unknown keyword "patern"$/,
    );
    expect(errorOf(() => parseExpectations('e.json', '[]'))).toMatch(/^e\.json:1:1: \(root\): expected an object/);
  });

  it('compile to expectations with a readable text', () => {
    const [a, b] = parseExpectations(
      'e.json',
      JSON.stringify({
        expect: [
          { tool: 'delete_*', never: 'allow' },
          { tool: 'x', atMost: 10, per: 'minute' },
        ],
      }),
    );
    expect(a!.text).toBe('delete_* never allow');
    expect([a!.matchesTool('delete_temp_x'), a!.matchesTool('Delete_x')]).toEqual([true, false]);
    expect([b!.text, b!.max, b!.windowMs]).toEqual(['x atMost 10 per minute', 10, 60_000]);
  });
});

describe('--from SESSION', () => {
  it('reads the tools a recorded tools/list returned', () => {
    const tools = toolsFromSession(jsonlSource(join(root, 'fixtures/simulate/with-tools-list.jsonl')));
    expect(tools.map((t) => t.name)).toEqual(['read_file', 'delete_temp_files']);
    expect(tools[0]!.inputSchema).toMatchObject({ required: ['path'] });
  });

  it('says so when the session has no tools/list', () => {
    expect(errorOf(() => toolsFromSession(jsonlSource(join(root, 'fixtures/sessions/seed-15-calls.jsonl'))))).toMatch(
      /seed-15-calls\.jsonl: no tools\/list response recorded/,
    );
  });
});
