import { createHash } from 'node:crypto';
import type { ArgsValidator } from './argsValidator.js';
import { compileArgsSchema, schemaError, schemaErrorPath } from './argsValidator.js';
import { unsafePatterns } from './unsafePatterns.js';
import { globMatcher, globsOverlap, isGlob, literalLength, type GlobMatcher } from './glob.js';
import { jsonPath } from './jsonPath.js';
import { fieldsAt, policySchema, type LimitSpec, type PolicyFile } from './policySchema.js';
import { SourceMap, duplicateKeys, parseJson } from './sourceLocation.js';
import { describeWindow, parseWindow } from './window.js';

export type Scope = 'global' | 'grant' | 'session';

export interface CompiledLimit {
  /** JSON path of the limit, e.g. `tools.get_sum.limits[0]`. */
  path: string;
  counter: string;
  scope: Scope;
  windowMs: number;
  /**
   * How long a call charged to this limit's counter must be remembered: the longest window of
   * any limit naming the same counter and scope (limits of other tools can read the same times).
   */
  keepMs: number;
  max: number;
  /** Counter-key prefix; the scope key is appended per call. */
  keyPrefix: string;
  /** "10 calls per minute per grant (counter x)" */
  text: string;
  /** The throttle reason: `<path>: <text>`. */
  reason: string;
  /** Interned counter keys by scope key (a cache of the decide hot path). */
  keys: Map<string, string>;
}

export interface CompiledRule {
  key: string;
  /** JSON path of the entry, e.g. `tools.read_file`. */
  path: string;
  action: 'allow' | 'deny' | 'require_approval';
  reason: string | undefined;
  args: ArgsValidator | undefined;
  limits: readonly CompiledLimit[];
  /** Precomputed: `<path>.args`, and the reasons of deny, approval and allow decisions. */
  argsPath: string;
  denyReason: string;
  approvalReason: string;
  allowReason: string;
}

export interface HideEntry {
  pattern: string;
  path: string;
  matches: (tool: string) => boolean;
}

export interface Policy {
  readonly default: 'allow' | 'deny';
  readonly rules: readonly CompiledRule[];
  readonly allToolsLimits: readonly CompiledLimit[];
  readonly hide: readonly HideEntry[];
  /** sha256 of the policy file's bytes. */
  readonly sha256: string;
  /** JSON paths of the rules that can decide a call: `hide[i]` and `tools.K` entries. */
  readonly rulePaths: readonly string[];
  /** The entry deciding `tool`: an exact key, else the most specific glob. */
  ruleFor(tool: string): CompiledRule | undefined;
  /** The `hide` entry covering `tool`, if any. */
  hiddenBy(tool: string): HideEntry | undefined;
}

export interface PolicyProblem {
  path: string;
  message: string;
  line?: number;
  column?: number;
}

export type CompileResult =
  | { ok: true; policy: Policy; warnings: PolicyProblem[] }
  | { ok: false; errors: PolicyProblem[] };

/** Formats a problem as `file:line:col: path: message` (one line). */
export function formatProblem(file: string, p: PolicyProblem): string {
  const where = p.line === undefined ? file : `${file}:${p.line}:${p.column ?? 1}`;
  return p.path === '' ? `${where}: ${p.message}` : `${where}: ${p.path}: ${p.message}`;
}

/** Compiles a policy given as a JS value (tests, simulator); its text is its 2-space JSON. */
export function compilePolicyValue(value: unknown): CompileResult {
  return compilePolicy(JSON.stringify(value, null, 2));
}

/**
 * Parses, validates (every error with its JSON path and line) and compiles a policy file's text.
 * Never throws: whatever goes wrong is an error of the result (a gateway reloading a policy must
 * keep the last valid one, not die).
 */
export function compilePolicy(text: string): CompileResult {
  try {
    return compile(text);
  } catch (err) {
    return { ok: false, errors: [{ path: '', message: `cannot compile the policy: ${(err as Error).message}` }] };
  }
}

function compile(text: string): CompileResult {
  const parsed = parseJson(text);
  if (!parsed.ok) return { ok: false, errors: [{ path: '', message: parsed.message, ...parsed.location }] };
  const sourceMap = new SourceMap(text);
  const repeated = duplicateKeys(text, sourceMap.root);
  if (repeated.length > 0) {
    return {
      ok: false,
      errors: repeated.map((d) => ({
        path: jsonPath(d.path),
        message: 'key written twice in one object',
        ...d.location,
      })),
    };
  }
  const at = (parts: readonly PropertyKey[], message: string): PolicyProblem => ({
    path: jsonPath(parts),
    message,
    ...sourceMap.at(parts),
  });

  // A tool keyed `__proto__` would vanish (the schema's records skip it, as JavaScript objects
  // treat it as their prototype): refused, rather than a deny rule silently gone.
  const tools = (parsed.value as { tools?: unknown } | null)?.tools;
  if (typeof tools === 'object' && tools !== null && Object.hasOwn(tools, '__proto__')) {
    return {
      ok: false,
      errors: [
        at(['tools', '__proto__'], 'cannot be a tool key (JavaScript reserves it); the glob __proto_? rules that tool'),
      ],
    };
  }
  const checked = policySchema.safeParse(parsed.value);
  if (!checked.success) {
    const errors: PolicyProblem[] = [];
    for (const issue of checked.error.issues) {
      if (issue.code === 'unrecognized_keys') {
        for (const key of issue.keys) errors.push(at([...issue.path, key], unknownField(key, fieldsAt(issue.path))));
      } else if (issue.code === 'invalid_key') {
        // What is wrong with the key itself, not the record's own message.
        errors.push(at(issue.path, issue.issues[0]?.message ?? issue.message));
      } else
        errors.push(
          at(issue.path, isMissing(parsed.value, issue.path) ? `required (${issue.message})` : issue.message),
        );
    }
    return { ok: false, errors };
  }
  const file: PolicyFile = checked.data;
  const errors: PolicyProblem[] = [];
  const warnings: PolicyProblem[] = [];

  const compileLimits = (specs: readonly LimitSpec[], owner: readonly PropertyKey[], ownerKey: string) =>
    specs.map((spec, i): CompiledLimit => {
      const parts = [...owner, 'limits', i];
      const windowMs = parseWindow(spec.window)!;
      const scope = spec.scope ?? 'grant';
      const counter = spec.counter ?? `${ownerKey}#${i}`;
      const per = scope === 'global' ? '' : ` per ${scope}`;
      const text = `at most ${spec.max} call${spec.max === 1 ? '' : 's'} per ${describeWindow(windowMs)}${per} (counter ${counter})`;
      return {
        path: jsonPath(parts),
        counter,
        scope,
        windowMs,
        keepMs: windowMs,
        max: spec.max,
        keyPrefix: `${counter}\u0000${scope}\u0000`,
        text,
        reason: `${jsonPath(parts)}: ${text}`,
        keys: new Map(),
      };
    });

  const rules: CompiledRule[] = [];
  for (const [key, spec] of Object.entries(file.tools ?? {})) {
    const parts = ['tools', key];
    let args: ArgsValidator | undefined;
    if (spec.args !== undefined) {
      try {
        args = compileArgsSchema(spec.args);
      } catch (err) {
        errors.push(at([...parts, 'args', ...schemaErrorPath(err)], `invalid JSON Schema: ${schemaError(err)}`));
      }
      for (const where of unsafePatterns(spec.args)) warnings.push(at([...parts, 'args', ...where], SLOW_PATTERN));
    }
    const path = jsonPath(parts);
    rules.push({
      key,
      path,
      action: spec.action ?? 'allow',
      reason: spec.reason,
      args,
      // A tool keyed `all_tools` would get `all_tools#i`, the counters of `all_tools.limits`.
      limits: compileLimits(spec.limits ?? [], parts, key === 'all_tools' ? 'tools.all_tools' : key),
      argsPath: `${path}.args`,
      denyReason: spec.reason ?? `denied by ${path}`,
      approvalReason: spec.reason ?? `${path} requires approval`,
      allowReason: spec.reason ?? `allowed by ${path}`,
    });
  }
  if (errors.length > 0) return { ok: false, errors };

  const exact = new Map<string, CompiledRule>();
  const globs: { rule: CompiledRule; re: GlobMatcher; lit: number }[] = [];
  for (const rule of rules) {
    if (isGlob(rule.key)) globs.push({ rule, re: globMatcher(rule.key), lit: literalLength(rule.key) });
    else exact.set(rule.key, rule);
  }
  // Longest literal text first; Array.prototype.sort is stable, so ties keep the written order.
  globs.sort((a, b) => b.lit - a.lit);
  for (let i = 0; i < globs.length; i++) {
    for (let j = i + 1; j < globs.length && globs[j]!.lit === globs[i]!.lit; j++) {
      const [a, b] = [globs[i]!.rule, globs[j]!.rule];
      if (globsOverlap(a.key, b.key)) {
        warnings.push(at(['tools', b.key], `overlaps ${a.path} with equal precedence; ${a.path} wins (written first)`));
      }
    }
  }

  for (const rule of rules) {
    const odd = unusualCharacter(rule.key);
    if (odd) warnings.push(at(['tools', rule.key], `the key holds ${odd}, ${UNUSUAL}`));
  }
  for (const [i, pattern] of (file.hide ?? []).entries()) {
    const odd = unusualCharacter(pattern);
    if (odd) warnings.push(at(['hide', i], `the entry holds ${odd}, ${UNUSUAL}`));
  }

  const hide: HideEntry[] = (file.hide ?? []).map((pattern, i) => {
    const re = isGlob(pattern) ? globMatcher(pattern) : undefined;
    return { pattern, path: `hide[${i}]`, matches: re ? (t) => re.test(t) : (t) => t === pattern };
  });

  const ruleCache = new Map<string, CompiledRule | null>();
  const hideCache = new Map<string, HideEntry | null>();
  const CACHE_MAX = 10_000;
  const ruleFor = (tool: string): CompiledRule | undefined => {
    const hit = ruleCache.get(tool);
    if (hit !== undefined) return hit ?? undefined;
    let found: CompiledRule | null = exact.get(tool) ?? null;
    if (!found)
      for (const g of globs)
        if (g.re.test(tool)) {
          found = g.rule;
          break;
        }
    if (ruleCache.size >= CACHE_MAX) ruleCache.clear();
    ruleCache.set(tool, found);
    return found ?? undefined;
  };
  const hiddenBy = (tool: string): HideEntry | undefined => {
    if (hide.length === 0) return undefined;
    const hit = hideCache.get(tool);
    if (hit !== undefined) return hit ?? undefined;
    const found = hide.find((h) => h.matches(tool)) ?? null;
    if (hideCache.size >= CACHE_MAX) hideCache.clear();
    hideCache.set(tool, found);
    return found ?? undefined;
  };

  const allToolsLimits = compileLimits(file.all_tools?.limits ?? [], ['all_tools'], 'all_tools');
  shareRetention([...rules.flatMap((r) => r.limits), ...allToolsLimits]);

  const policy: Policy = {
    default: file.default,
    rules,
    allToolsLimits,
    hide,
    sha256: createHash('sha256').update(text).digest('hex'),
    rulePaths: [...hide.map((h) => h.path), ...rules.map((r) => r.path)],
    ruleFor,
    hiddenBy,
  };
  return { ok: true, policy, warnings };
}

const UNUSUAL = 'which MCP tool names do not: a typo? only a tool named exactly so matches';
const SLOW_PATTERN =
  'this regular expression can take exponential time (a repeated group that itself repeats, e.g. (a+)+): ' +
  'an argument the agent chooses could freeze the gateway; write it without nested repetition';

/**
 * The first character of a tool key (or hide entry) that MCP tool names do not hold and a typo
 * or a paste easily does: whitespace (`"delete_* "`), an invisible character, a non-ASCII letter
 * (a Cyrillic `е`). Such a key matches no tool the server lists: under `default: allow` a deny
 * rule silently gone. Printable ASCII (`/`, `:`, `@` of some servers' names) is not questioned.
 */
function unusualCharacter(key: string): string | undefined {
  const m = /[^\x21-\x7e]/u.exec(key);
  if (!m) return undefined;
  const ch = m[0];
  const code = `U+${ch.codePointAt(0)!.toString(16).toUpperCase().padStart(4, '0')}`;
  const kind = /\s/u.test(ch)
    ? ch === ' '
      ? 'a space'
      : 'whitespace'
    : /[\p{Cc}\p{Cf}\p{Zl}\p{Zp}]/u.test(ch)
      ? 'an invisible character'
      : 'a non-ASCII character';
  return `${kind} (${code})`;
}

/** Gives every limit the longest window among the limits sharing its counter and scope. */
function shareRetention(limits: readonly CompiledLimit[]): void {
  const longest = new Map<string, number>();
  for (const l of limits) longest.set(l.keyPrefix, Math.max(longest.get(l.keyPrefix) ?? 0, l.windowMs));
  for (const l of limits) l.keepMs = longest.get(l.keyPrefix)!;
}

/** Whether the member a path names is absent (its parent is there): then it is required, not wrong. */
/** `unknown field`, with the field meant when it is a typo of one, else the fields allowed there. */
function unknownField(key: string, fields: readonly string[]): string {
  if (fields.length === 0) return 'unknown field';
  const near = fields.find((f) => editDistance(key.toLowerCase(), f) <= Math.max(1, Math.floor(f.length / 3)));
  return near ? `unknown field (did you mean ${near}?)` : `unknown field (expected one of: ${fields.join(', ')})`;
}

/** Levenshtein distance (short field names: the plain two-row table). */
function editDistance(a: string, b: string): number {
  let prev = Array.from({ length: b.length + 1 }, (_, j) => j);
  for (let i = 1; i <= a.length; i++) {
    const cur = [i];
    for (let j = 1; j <= b.length; j++)
      cur[j] = Math.min(prev[j]! + 1, cur[j - 1]! + 1, prev[j - 1]! + (a[i - 1] === b[j - 1] ? 0 : 1));
    prev = cur;
  }
  return prev[b.length]!;
}

function isMissing(root: unknown, path: readonly PropertyKey[]): boolean {
  let v: unknown = root;
  for (const [i, key] of path.entries()) {
    if (typeof v !== 'object' || v === null) return false;
    if (i === path.length - 1) return !Object.hasOwn(v, key);
    v = (v as Record<PropertyKey, unknown>)[key];
  }
  return false;
}
