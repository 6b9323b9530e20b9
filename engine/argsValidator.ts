import { Ajv2020, type ErrorObject, type ValidateFunction } from 'ajv/dist/2020.js';
import addFormatsModule from 'ajv-formats';
import { schemaWhere, type SchemaWhere } from './schemaWhere.js';

const addFormats = addFormatsModule as unknown as (ajv: Ajv2020) => Ajv2020;

/**
 * One shared ajv instance: draft 2020-12 with formats; unknown keywords and formats are errors
 * (a typo, `"patern"`, must not silently weaken a policy). Ajv's other strict rules are off: they
 * refuse valid schemas that mean what they say — without `type` (SPEC §2's own
 * `{"properties": …, "required": …}`), `required` without `properties`, an open tuple.
 */
const ajv = addFormats(
  new Ajv2020({
    strict: true,
    strictTypes: false,
    strictRequired: false,
    strictTuples: false,
    allErrors: false,
    allowUnionTypes: true,
  }),
);

/** Why arguments fail an args schema, and where: the JSON pointer of the failing value (`/SecretId`). */
export interface ArgsFailure {
  reason: string;
  pointer: string;
}

export type ArgsValidator = (args: unknown) => ArgsFailure | undefined;

/** Compiles an `args` JSON Schema once; the validator returns why and where arguments fail, or undefined. */
export function compileArgsSchema(schema: unknown): ArgsValidator {
  const id = typeof schema === 'object' && schema !== null ? (schema as { $id?: unknown }).$id : undefined;
  // Only the meta-schemas stay registered (every policy schema is removed after compiling): one
  // of their ids is refused here, before ajv, whose removal by $id below would take the
  // meta-schema itself away, for every later policy of the process (a gateway's reloads).
  const key = typeof id === 'string' ? id.replace(/#$/, '') : ''; // as ajv normalizes an id
  if (key !== '' && (ajv.schemas[key] !== undefined || ajv.refs[key] !== undefined)) {
    throw new ArgsSchemaError({
      path: ['$id'],
      message: `$id ${JSON.stringify(id)} is taken (a JSON Schema meta-schema)`,
    });
  }
  const registered = new Set([...Object.keys(ajv.schemas), ...Object.keys(ajv.refs)]);
  let validate: ValidateFunction;
  try {
    validate = ajv.compile(schema as object);
  } catch (err) {
    throw new ArgsSchemaError(schemaWhere(schema, err, ajv.errors));
  } finally {
    // The compiled function stands alone: forget the schema, so a reloaded policy with the same
    // `$id` compiles again and a long-running gateway does not keep every old version. (A
    // boolean schema, `true` or `false`, is kept by no one: ajv refuses to remove one.)
    if (typeof schema === 'object' && schema !== null) ajv.removeSchema(schema);
    // And the ids of its subschemas (`properties.x.$id`), which ajv registered too: else a
    // later schema with one of them as its own `$id` is refused, "already exists".
    for (const k of [...Object.keys(ajv.schemas), ...Object.keys(ajv.refs)])
      if (!registered.has(k)) ajv.removeSchema(k);
  }
  return (args) => {
    if (validate(args ?? {})) return undefined;
    const e = validate.errors?.[0];
    return { reason: describe(e), pointer: e?.instancePath ?? '' };
  };
}

function describe(e: ErrorObject | undefined): string {
  if (!e) return 'arguments do not match the args schema';
  const path = pointerToPath(e.instancePath);
  if (e.keyword === 'required') {
    const missing = String((e.params as { missingProperty: string }).missingProperty);
    return `argument ${path === '' ? missing : `${path}.${missing}`} is required`;
  }
  if (e.keyword === 'additionalProperties' || e.keyword === 'unevaluatedProperties') {
    const params = e.params as { additionalProperty?: string; unevaluatedProperty?: string };
    const extra = String(params.additionalProperty ?? params.unevaluatedProperty);
    return `argument ${path === '' ? extra : `${path}.${extra}`} is not allowed`;
  }
  // `propertyNames`: the failing name, not its value, is what is wrong.
  const name = (e as ErrorObject & { propertyName?: string }).propertyName;
  if (name !== undefined) {
    return `argument name ${path === '' ? name : `${path}.${name}`} ${e.message ?? 'is invalid'}`;
  }
  if (e.keyword === 'false schema') {
    return path === '' ? 'the args schema allows no arguments (false)' : `argument ${path} is not allowed`;
  }
  // Ajv says "must be equal to constant": the reviewer (and the agent) must see what it is.
  if (e.keyword === 'const') {
    return `argument ${path || '(arguments)'} must be ${shown((e.params as { allowedValue: unknown }).allowedValue)}`;
  }
  if (e.keyword === 'enum') {
    const values = (e.params as { allowedValues: unknown[] }).allowedValues;
    const listed = values.slice(0, 5).map(shown).join(', ');
    const more = values.length > 5 ? `, … (${values.length} values)` : '';
    return `argument ${path || '(arguments)'} must be one of ${listed}${more}`;
  }
  if (e.keyword === 'not') return `argument ${path || '(arguments)'} matches a forbidden schema`;
  return `argument ${path || '(arguments)'} ${e.message ?? 'is invalid'}`;
}

/** A schema's value in a reason: JSON, cut short (a reason is one line). */
function shown(value: unknown): string {
  const text = JSON.stringify(value) ?? String(value);
  return text.length > 60 ? `${text.slice(0, 59)}…` : text;
}

function pointerToPath(pointer: string): string {
  if (pointer === '') return '';
  return pointer
    .split('/')
    .slice(1)
    .map((s) => s.replace(/~1/g, '/').replace(/~0/g, '~'))
    .map((s, i) => (/^\d+$/.test(s) ? `[${s}]` : i === 0 ? s : `.${s}`))
    .join('');
}

/** An `args` schema ajv refused, and where in the schema (path parts below it). */
export class ArgsSchemaError extends Error {
  readonly path: readonly PropertyKey[];
  constructor(where: SchemaWhere) {
    super(where.message);
    this.path = where.path;
  }
}

/** Why ajv refused a schema, as a policy author reads it (its `unknown format "x" ignored` is refused, not ignored). */
export function schemaError(err: unknown): string {
  return (err as Error).message;
}

/** Where below the schema the refusal points (none known: the schema itself). */
export function schemaErrorPath(err: unknown): readonly PropertyKey[] {
  return err instanceof ArgsSchemaError ? err.path : [];
}
