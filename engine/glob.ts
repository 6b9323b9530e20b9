/**
 * Tool-name globs: `*` matches any run of characters (including none), `?` exactly one. Every
 * other character is literal — tool names may hold `/`, `.`, `[` or `{`, which path-glob
 * libraries would give meanings of their own.
 */
export function isGlob(pattern: string): boolean {
  return pattern.includes('*') || pattern.includes('?');
}

export function globToRegExp(pattern: string): RegExp {
  let source = '';
  for (const ch of pattern) {
    if (ch === '*') source += '[\\s\\S]*';
    else if (ch === '?') source += '[\\s\\S]';
    // Only the characters a `u` regular expression lets (and needs) us escape: not `-`.
    else source += ch.replace(/[\\^$.*+?()[\]{}|/]/g, '\\$&');
  }
  return new RegExp(`^${source}$`, 'u');
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
