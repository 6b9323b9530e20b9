/**
 * A naive, independent model of SPEC §2 for property tests: no caches, no pruning, no binary
 * search — a list of allowed-call times per counter key, scanned in full for every check.
 */
import { Ajv2020, type ValidateFunction } from 'ajv/dist/2020.js';

export interface RefLimit {
  counter?: string;
  window: number; // ms
  max: number;
  scope?: 'global' | 'grant' | 'session';
}
export interface RefRule {
  action?: 'allow' | 'deny' | 'require_approval';
  args?: object;
  limits?: RefLimit[];
}
export interface RefPolicy {
  default: 'allow' | 'deny';
  tools: [string, RefRule][];
  all_tools?: RefLimit[];
  hide?: string[];
}
export interface RefCall {
  tool: string;
  args: unknown;
  session: string;
  grant: string;
  at: number;
}
export interface RefDecision {
  decision: 'allow' | 'deny' | 'throttle' | 'approval';
  rule: string;
  retryAfterMs?: number;
}

/** Wildcard match by plain recursion: `*` any run, `?` one character. */
export function wildcard(pattern: string, text: string): boolean {
  const p = [...pattern];
  const t = [...text];
  const go = (i: number, j: number): boolean => {
    if (i === p.length) return j === t.length;
    if (p[i] === '*') {
      for (let k = j; k <= t.length; k++) if (go(i + 1, k)) return true;
      return false;
    }
    return j < t.length && (p[i] === '?' || p[i] === t[j]) && go(i + 1, j + 1);
  };
  return go(0, 0);
}

const isGlob = (k: string) => k.includes('*') || k.includes('?');
const literal = (k: string) => [...k].filter((c) => c !== '*' && c !== '?').length;
const path = (key: string) => (/^[^.[\]"\s]+$/.test(key) ? `tools.${key}` : `tools[${JSON.stringify(key)}]`);

const ajv = new Ajv2020({ strict: false });
const compiled = new Map<string, ValidateFunction>();
/** One compiled validator per distinct schema text (property runs reuse the same few schemas). */
function validatorFor(schema: object): ValidateFunction {
  const text = JSON.stringify(schema);
  let v = compiled.get(text);
  if (!v) compiled.set(text, (v = ajv.compile(JSON.parse(text) as object)));
  return v;
}

export function referenceDecide(policy: RefPolicy, calls: readonly RefCall[]): RefDecision[] {
  const validators = new Map(policy.tools.filter(([, r]) => r.args).map(([k, r]) => [k, validatorFor(r.args!)]));
  const charges = new Map<string, number[]>();
  const out: RefDecision[] = [];
  for (const call of calls) {
    const hideIndex = (policy.hide ?? []).findIndex((h) => wildcard(h, call.tool));
    if (hideIndex >= 0) {
      out.push({ decision: 'deny', rule: `hide[${hideIndex}]` });
      continue;
    }
    let entry = policy.tools.find(([k]) => !isGlob(k) && k === call.tool);
    if (!entry) {
      let best: [string, RefRule] | undefined;
      for (const e of policy.tools) {
        if (isGlob(e[0]) && wildcard(e[0], call.tool) && (!best || literal(e[0]) > literal(best[0]))) best = e;
      }
      entry = best;
    }
    if (!entry && policy.default === 'deny') {
      out.push({ decision: 'deny', rule: 'default' });
      continue;
    }
    const [key, rule] = entry ?? ['', {}];
    if (entry && rule.action === 'deny') {
      out.push({ decision: 'deny', rule: path(key) });
      continue;
    }
    if (entry && rule.args && !validators.get(key)!(call.args)) {
      out.push({ decision: 'deny', rule: `${path(key)}.args` });
      continue;
    }
    const limits: { l: RefLimit; k: string; p: string }[] = [];
    const scopeKey = (l: RefLimit) => (l.scope === 'global' ? '' : l.scope === 'session' ? call.session : call.grant);
    (entry ? (rule.limits ?? []) : []).forEach((l, i) =>
      limits.push({
        l,
        k: `${l.counter ?? `${key}#${i}`}|${l.scope ?? 'grant'}|${scopeKey(l)}`,
        p: `${path(key)}.limits[${i}]`,
      }),
    );
    (policy.all_tools ?? []).forEach((l, i) =>
      limits.push({
        l,
        k: `${l.counter ?? `all_tools#${i}`}|${l.scope ?? 'grant'}|${scopeKey(l)}`,
        p: `all_tools.limits[${i}]`,
      }),
    );
    let throttled: string | undefined;
    let retry = 0;
    for (const { l, k, p } of limits) {
      const inWindow = (charges.get(k) ?? [])
        .filter((t) => t > call.at - l.window && t <= call.at)
        .sort((a, b) => a - b);
      if (inWindow.length >= l.max) {
        throttled ??= p;
        const wait = l.max === 0 ? Infinity : inWindow[inWindow.length - l.max]! + l.window - call.at;
        retry = Math.max(retry, wait);
      }
    }
    if (throttled) {
      const d: RefDecision = { decision: 'throttle', rule: throttled };
      if (Number.isFinite(retry)) d.retryAfterMs = Math.ceil(retry);
      out.push(d);
      continue;
    }
    for (const k of new Set(limits.map((x) => x.k))) charges.set(k, [...(charges.get(k) ?? []), call.at]);
    if (entry && rule.action === 'require_approval') out.push({ decision: 'approval', rule: path(key) });
    else out.push({ decision: 'allow', rule: entry ? path(key) : 'default' });
  }
  return out;
}
