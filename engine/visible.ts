import stringWidth from 'string-width';

/**
 * Characters that change how text looks without showing themselves: controls, format characters
 * (bidi overrides and isolates, zero-width spaces and joiners, the BOM, the soft hyphen) and line
 * and paragraph separators. In text a human reads to approve a call, each could hide or reorder
 * what the call does ("Trojan Source": `rm -rf /` displayed as something harmless).
 */
const HIDDEN = /[\p{Cc}\p{Cf}\p{Zl}\p{Zp}]/gu;

const escape = (ch: string): string => {
  const cp = ch.codePointAt(0)!;
  return cp > 0xffff ? `\\u{${cp.toString(16)}}` : `\\u${cp.toString(16).padStart(4, '0')}`;
};

/** `text` with every hidden character written as its `\uXXXX` escape, so that it shows. */
export function visible(text: string): string {
  return text.replace(HIDDEN, escape);
}

/** A tool name as a human should read it: non-ASCII escaped too (a look-alike `еcho` is not `echo`). */
export function visibleName(name: string): string {
  return /^[\x20-\x7e]*$/.test(name) ? name : name.replace(/[^\x20-\x7e]/gu, escape);
}

/** The columns `text` takes on a terminal (CJK and emoji take two; printable ASCII is its length). */
export function displayWidth(text: string): number {
  return /^[\x20-\x7e]*$/.test(text) ? text.length : stringWidth(text);
}

/** `text` padded with spaces to `width` columns on a terminal. */
function padTo(text: string, width: number): string {
  const w = displayWidth(text);
  return w >= width ? text : text + ' '.repeat(width - w);
}

/** Formats rows as aligned columns (by display width); the last column is not padded. */
export function table(header: readonly string[], rows: readonly (readonly string[])[]): string[] {
  // A loop, not Math.max(...cells): spread into arguments, 130,000 rows overflow the stack.
  const widths = header.map(displayWidth);
  for (const r of rows)
    for (let i = 0; i < widths.length; i++) widths[i] = Math.max(widths[i]!, displayWidth(r[i] ?? ''));
  const fmt = (r: readonly string[]) =>
    r
      .map((c, i) => (i === r.length - 1 ? c : padTo(c, widths[i]!)))
      .join('  ')
      .trimEnd();
  return [fmt(header), ...rows.map(fmt)];
}

/** A session id short enough for a column (12 characters; the approvals list, replay's and diff's tables). */
export function shortId(id: string | null | undefined): string {
  if (!id) return '-';
  return id.length <= 12 ? id : id.slice(0, 11) + '…';
}

/** Pads a row to fixed widths (streaming tables, where rows are not known in advance). */
export function row(cells: readonly string[], widths: readonly number[]): string {
  return cells
    .map((c, i) => (i === cells.length - 1 ? c : padTo(c, widths[i] ?? 0)))
    .join('  ')
    .trimEnd();
}
