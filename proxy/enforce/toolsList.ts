import type { Policy } from '../../engine/compilePolicy.js';

/**
 * Why the policy denies every call of `tool` whatever its arguments and counters, or undefined:
 * hidden, no rule under `default: deny`, or `action: deny`. Tools denied only by `args` or by
 * limits are not denied outright and stay listed.
 */
export function deniedOutright(policy: Policy, tool: string): string | undefined {
  const hidden = policy.hiddenBy(tool);
  if (hidden) return `hidden by ${hidden.path}`;
  const rule = policy.ruleFor(tool);
  if (!rule) return policy.default === 'deny' ? 'no rule; default deny' : undefined;
  return rule.action === 'deny' ? `denied by ${rule.path}` : undefined;
}

/**
 * A `tools/list` result without the tools the policy denies outright (SPEC §3). Every other field
 * (`nextCursor`, `_meta`, each tool's own fields) is kept; entries without a string `name` are
 * dropped (a client could not call them). `removed` names what was taken out.
 */
export function filterToolsList<T>(policy: Policy, result: T): { result: T; removed: string[] } {
  const tools = (result as { tools?: unknown } | null)?.tools;
  if (!Array.isArray(tools)) return { result, removed: [] };
  const removed: string[] = [];
  const kept = tools.filter((tool: unknown) => {
    const name = (tool as { name?: unknown } | null)?.name;
    if (typeof name !== 'string') {
      removed.push(String(name));
      return false;
    }
    if (deniedOutright(policy, name) === undefined) return true;
    removed.push(name);
    return false;
  });
  return { result: removed.length === 0 ? result : ({ ...result, tools: kept } as T), removed };
}
