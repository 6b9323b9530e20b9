import { fc, test as fcTest } from '@fast-check/vitest';
import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { wildcard } from './referenceModel.js';
import {
  compilePolicy,
  compilePolicyValue,
  formatProblem,
  globMatcher,
  type CompileResult,
} from '../../engine/index.js';

function errors(r: CompileResult): string[] {
  if (r.ok) throw new Error('expected errors');
  return r.errors.map((e) => formatProblem('p.json', e));
}

const base = { version: '1', default: 'deny' };

describe('compilePolicy', () => {
  it('names the line, column and JSON path of a typo', () => {
    const text = `{
  "version": "1",
  "default": "deny",
  "tools": {
    "read_file": { "limts": [] }
  }
}`;
    expect(errors(compilePolicy(text))).toEqual([
      'p.json:5:20: tools.read_file.limts: unknown field (did you mean limits?)',
    ]);
  });

  it('explains a bad window and a negative max with their paths', () => {
    const r = compilePolicyValue({
      ...base,
      tools: { x: { limits: [{ window: 'fortnight', max: -1 }] } },
    });
    expect(errors(r)).toEqual([
      expect.stringMatching(
        /^p\.json:\d+:\d+: tools\.x\.limits\[0\]\.window: expected "second"\|"minute"\|"hour"\|"day" or a duration like "30s"/,
      ),
      expect.stringMatching(/^p\.json:\d+:\d+: tools\.x\.limits\[0\]\.max: expected an integer ≥ 0$/),
    ]);
  });

  it('refuses a counter name with a NUL (it separates the parts of a counter key)', () => {
    const r = compilePolicyValue({
      ...base,
      tools: { x: { limits: [{ counter: '\u0000shadow', window: 'minute', max: 1 }] } },
    });
    expect(errors(r)).toEqual([
      expect.stringMatching(/tools\.x\.limits\[0\]\.counter: must not contain a NUL character$/),
    ]);
  });

  it('reports invalid JSON with line and column', () => {
    expect(errors(compilePolicy('{\n  "version": "1",\n  "default": "deny",,\n}'))).toEqual([
      expect.stringMatching(/^p\.json:3:21: invalid JSON: Expected double-quoted property name$/),
    ]);
  });

  it('points at the first syntax error on one line where V8 names no position, and allows a BOM', () => {
    expect(errors(compilePolicy('hello\nworld\n'))).toEqual(["p.json:1:1: invalid JSON: Unexpected token 'h'"]);
    expect(errors(compilePolicy('{"version": "1",\n "default": NaN}'))).toEqual([
      "p.json:2:13: invalid JSON: Unexpected token 'N'",
    ]);
    expect(errors(compilePolicy('{"version": "1"} x'))).toEqual([
      'p.json:1:18: invalid JSON: Unexpected non-whitespace character after JSON',
    ]);
    // Positions after a byte order mark, as an editor shows them.
    expect(compilePolicy('\ufeff{"version": "1", "default": "deny"}').ok).toBe(true);
    expect(errors(compilePolicy('\ufeff{"version": "1", "default": "maybe"}'))).toEqual([
      expect.stringMatching(/^p\.json:1:18: default: /),
    ]);
  });

  it('rejects unknown top-level fields, bad actions and invalid args schemas', () => {
    expect(errors(compilePolicyValue({ ...base, tool: {} }))).toEqual([
      expect.stringContaining(': tool: unknown field (did you mean tools?)'),
    ]);
    expect(errors(compilePolicyValue({ ...base, tools: { a: { action: 'block' } } }))).toEqual([
      expect.stringContaining('tools.a.action: expected "allow"|"deny"|"require_approval"'),
    ]);
    expect(errors(compilePolicyValue({ ...base, tools: { a: { args: { type: 'strnig' } } } }))).toEqual([
      expect.stringContaining('tools.a.args.type: invalid JSON Schema'),
    ]);
    expect(errors(compilePolicyValue({ version: 2, default: 'deny' }))).toEqual([
      expect.stringContaining('version: expected "1"'),
    ]);
  });

  it('says a missing field is required, and what is wrong with an empty tool key', () => {
    expect(errors(compilePolicyValue({ ...base, all_tools: { limits: [{ window: 'minute' }] } }))).toEqual([
      expect.stringMatching(/all_tools\.limits\[0\]\.max: required \(expected an integer ≥ 0\)$/),
    ]);
    expect(errors(compilePolicyValue({ ...base, tools: { '': {} } }))).toEqual([
      expect.stringMatching(/tools\[""\]: tool keys must not be empty$/),
    ]);
  });

  it('points an invalid args schema at the keyword inside it: line, column and JSON path', () => {
    // A schema of many properties: the error must say which one, not just "tools.t.args".
    const at = (inner: object) =>
      errors(compilePolicy(JSON.stringify({ ...base, tools: { t: { args: { properties: inner } } } }, null, 2)));
    const props = (bad: object) => ({ bucket: { type: 'string' }, key: bad });
    expect(at(props({ type: 'string', patern: '^reports/' }))).toEqual([
      'p.json:13:13: tools.t.args.properties.key.patern: invalid JSON Schema: unknown keyword "patern"',
    ]);
    expect(at(props({ type: 'string', pattern: '(' }))).toEqual([
      'p.json:13:13: tools.t.args.properties.key.pattern: invalid JSON Schema: Invalid regular expression: /(/u: Unterminated group',
    ]);
    expect(at(props({ type: 'string', maxLength: -1 }))).toEqual([
      'p.json:13:13: tools.t.args.properties.key.maxLength: invalid JSON Schema: must be >= 0',
    ]);
    expect(at(props({ type: 'strnig' }))).toEqual([
      'p.json:12:13: tools.t.args.properties.key.type: invalid JSON Schema: must be equal to one of the allowed values (array, boolean, integer, null, number, object, string)',
    ]);
    expect(at(props({ type: 'string', format: 'bucket-name' }))).toEqual([
      'p.json:13:13: tools.t.args.properties.key.format: invalid JSON Schema: unknown format "bucket-name"',
    ]);
    expect(at(props({ $ref: '#/$defs/nope' }))).toEqual([
      "p.json:12:13: tools.t.args.properties.key.$ref: invalid JSON Schema: can't resolve reference #/$defs/nope from id #",
    ]);
    // A pattern under patternProperties is a key: the path names it.
    expect(at({ x: { anyOf: [{ type: 'string' }, { patternProperties: { '[': {} } }] } })).toEqual([
      'p.json:15:19: tools.t.args.properties.x.anyOf[1].patternProperties["["]: invalid JSON Schema: Invalid regular expression: /[/u: Unterminated character class',
    ]);
  });

  it('compiles valid args schemas that strict ajv would refuse: required without properties, open tuples', () => {
    for (const args of [
      { required: ['path'] },
      { type: 'object', required: ['path'] },
      { properties: { a: { prefixItems: [{ type: 'string' }], items: false } } },
    ]) {
      expect(compilePolicyValue({ ...base, tools: { a: { args } } }).ok, JSON.stringify(args)).toBe(true);
    }
  });

  it('compiles the same args schema with an $id again (a hot reload)', () => {
    const policy = { ...base, tools: { a: { args: { $id: 'https://example.com/a', type: 'object' } } } };
    expect(compilePolicyValue(policy).ok).toBe(true);
    expect(compilePolicyValue(policy).ok).toBe(true);
  });

  it('refuses an args $id that names a meta-schema, and leaves the meta-schemas in place for every later policy', () => {
    // Refused, the schema was then "removed" by its $id: the meta-schema itself, gone for the
    // process; a gateway could never reload a policy again.
    for (const id of [
      'https://json-schema.org/draft/2020-12/schema',
      'https://json-schema.org/draft/2020-12/meta/core',
    ]) {
      expect(errors(compilePolicyValue({ ...base, tools: { a: { args: { $id: id, type: 'object' } } } }))).toEqual([
        expect.stringContaining(
          `tools.a.args.$id: invalid JSON Schema: $id "${id}" is taken (a JSON Schema meta-schema)`,
        ),
      ]);
    }
    const later = compilePolicyValue({
      ...base,
      tools: { b: { args: { type: 'object', properties: { p: { minLength: 1 } } } } },
    });
    expect(later.ok && later.warnings).toEqual([]);
  });

  it('forgets the nested $ids of a compiled policy: a later version neither collides with them nor resolves to them', () => {
    const v1 = {
      ...base,
      tools: { a: { args: { properties: { x: { $id: 'https://example.com/x', pattern: '^a' } } } } },
    };
    expect(compilePolicyValue(v1).ok).toBe(true);
    // A new version (a hot reload) that refers to the id v1 defined, but defines it no more:
    // refused, not validated against v1's stale schema.
    const v2 = { ...base, tools: { a: { args: { properties: { y: { $ref: 'https://example.com/x' } } } } } };
    expect(errors(compilePolicyValue(v2))).toEqual([
      expect.stringContaining(
        "tools.a.args.properties.y.$ref: invalid JSON Schema: can't resolve reference https://example.com/x",
      ),
    ]);
    // And the id is free again, as the top-level id of another schema.
    expect(compilePolicyValue({ ...base, tools: { a: { args: { $id: 'https://example.com/x' } } } }).ok).toBe(true);
  });

  it('rejects a key written twice (JSON.parse would keep the last silently)', () => {
    const text = '{"version":"1","default":"allow",\n"tools":{"x":{"action":"deny"},\n "x":{"action":"allow"}}}';
    expect(errors(compilePolicy(text))).toEqual(['p.json:3:2: tools.x: key written twice in one object']);
  });

  it('an unknown field names the field meant (a typo) or the fields allowed there', () => {
    const one = (value: unknown) => errors(compilePolicyValue(value)).join('\n');
    expect(one({ ...base, tools: { a: { decision: 'allow' } } })).toMatch(
      /tools\.a\.decision: unknown field \(expected one of: action, reason, args, limits\)$/,
    );
    expect(one({ ...base, tools: { a: { Action: 'deny' } } })).toMatch(
      /tools\.a\.Action: unknown field \(did you mean action\?\)$/,
    );
    expect(one({ ...base, all_tools: { limits: [{ window: 'minute', max: 1, scop: 'global' }] } })).toMatch(
      /all_tools\.limits\[0\]\.scop: unknown field \(did you mean scope\?\)$/,
    );
    expect(one({ ...base, all_tool: {} })).toMatch(/all_tool: unknown field \(did you mean all_tools\?\)$/);
    expect(one({ ...base, allow: [] })).toMatch(
      /allow: unknown field \(expected one of: version, default, tools, all_tools, hide\)$/,
    );
  });

  it('quotes keys that are not plain names in paths', () => {
    expect(errors(compilePolicyValue({ ...base, tools: { 'a.b': { nope: 1 } } }))).toEqual([
      expect.stringContaining('tools["a.b"].nope: unknown field'),
    ]);
  });

  it('accepts durations and named windows', () => {
    for (const window of ['second', 'minute', 'hour', 'day', '30s', '5m', '2h', '1d', '250ms']) {
      expect(compilePolicyValue({ ...base, tools: { a: { limits: [{ window, max: 1 }] } } }).ok).toBe(true);
    }
    for (const window of ['0s', '5 m', 'm', '-1s', '1.5s', 'weekly']) {
      expect(compilePolicyValue({ ...base, tools: { a: { limits: [{ window, max: 1 }] } } }).ok).toBe(false);
    }
  });

  it('warns about overlapping globs of equal precedence, first written wins', () => {
    const r = compilePolicyValue({ ...base, tools: { 'a_*': { action: 'deny' }, '*_b': {} } });
    if (!r.ok) throw new Error('should compile');
    expect(r.warnings.map((w) => w.path)).toEqual(['tools.*_b']);
    expect(r.policy.ruleFor('a_b')?.key).toBe('a_*');
    const disjoint = compilePolicyValue({ ...base, tools: { 'a_*': {}, 'b_*': {} } });
    expect(disjoint.ok && disjoint.warnings).toEqual([]);
  });

  it('warns about a tool key or hide entry with a space, an invisible or a non-ASCII character (a typo that matches nothing)', () => {
    // Under default allow, "delete_* " (a trailing space) denies nothing: the deny rule is silently gone.
    const text = JSON.stringify(
      {
        version: '1',
        default: 'allow',
        tools: { 'delete_* ': { action: 'deny' }, 'put\u200bobject': { action: 'deny' }, get_object: {} },
        hide: ['s\u0435cret_*'],
      },
      null,
      2,
    );
    const r = compilePolicy(text);
    if (!r.ok) throw new Error('should compile');
    expect(r.warnings.map((w) => formatProblem('p.json', w))).toEqual([
      'p.json:5:5: tools["delete_* "]: the key holds a space (U+0020), which MCP tool names do not: a typo? only a tool named exactly so matches',
      'p.json:8:5: tools.put\u200bobject: the key holds an invisible character (U+200B), which MCP tool names do not: a typo? only a tool named exactly so matches',
      'p.json:14:5: hide[0]: the entry holds a non-ASCII character (U+0435), which MCP tool names do not: a typo? only a tool named exactly so matches',
    ]);
    // Names as MCP writes them, globs and the characters servers use besides (/ : @) warn of nothing.
    const plain = compilePolicyValue({
      ...base,
      tools: { 'fs/read_file': {}, 'aws.s3:get-object@v2': {}, 'x_?*': {} },
    });
    expect(plain.ok && plain.warnings).toEqual([]);
  });

  it('warns about an args pattern that can take exponential time (nested repetition), at the pattern', () => {
    const text = JSON.stringify(
      {
        version: '1',
        default: 'deny',
        tools: {
          read_file: { args: { properties: { path: { type: 'string', pattern: '^(/|[a-z]+)+$' } } } },
          list: { args: { patternProperties: { '^(x+)*$': {} } } },
          ok: { args: { properties: { p: { pattern: '^/srv/[a-z0-9._-]+$' } }, patternProperties: { '^x-': {} } } },
          // An argument named "pattern" is a schema like any other.
          grep: { args: { properties: { pattern: { type: 'string', pattern: '^(\\w+\\s?)*$' } } } },
        },
      },
      null,
      2,
    );
    const r = compilePolicy(text);
    if (!r.ok) throw new Error('should compile');
    expect(r.warnings.map((w) => [w.path, w.line])).toEqual([
      ['tools.read_file.args.properties.path.pattern', 10],
      ['tools.list.args.patternProperties.^(x+)*$', 18],
      ['tools.grep.args.properties.pattern.pattern', 39],
    ]);
    expect(r.warnings[0]!.message).toMatch(/exponential time .* could freeze the gateway/);
  });

  it('matches a glob of several * against a long tool name the agent chose without backtracking through every split', () => {
    // As a regular expression, `*_*_*_*x` against 5,000 underscores tries every way to split
    // them (≈ n⁴ steps: hours), and the gateway's one thread with it. Glob matching is linear.
    // In a child process: were it the regular expression again, the test fails, not hangs.
    const script = `
      import { compilePolicyValue } from ${JSON.stringify(join(import.meta.dirname, '../../dist/engine/index.js'))};
      const r = compilePolicyValue({ version: '1', default: 'allow',
        tools: { '*_*_*_*x': { action: 'deny' }, '*s3*delete*x': { action: 'deny' } }, hide: ['*_*_*_*y'] });
      const p = r.policy;
      console.log(JSON.stringify([p.ruleFor('_'.repeat(5000))?.key ?? null, p.hiddenBy('_'.repeat(5000))?.path ?? null,
        p.ruleFor('s3delete'.repeat(2000))?.key ?? null, p.ruleFor('_'.repeat(5000) + 'x')?.key ?? null,
        p.hiddenBy('_'.repeat(5000) + 'y')?.path ?? null, p.ruleFor('s3_delete_x')?.key ?? null]));`;
    const child = spawnSync(process.execPath, ['--input-type=module', '-e', script], {
      encoding: 'utf8',
      timeout: 30_000,
    });
    expect(child.signal, 'the matches did not end within 30 s').toBeNull();
    expect(child.stderr).toBe('');
    expect(JSON.parse(child.stdout)).toEqual([null, null, null, '*_*_*_*x', 'hide[0]', '*s3*delete*x']);
  });

  it('prefers an exact key, then the longest literal glob', () => {
    const r = compilePolicyValue({
      ...base,
      tools: { '*': {}, 'delete_*': { action: 'deny' }, 'delete_temp_*': {}, delete_temp_x: { action: 'deny' } },
    });
    if (!r.ok) throw new Error('should compile');
    expect(r.policy.ruleFor('delete_temp_y')?.key).toBe('delete_temp_*');
    expect(r.policy.ruleFor('delete_temp_x')?.key).toBe('delete_temp_x');
    expect(r.policy.ruleFor('delete_all')?.key).toBe('delete_*');
    expect(r.policy.ruleFor('list')?.key).toBe('*');
  });

  it('treats glob metacharacters other than * and ? literally', () => {
    const r = compilePolicyValue({ ...base, tools: { 'fs/read.[x]*': {} } });
    if (!r.ok) throw new Error('should compile');
    expect(r.policy.ruleFor('fs/read.[x]file')?.key).toBe('fs/read.[x]*');
    expect(r.policy.ruleFor('fs/readX[x]file')).toBeUndefined();
  });
});

describe('tool-name globs', () => {
  it('take any character literally but * and ? (a "-" too)', () => {
    const r = compilePolicyValue({
      version: '1',
      default: 'allow',
      tools: { 'toggle-*': { action: 'deny' } },
      hide: ['get-?um'],
    });
    if (!r.ok) throw new Error(JSON.stringify(r.errors));
    expect(r.policy.ruleFor('toggle-long')?.key).toBe('toggle-*');
    expect(r.policy.hiddenBy('get-sum')?.pattern).toBe('get-?um');
    expect(r.policy.ruleFor('togglex')).toBeUndefined();
  });

  fcTest.prop([fc.string({ maxLength: 8 }), fc.string({ maxLength: 8 }), fc.string({ maxLength: 10 })])(
    'compile whatever the key and match as a plain wildcard',
    (a, b, name) => {
      const key = `${a}*${b}`;
      const r = compilePolicyValue({ version: '1', default: 'deny', tools: { [key]: {} } });
      if (!r.ok) throw new Error(JSON.stringify(r.errors));
      expect(r.policy.ruleFor(name)?.key === key).toBe(wildcard(key, name));
      expect(r.policy.ruleFor(`${a}${name}${b}`)?.key).toBe(key);
    },
  );

  // A small alphabet, so stars and question marks meet names they nearly match; astral
  // characters and a lone surrogate, which `?` takes as one character.
  const unit = fc.constantFrom('a', 'b', '*', '?', '\u{1f600}', '\ud800');
  fcTest.prop([
    fc.string({ unit, maxLength: 8 }),
    fc.string({ unit: fc.constantFrom('a', 'b', '\u{1f600}', '\ud800'), maxLength: 10 }),
  ])('glob matching agrees with plain wildcard recursion, stars and question marks anywhere', (glob, name) => {
    expect(globMatcher(glob).test(name)).toBe(wildcard(glob, name));
  });
});
