import fc from 'fast-check';
import { Ajv2020 } from 'ajv/dist/2020.js';
import addFormatsModule from 'ajv-formats';
import { describe, expect, it } from 'vitest';
import { schemaArbitrary } from '../../simulator/index.js';

const addFormats = addFormatsModule as unknown as (ajv: Ajv2020) => Ajv2020;
const ajv = addFormats(new Ajv2020({ strict: false }));

const SCHEMAS: Record<string, object> = {
  scalars: {
    type: 'object',
    properties: {
      name: { type: 'string', minLength: 2, maxLength: 5 },
      count: { type: 'integer', minimum: 1, maximum: 10 },
      step: { type: 'integer', minimum: 0, maximum: 100, multipleOf: 5 },
      ratio: { type: 'number', exclusiveMinimum: 0, maximum: 1 },
      flag: { type: 'boolean' },
      nothing: { type: 'null' },
    },
    required: ['name', 'count', 'ratio'],
  },
  enumsAndConst: {
    type: 'object',
    properties: { mode: { enum: ['r', 'w'] }, v: { const: 2 }, either: { type: ['string', 'integer'] } },
    required: ['mode', 'v', 'either'],
  },
  nested: {
    type: 'object',
    properties: {
      files: {
        type: 'array',
        minItems: 1,
        maxItems: 3,
        items: {
          type: 'object',
          properties: { path: { type: 'string', pattern: '^/srv/[a-z]+$' } },
          required: ['path'],
        },
      },
    },
    required: ['files'],
  },
  formats: {
    type: 'object',
    properties: {
      when: { type: 'string', format: 'date-time' },
      day: { type: 'string', format: 'date' },
      mail: { type: 'string', format: 'email' },
      id: { type: 'string', format: 'uuid' },
      ip: { type: 'string', format: 'ipv4' },
    },
    required: ['when', 'day', 'mail', 'id', 'ip'],
  },
  unions: {
    type: 'object',
    properties: {
      target: {
        oneOf: [
          { type: 'object', properties: { url: { type: 'string', format: 'uri' } }, required: ['url'] },
          { type: 'object', properties: { file: { type: 'string' } }, required: ['file'] },
        ],
      },
      size: { anyOf: [{ type: 'integer', minimum: 0 }, { type: 'null' }] },
    },
    required: ['target'],
  },
  refs: {
    type: 'object',
    $defs: { port: { type: 'integer', minimum: 1, maximum: 65535 } },
    properties: { port: { $ref: '#/$defs/port' } },
    required: ['port'],
  },
};

describe('schemaArbitrary', () => {
  for (const [name, schema] of Object.entries(SCHEMAS)) {
    it(`draws values valid against the schema: ${name}`, () => {
      const validate = ajv.compile(schema);
      fc.assert(
        fc.property(schemaArbitrary(schema), (value) => {
          if (!validate(value)) throw new Error(`${JSON.stringify(value)}: ${ajv.errorsText(validate.errors)}`);
        }),
        { numRuns: 150, seed: 4 },
      );
    });
  }

  it("draws a huge minLength or minItems (a server's tools/list may ask for one) at a bounded size, fast", () => {
    const schema = {
      type: 'object',
      properties: { s: { type: 'string', minLength: 1e8 }, a: { type: 'array', minItems: 1e6 } },
    };
    const values = fc.sample(schemaArbitrary(schema), { numRuns: 20, seed: 1 }) as { s?: string; a?: unknown[] }[];
    for (const v of values) {
      expect(v.s === undefined || v.s.length <= 4096 + 16).toBe(true);
      expect(v.a === undefined || v.a.length <= 64 + 4).toBe(true);
    }
  });

  it('draws an integer whose bounds are both past 2^53 (a 64-bit id in a tools/list) instead of throwing', () => {
    for (const schema of [
      { type: 'integer', minimum: 1e20, maximum: 1e21 },
      { type: 'integer', minimum: -1e21, maximum: -1e20 },
      { type: 'integer', exclusiveMinimum: 2 ** 53, maximum: 2 ** 60 },
    ]) {
      const values = fc.sample(schemaArbitrary(schema), { numRuns: 5, seed: 1 });
      expect(values, JSON.stringify(schema)).toHaveLength(5);
      for (const v of values) expect(Number.isInteger(v)).toBe(true);
    }
  });

  it('draws a number between exclusive bounds with no double between them instead of throwing', () => {
    const schema = { type: 'number', exclusiveMinimum: 1, exclusiveMaximum: 1.0000000000000002 };
    expect(fc.sample(schemaArbitrary(schema), { numRuns: 5, seed: 1 })).toHaveLength(5);
  });

  it('draws plainly from a pattern that matches nothing or repeats past 1,000 (fast-check would hang or crawl)', () => {
    for (const pattern of ['^[^\\s\\S]$', 'a{100000}', '^x[]$']) {
      const values = fc.sample(schemaArbitrary({ type: 'string', pattern }), { numRuns: 5, seed: 1 });
      expect(values, pattern).toHaveLength(5);
    }
  });

  it('with adversarial values, also draws values outside the schema (and the adversarial strings themselves)', () => {
    const schema = SCHEMAS.nested!;
    const validate = ajv.compile(schema);
    const values = fc.sample(schemaArbitrary(schema, { adversarial: fc.constantFrom('/srv/../etc/passwd') }), {
      numRuns: 300,
      seed: 4,
    });
    expect(values.some((v) => !validate(v))).toBe(true);
    expect(values.some((v) => JSON.stringify(v).includes('/srv/../etc/passwd'))).toBe(true);
    expect(values.some((v) => validate(v))).toBe(true);
  });
});
