/**
 * Tool-name globs: `*` matches any run of characters (including none), `?` exactly one. Every
 * other character is literal — tool names may hold `/`, `.`, `[` or `{`, which path-glob
 * libraries would give meanings of their own.
 */
export function isGlob(pattern: string): boolean {
  return pattern.includes('*') || pattern.includes('?');
}

const SURROGATE = /[\ud800-\udfff]/;

/** Whether a tool name matches a glob. */
export interface GlobMatcher {
  test(name: string): boolean;
}

/**
 * A glob's matcher, by code points (`?` is one character, an emoji too). Not a regular
 * expression: `^[\s\S]*_[\s\S]*_[\s\S]*x$` backtracks through every split of a long name
 * that does not match (≈ n⁴ steps for `*_*_*_*x`: hours for a 5,000-character name), and the name
 * is the agent's to choose. This greedy match returns to the last `*` only: O(name × glob) at worst.
 */
export function globMatcher(pattern: string): GlobMatcher {
  // Strings index UTF-16 units: split into code points only where a surrogate makes them differ.
  const p = SURROGATE.test(pattern) ? [...pattern] : pattern;
  return {
    test(name: string): boolean {
      const t = SURROGATE.test(name) ? [...name] : name;
      let i = 0; // in t
      let j = 0; // in p
      let star = -1; // the last * seen in p
      let resume = 0; // where in t that * 's run ends for now
      while (i < t.length) {
        if (j < p.length && p[j] === '*') {
          star = j++;
          resume = i;
        } else if (j < p.length && (p[j] === '?' || p[j] === t[i])) {
          i++;
          j++;
        } else if (star !== -1) {
          // The last * takes one more character; what follows it starts again after.
          j = star + 1;
          i = ++resume;
        } else return false;
      }
      while (j < p.length && p[j] === '*') j++;
      return j === p.length;
    },
  };
}

/** Number of literal (non-wildcard) characters: the precedence of a glob among globs. */
export function literalLength(pattern: string): number {
  let n = 0;
  for (const ch of pattern) if (ch !== '*' && ch !== '?') n++;
  return n;
}

/** Whether some tool name matches both globs. */
export function globsOverlap(a: string, b: string): boolean {
  const A = [...a];
  const B = [...b];
  const memo = new Map<number, boolean>();
  const go = (i: number, j: number): boolean => {
    const k = i * (B.length + 1) + j;
    const hit = memo.get(k);
    if (hit !== undefined) return hit;
    let r: boolean;
    if (i === A.length && j === B.length) r = true;
    else if (A[i] === '*') r = go(i + 1, j) || (j < B.length && go(i, j + 1));
    else if (B[j] === '*') r = go(i, j + 1) || (i < A.length && go(i + 1, j));
    else if (i === A.length || j === B.length) r = false;
    else r = (A[i] === '?' || B[j] === '?' || A[i] === B[j]) && go(i + 1, j + 1);
    memo.set(k, r);
    return r;
  };
  return go(0, 0);
}
