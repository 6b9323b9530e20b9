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
