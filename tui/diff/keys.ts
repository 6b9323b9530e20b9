import type { Transition } from '../../replayer/diff.js';

/** Everything the diff TUI's keys change. */
export interface ViewState {
  changedOnly: boolean;
  tool: string;
  /** The tool filter being typed after `/`; undefined when not typing. */
  editing: string | undefined;
  transition: Transition | undefined;
  cursor: number;
  /** First visible row of the list. */
  top: number;
  detail: boolean;
  quit: boolean;
  /** Quit by Ctrl-C: the command is interrupted (exit 130, no summary). */
  interrupted?: boolean;
}

export const initialState: ViewState = {
  changedOnly: true,
  tool: '',
  editing: undefined,
  transition: undefined,
  cursor: 0,
  top: 0,
  detail: false,
  quit: false,
};

/** One key as ink reports it (a subset of ink's `Key`). */
export interface KeyPress {
  input: string;
  upArrow?: boolean;
  downArrow?: boolean;
  pageUp?: boolean;
  pageDown?: boolean;
  home?: boolean;
  end?: boolean;
  return?: boolean;
  escape?: boolean;
  tab?: boolean;
  backspace?: boolean;
  delete?: boolean;
  ctrl?: boolean;
  meta?: boolean;
}

export interface KeyContext {
  /** How many rows a state's filters show. */
  count: (s: ViewState) => number;
  /** The call shown at row `pos` under a state's filters. */
  callAt: (s: ViewState, pos: number) => number | undefined;
  /** The row of `call` (or of the first call after it) under a state's filters. */
  rowOf: (s: ViewState, call: number) => number;
  listHeight: number;
  /** The transitions that occur, in the order `t` cycles through them. */
  present: readonly Transition[];
}

/**
 * Splits what ink delivers as one input into single keys: text typed fast or pasted arrives as
 * one string ("jj\r"), and each character must act as its own key.
 */
export function splitKeys(input: string, key: Omit<KeyPress, 'input'>): KeyPress[] {
  const special = Object.values(key).some(Boolean);
  if (special || input.length <= 1) return [{ input, ...key }];
  return [...input].map((ch) =>
    ch === '\r' || ch === '\n'
      ? { input: '', return: true }
      : ch === '\t'
        ? { input: '', tab: true }
        : ch === '\x7f' || ch === '\b'
          ? { input: '', backspace: true }
          : { input: ch },
  );
}

const moved = (s: ViewState, to: number, ctx: KeyContext): ViewState => {
  const n = ctx.count(s);
  const cursor = Math.max(0, Math.min(to, n - 1));
  const top = cursor < s.top ? cursor : cursor >= s.top + ctx.listHeight ? cursor - ctx.listHeight + 1 : s.top;
  return { ...s, cursor, top };
};

const refiltered = (s: ViewState): ViewState => ({ ...s, cursor: 0, top: 0 });

/** The state after one key (pure: the TUI and its tests share it). */
export function applyKey(s: ViewState, k: KeyPress, ctx: KeyContext): ViewState {
  const { input } = k;
  if (s.editing !== undefined) {
    if (k.return) return refiltered({ ...s, tool: s.editing, editing: undefined });
    if (k.escape) return refiltered({ ...s, editing: undefined });
    if (k.backspace || k.delete) return refiltered({ ...s, editing: s.editing.slice(0, -1) });
    if (input && !k.ctrl && !k.meta) return refiltered({ ...s, editing: s.editing + input });
    return s;
  }
  if (input === 'q') return { ...s, quit: true };
  if (k.ctrl && input === 'c') return { ...s, quit: true, interrupted: true };
  if (k.upArrow || input === 'k') return moved(s, s.cursor - 1, ctx);
  if (k.downArrow || input === 'j') return moved(s, s.cursor + 1, ctx);
  if (s.detail) {
    if (k.return || k.escape || k.backspace) return { ...s, detail: false };
    return s;
  }
  if (k.pageUp) return moved(s, s.cursor - ctx.listHeight, ctx);
  if (k.pageDown || input === ' ') return moved(s, s.cursor + ctx.listHeight, ctx);
  if (k.home || input === 'g') return moved(s, 0, ctx);
  if (k.end || input === 'G') return moved(s, ctx.count(s) - 1, ctx);
  if (k.tab) {
    // Stay on the selected call (or the next one shown) when switching views.
    const call = ctx.callAt(s, s.cursor);
    const next = refiltered({ ...s, changedOnly: !s.changedOnly });
    if (call === undefined) return next;
    const cursor = Math.min(ctx.rowOf(next, call), Math.max(0, ctx.count(next) - 1));
    return { ...next, cursor, top: Math.max(0, cursor - (ctx.listHeight >> 1)) };
  }
  if (input === '/') return { ...s, editing: '' };
  if (k.escape) return refiltered({ ...s, tool: '', transition: undefined });
  if (input === 't') {
    const i = s.transition ? ctx.present.indexOf(s.transition) : -1;
    return refiltered({ ...s, transition: i + 1 < ctx.present.length ? ctx.present[i + 1] : undefined });
  }
  if (k.return && ctx.count(s) > 0) return { ...s, detail: true };
  return s;
}
