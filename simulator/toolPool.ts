import { globToRegExp, isGlob } from '../engine/glob.js';
import { nameVariants } from './adversarial.js';
import type { SimPolicy, ToolSpec } from './types.js';

export interface ToolPool {
  /** The catalog (or, without one, the tools the policies name): most calls go to these. */
  primary: ToolSpec[];
  /** Names the catalog does not list: policy keys, glob instantiations, case/look-alike variants. */
  extra: ToolSpec[];
  /** The names in `extra` that are case, look-alike or padding variants of another name. */
  variants: Set<string>;
}

/** `delete_*` → `delete_x`: a concrete name a glob matches. */
export function instantiate(glob: string, fill = 'x'): string {
  return glob.replace(/[*?]/g, fill);
}

/** The policies' `tools` keys, in file order. */
function policyKeys(p: SimPolicy): string[] {
  const tools = (p.doc as { tools?: Record<string, unknown> } | null)?.tools;
  return tools && typeof tools === 'object' ? Object.keys(tools) : [];
}

/** The `args` schema the first policy applies to `name`, if any. */
export function argsSchemaFor(policies: readonly SimPolicy[], name: string): unknown {
  for (const p of policies) {
    const rule = p.policy.ruleFor(name);
    if (!rule) continue;
    const spec = (p.doc as { tools: Record<string, { args?: unknown }> }).tools[rule.key];
    if (spec?.args !== undefined) return spec.args;
  }
  return undefined;
}

/**
 * Concrete tool names for a set of policy keys: exact keys as they are; each glob as `x` and
 * empty fillings, plus every other key's instantiation it also matches (`delete_*` gets
 * `delete_temp_x` from `delete_temp_*`), which is where precedence holes hide.
 */
export function namesFromKeys(keys: readonly string[]): string[] {
  const out = new Set<string>();
  const concrete = keys.map((k) => (isGlob(k) ? instantiate(k) : k));
  for (const k of keys) {
    if (!isGlob(k)) {
      out.add(k);
      continue;
    }
    out.add(instantiate(k));
    out.add(instantiate(k, ''));
    const re = globToRegExp(k);
    for (const c of concrete) if (re.test(c)) out.add(c);
  }
  return [...out];
}

/**
 * What to call: the catalog first (or, with none, the names the policies' keys give); then the
 * names an agent could send that the catalog does not list. Deterministic order.
 */
export function buildToolPool(catalog: readonly ToolSpec[] | undefined, policies: readonly SimPolicy[]): ToolPool {
  const keys = [...new Set(policies.flatMap(policyKeys))];
  const fromPolicy = namesFromKeys(keys).map(
    (name): ToolSpec => ({ name, inputSchema: argsSchemaFor(policies, name) }),
  );
  const primary = catalog && catalog.length > 0 ? [...catalog] : fromPolicy;
  const known = new Set(primary.map((t) => t.name));
  const extra: ToolSpec[] = [];
  const variants = new Set<string>();
  const add = (t: ToolSpec) => {
    if (known.has(t.name)) return false;
    known.add(t.name);
    extra.push(t);
    return true;
  };
  for (const t of fromPolicy) add(t);
  for (const t of [...primary, ...fromPolicy])
    for (const name of nameVariants(t.name)) if (add({ name, inputSchema: t.inputSchema })) variants.add(name);
  return { primary, extra, variants };
}
