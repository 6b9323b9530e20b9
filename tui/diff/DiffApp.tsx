import { Box, Text, useApp, useInput } from 'ink';
import { useMemo, useRef, useState } from 'react';
import { useTerminalSize } from '../terminalSize.js';
import { TRANSITION_ORDER as TRANSITIONS } from './order.js';
import { Detail } from './Detail.js';
import { DECISION_COLOR, describeSide, fit, relTime } from './format.js';
import { Header, headerHeight, type MatrixSummary } from './Header.js';
import { applyKey, initialState, splitKeys, type ViewState } from './keys.js';
import type { DiffModel } from './model.js';
import { Interrupted } from '../../engine/errors.js';

export interface DiffAppProps {
  model: DiffModel;
  summary: MatrixSummary;
  policyA: string;
  policyB: string;
  /** Re-reads the arguments of a call that was not kept (unchanged calls). */
  loadArgs?: (session: string, seq: number) => unknown;
  /** Where TIME counts from (ms): the earliest session's start, as in `replay`; else the first call. */
  originMs?: number;
  /** Terminal size; defaults to the stdout's (tests pass their own). */
  height?: number;
  width?: number;
}

// Separator, view line, column header, help line, and one spare: ink redraws the whole screen when
// its output is as tall as the terminal.
const FIXED_LINES = 5;

/**
 * The diff TUI: header with the matrix, a scrollable list of (changed) calls, a detail pane.
 * Renders only the visible window, so a million calls scroll as fast as ten.
 */
export function DiffApp({ model, summary, policyA, policyB, loadArgs, originMs, height, width }: DiffAppProps) {
  const { exit } = useApp();
  const { rows, columns: cols } = useTerminalSize(height, width);

  const [state, setState] = useState(initialState);
  // Keys can arrive faster than React re-renders: each key applies to the latest state, not the rendered one.
  const latest = useRef(state);
  const selections = useRef(new Map<string, Uint32Array>());
  const select = (f: ViewState): Uint32Array => {
    const filter = { changedOnly: f.changedOnly, tool: f.editing ?? f.tool, transition: f.transition };
    const key = `${filter.changedOnly}|${filter.transition ?? ''}|${filter.tool}`;
    let hit = selections.current.get(key);
    if (!hit) {
      if (selections.current.size >= 8) selections.current.clear();
      selections.current.set(key, (hit = model.select(filter)));
    }
    return hit;
  };
  const present = useMemo(() => TRANSITIONS.filter((t) => summary.transitions[t]), [summary]);
  const listHeight = Math.max(1, rows - headerHeight(summary) - FIXED_LINES);
  const origin = useMemo(() => originMs ?? (model.size > 0 ? model.row(0).at : 0), [model, originMs]);

  useInput((input, key) => {
    const ctx = {
      count: (s: ViewState) => select(s).length,
      callAt: (s: ViewState, pos: number) => select(s)[pos],
      rowOf: (s: ViewState, call: number) => lowerBound(select(s), call),
      listHeight,
      present,
    };
    let next = latest.current;
    for (const k of splitKeys(input, key)) {
      next = applyKey(next, k, ctx);
      if (next.quit) break;
    }
    latest.current = next;
    if (next.quit) exit(next.interrupted ? new Interrupted() : undefined);
    else setState(next);
  });

  const { changedOnly, tool, editing, transition, detail } = state;
  const visible = select(state);
  // Keep the cursor inside the list and the window around the cursor (the terminal may have shrunk).
  const cur = Math.min(state.cursor, Math.max(0, visible.length - 1));
  let first = Math.min(state.top, cur);
  if (cur >= first + listHeight) first = cur - listHeight + 1;

  const view = [
    changedOnly ? 'changed calls' : 'all calls',
    `tool: ${editing !== undefined ? `/${editing}▏` : tool || '*'}`,
    `transition: ${transition ?? '*'}`,
    visible.length === 0 ? 'no calls' : `${cur + 1}/${visible.length}`,
  ].join('   ');

  const timeW = 11;
  const sessW = 10;
  const decW = 9;
  const toolW = Math.max(12, Math.min(28, cols - timeW - sessW - 2 * decW - 30));
  const reasonW = Math.max(10, cols - timeW - sessW - toolW - 2 * decW - 6);

  let body;
  if (detail && visible.length > 0) {
    const row = model.row(visible[cur]!);
    const args = row.args !== undefined ? row.args : loadArgs?.(row.session, row.seq);
    body = <Detail row={row} args={args} height={listHeight + 1} />;
  } else {
    const lines = [];
    for (let k = first; k < Math.min(visible.length, first + listHeight); k++) {
      const r = model.row(visible[k]!);
      const selected = k === cur;
      lines.push(
        <Text key={r.index} wrap="truncate" inverse={selected}>
          {selected ? '>' : ' '}
          {fit(relTime(r.at, origin), timeW)} {fit(r.session, sessW)} {fit(r.tool, toolW)}{' '}
          <Text color={DECISION_COLOR[r.a.decision]}>{fit(r.a.decision, decW)}</Text>
          <Text color={DECISION_COLOR[r.b.decision]}>{fit(r.b.decision, decW)}</Text>{' '}
          {fit(describeSide(r.changed ? r.b : r.a), reasonW)}
        </Text>,
      );
    }
    if (visible.length === 0)
      lines.push(
        <Text key="none" dimColor>
          {model.size === 0
            ? '  the sessions have no tools/call'
            : changedOnly && !tool && !transition && editing === undefined
              ? '  no call changed decision (tab shows all calls)'
              : '  no call matches (esc clears the filters)'}
        </Text>,
      );
    body = (
      <Box flexDirection="column">
        <Text bold wrap="truncate">
          {' '}
          {fit('TIME', timeW)} {fit('SESSION', sessW)} {fit('TOOL', toolW)} {fit('A', decW)}
          {fit('B', decW)} REASON
        </Text>
        {lines}
      </Box>
    );
  }

  return (
    // Without a fixed width the root takes the terminal's, which ink re-reads on a resize before
    // React re-renders: the frame it redraws then is already cut to the new width.
    <Box flexDirection="column" width={width}>
      <Header policyA={policyA} policyB={policyB} summary={summary} />
      <Text dimColor wrap="truncate">
        {'─'.repeat(Math.max(0, cols))}
      </Text>
      <Text wrap="truncate">{view}</Text>
      {body}
      <Text dimColor wrap="truncate">
        {detail
          ? 'enter/esc back  ↑/↓ previous/next call  q quit'
          : '↑/↓ j/k move  PgUp/PgDn page  tab all/changed  / tool filter  t transition  enter detail  q quit'}
      </Text>
    </Box>
  );
}

function lowerBound(a: Uint32Array, x: number): number {
  let lo = 0;
  let hi = a.length;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if (a[mid]! < x) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}
