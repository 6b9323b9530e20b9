import { globMatcher, isGlob } from '../engine/glob.js';
import { nameVariants } from './adversarial.js';
import type { SimPolicy, ToolSpec } from './types.js';

/** A name to call and the schemas its arguments are drawn from (one picked per call). */
export interface PoolTool {
  name: string;
  /** The tool's `inputSchema`, then the `args` schemas the policies apply to it (values they admit). */
  schemas: unknown[];
}

export interface ToolPool {
  /** The catalog (or, without one, the tools the policies name): most calls go to these. */
  primary: PoolTool[];
  /** Names the catalog does not list: policy keys, glob instantiations, case/look-alike variants. */
  extra: PoolTool[];
  /** The names in `extra` that are case, look-alike or padding variants of another name. */
  variants: Set<string>;
}

/** `delete_*` → `delete_x`: a concrete name a glob matches. */
export function instantiate(glob: string, fill = 'x'): string {
  return glob.replace(/[*?]/g, fill);
}

/** The policies' `tools` keys and `hide` entries, in file order (hidden tools get called anyway). */
function policyKeys(p: SimPolicy): string[] {
  const doc = p.doc as { tools?: Record<string, unknown>; hide?: unknown } | null;
  const keys = doc?.tools && typeof doc.tools === 'object' ? Object.keys(doc.tools) : [];
  const hidden = Array.isArray(doc?.hide) ? doc.hide.filter((h): h is string => typeof h === 'string') : [];
  return [...keys, ...hidden];
}

/** The `args` schemas the policies apply to `name` (distinct, policy order). */
export function argsSchemasFor(policies: readonly SimPolicy[], name: string): unknown[] {
  const out = new Map<string, unknown>();
  for (const p of policies) {
    const rule = p.policy.ruleFor(name);
    if (!rule) continue;
    const spec = (p.doc as { tools: Record<string, { args?: unknown }> }).tools[rule.key];
    if (spec?.args !== undefined) out.set(JSON.stringify(spec.args), spec.args);
  }
  return [...out.values()];
}

const OBJECT = { type: 'object' };

/** An expectation as the pool sees it: which tools it is about, and its `when` schema (if any). */
export interface ExpectedCall {
  tool: string;
  matchesTool: (tool: string) => boolean;
  when: unknown;
}

/**
 * A tool's schemas: its input schema, plus what the policies admit (so allowed calls get drawn
 * too) and the `when` schemas of the expectations about it (so the calls they are about get
 * drawn: `when: {properties: {q: {const: "admin"}}}` names a key and a value nothing else may).
 */
function poolTool(t: ToolSpec, policies: readonly SimPolicy[], expected: readonly ExpectedCall[]): PoolTool {
  const out = new Map<string, unknown>();
  if (t.inputSchema !== undefined) out.set(JSON.stringify(t.inputSchema), t.inputSchema);
  for (const s of argsSchemasFor(policies, t.name)) if (!out.has(JSON.stringify(s))) out.set(JSON.stringify(s), s);
  for (const e of expected)
    if (e.when !== undefined && e.matchesTool(t.name) && !out.has(JSON.stringify(e.when)))
      out.set(JSON.stringify(e.when), e.when);
  const schemas = [...out.values()];
  return { name: t.name, schemas: schemas.length > 0 ? schemas : [OBJECT] };
}

/**
 * Concrete tool names for a set of policy keys: exact keys as they are; each glob as `x` and
 * empty fillings, plus every other key's instantiation it also matches (`delete_*` gets
 * `delete_temp_x` from `delete_temp_*`), and names that two globs both match, made by filling
 * one with the other (`delete_*` and `*_temp_file`: `delete_x_temp_file`): that is where
 * precedence holes hide.
 */
export function namesFromKeys(keys: readonly string[]): string[] {
  const out = new Set<string>();
  const concrete = keys.map((k) => (isGlob(k) ? instantiate(k) : k));
  const globs = keys.filter(isGlob);
  for (const k of keys) {
    if (!isGlob(k)) {
      out.add(k);
      continue;
    }
    out.add(instantiate(k));
    out.add(instantiate(k, ''));
    const re = globMatcher(k);
    for (const c of concrete) if (re.test(c)) out.add(c);
    for (const other of globs) {
      if (other === k) continue;
      const both = globMatcher(other);
      for (const fill of [instantiate(other), instantiate(other, '')]) {
        const name = k.replace(/\*/, fill).replace(/[*?]/g, 'x');
        if (re.test(name) && both.test(name)) out.add(name);
      }
    }
  }
  return [...out];
}

/**
 * What to call: the catalog first (or, with none, the names the policies' keys give); then the
 * names an agent could send that the catalog does not list. Deterministic order.
 */
export function buildToolPool(
  catalog: readonly ToolSpec[] | undefined,
  policies: readonly SimPolicy[],
  /** The expectations: the tools they name are called too (else one may test nothing), with their `when`s. */
  expected: readonly ExpectedCall[] = [],
): ToolPool {
  const keys = [...new Set([...policies.flatMap(policyKeys), ...expected.map((e) => e.tool)])];
  const fromPolicy = namesFromKeys(keys).map((name) => poolTool({ name }, policies, expected));
  const primary = catalog && catalog.length > 0 ? catalog.map((t) => poolTool(t, policies, expected)) : fromPolicy;
  const known = new Set(primary.map((t) => t.name));
  const extra: PoolTool[] = [];
  const variants = new Set<string>();
  const add = (t: PoolTool) => {
    if (known.has(t.name)) return false;
    known.add(t.name);
    extra.push(t);
    return true;
  };
  for (const t of fromPolicy) add(t);
  for (const t of [...primary, ...fromPolicy])
    for (const name of nameVariants(t.name)) if (add({ name, schemas: t.schemas })) variants.add(name);
  return { primary, extra, variants };
}
