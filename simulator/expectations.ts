import { z } from 'zod';
import { compileArgsSchema, schemaError, schemaErrorPath, type ArgsValidator } from '../engine/argsValidator.js';
import { InputError } from '../engine/errors.js';
import { globMatcher, isGlob } from '../engine/glob.js';
import { jsonPath } from '../engine/jsonPath.js';
import { SourceMap, parseJson } from '../engine/sourceLocation.js';
import { WINDOW_HINT, parseWindow } from '../engine/window.js';
import type { Decision } from '../engine/types.js';

const decision = z.enum(['allow', 'deny', 'throttle', 'approval'], {
  error: 'expected "allow"|"deny"|"throttle"|"approval"',
});

const expectationSchema = z
  .strictObject(
    {
      tool: z.string({ error: 'expected a tool name or glob' }).min(1, 'must not be empty'),
      when: z
        .union([z.record(z.string(), z.unknown()), z.boolean()], {
          error: 'expected a JSON Schema (object or boolean)',
        })
        .optional(),
      never: decision.optional(),
      always: decision.optional(),
      atMost: z.int({ error: 'expected an integer ≥ 0' }).min(0, 'expected an integer ≥ 0').optional(),
      per: z
        .string({ error: WINDOW_HINT })
        .refine((w) => parseWindow(w) !== undefined, { error: WINDOW_HINT })
        .optional(),
    },
    { error: 'expected an expectation object' },
  )
  .superRefine((e, ctx) => {
    const kinds = [e.never, e.always, e.atMost].filter((k) => k !== undefined).length;
    if (kinds !== 1)
      ctx.addIssue({ code: 'custom', path: [], message: 'expected exactly one of "never", "always", "atMost"' });
    if (e.atMost !== undefined && e.per === undefined)
      ctx.addIssue({ code: 'custom', path: ['per'], message: `"atMost" needs "per": ${WINDOW_HINT}` });
    if (e.atMost === undefined && e.per !== undefined)
      ctx.addIssue({ code: 'custom', path: ['per'], message: '"per" goes with "atMost"' });
  });

const fileSchema = z.strictObject(
  {
    $schema: z.string().optional(),
    expect: z.array(expectationSchema, { error: 'expected an array of expectations' }),
  },
  { error: 'expected an object {"expect": [...]}' },
);

/** One user expectation of SPEC §6, compiled. */
export interface Expectation {
  /** `expect[0]` */
  id: string;
  /** `delete_* never allow` */
  text: string;
  /** The tool name or glob it is about (the streams call it too). */
  tool: string;
  /** The raw `when` schema (its patterns feed the adversarial generator). */
  when: unknown;
  matchesTool: (tool: string) => boolean;
  matchesArgs: ArgsValidator | undefined;
  kind: 'never' | 'always' | 'atMost';
  decision?: Decision;
  max?: number;
  windowMs?: number;
}

/** Whether an expectation is about a call: its tool, and its arguments where it says `when`. */
export function matches(e: Expectation, c: { tool: string; args: unknown }): boolean {
  return e.matchesTool(c.tool) && (!e.matchesArgs || e.matchesArgs(c.args) === undefined);
}

/** Parses and compiles an expect file; the first error is an InputError naming file, line and JSON path. */
export function parseExpectations(file: string, text: string): Expectation[] {
  const parsed = parseJson(text);
  if (!parsed.ok) throw new InputError(`${file}:${parsed.location.line}:${parsed.location.column}: ${parsed.message}`);
  const map = new SourceMap(text);
  const fail = (parts: readonly PropertyKey[], message: string): never => {
    const loc = map.at(parts);
    const where = loc ? `${file}:${loc.line}:${loc.column}` : file;
    throw new InputError(`${where}: ${jsonPath(parts)}: ${message}`);
  };
  const checked = fileSchema.safeParse(parsed.value);
  if (!checked.success) {
    const issue = checked.error.issues[0]!;
    if (issue.code === 'unrecognized_keys') fail([...issue.path, issue.keys[0]!], 'unknown field');
    fail(issue.path, issue.message);
  }
  return checked.data!.expect.map((e, i): Expectation => {
    let matchesArgs: ArgsValidator | undefined;
    if (e.when !== undefined) {
      try {
        matchesArgs = compileArgsSchema(e.when);
      } catch (err) {
        fail(['expect', i, 'when', ...schemaErrorPath(err)], `invalid JSON Schema: ${schemaError(err)}`);
      }
    }
    const re = isGlob(e.tool) ? globMatcher(e.tool) : undefined;
    const base = {
      id: `expect[${i}]`,
      tool: e.tool,
      when: e.when,
      matchesTool: re ? (t: string) => re.test(t) : (t: string) => t === e.tool,
      matchesArgs,
    };
    const when = e.when === undefined ? '' : ` when ${JSON.stringify(e.when)}`;
    if (e.atMost !== undefined) {
      return {
        ...base,
        text: `${e.tool}${when} atMost ${e.atMost} per ${e.per}`,
        kind: 'atMost',
        max: e.atMost,
        windowMs: parseWindow(e.per!)!,
      };
    }
    const kind = e.never !== undefined ? 'never' : 'always';
    const d = (e.never ?? e.always)!;
    return { ...base, text: `${e.tool}${when} ${kind} ${d}`, kind, decision: d };
  });
}
