import { z } from 'zod';
import { WINDOW_HINT, parseWindow } from './window.js';

/** The policy file format of SPEC §2, as written by a user. Unknown fields are errors. */
const limitSchema = z.strictObject({
  // No NUL: it separates a counter key's parts (and starts the keys of `--shadow` gateways).
  counter: z
    .string({ error: 'expected a counter name (string)' })
    .min(1, 'must not be empty')
    .refine((c) => !c.includes('\u0000'), { error: 'must not contain a NUL character' })
    .optional(),
  window: z.string({ error: WINDOW_HINT }).refine((w) => parseWindow(w) !== undefined, { error: WINDOW_HINT }),
  max: z.int({ error: 'expected an integer ≥ 0' }).min(0, 'expected an integer ≥ 0'),
  scope: z.enum(['global', 'grant', 'session'], { error: 'expected "global"|"grant"|"session"' }).optional(),
});

const limitsSchema = z.array(limitSchema, { error: 'expected an array of limits' });

const ruleSchema = z.strictObject(
  {
    action: z
      .enum(['allow', 'deny', 'require_approval'], {
        error: 'expected "allow"|"deny"|"require_approval"',
      })
      .optional(),
    reason: z.string({ error: 'expected a string' }).optional(),
    args: z
      .union([z.record(z.string(), z.unknown()), z.boolean()], {
        error: 'expected a JSON Schema (object or boolean)',
      })
      .optional(),
    limits: limitsSchema.optional(),
  },
  { error: 'expected an object' },
);

export const policySchema = z.strictObject(
  {
    $schema: z.string().optional(),
    version: z.literal('1', { error: 'expected "1"' }),
    default: z.enum(['allow', 'deny'], { error: 'expected "allow"|"deny"' }),
    tools: z
      .record(z.string().min(1, 'tool keys must not be empty'), ruleSchema, {
        error: 'expected an object of tool rules',
      })
      .optional(),
    all_tools: z.strictObject({ limits: limitsSchema }, { error: 'expected an object' }).optional(),
    hide: z
      .array(z.string({ error: 'expected a tool name or glob' }).min(1, 'must not be empty'), {
        error: 'expected an array of tool names or globs',
      })
      .optional(),
  },
  { error: 'expected a policy object' },
);

export type PolicyFile = z.infer<typeof policySchema>;
export type RuleSpec = z.infer<typeof ruleSchema>;
export type LimitSpec = z.infer<typeof limitSchema>;

/**
 * The fields an object of the policy at `path` may have (where an unknown field was found), to
 * name in the error: `tools.x.decision: unknown field` alone leaves the author guessing.
 */
export function fieldsAt(path: readonly PropertyKey[]): readonly string[] {
  if (path.length === 0) return Object.keys(policySchema.shape).filter((k) => k !== '$schema');
  if (path.length === 2 && path[0] === 'tools') return Object.keys(ruleSchema.shape);
  if (path.length === 1 && path[0] === 'all_tools') return ['limits'];
  if (path.at(-2) === 'limits' && typeof path.at(-1) === 'number') return Object.keys(limitSchema.shape);
  return [];
}
