import { Box, Text, useApp, useInput, useStdout } from 'ink';
import { useEffect, useMemo, useState } from 'react';
import { TRANSITIONS, type Transition } from '../../replayer/diff.js';
import { Detail } from './Detail.js';
import { DECISION_COLOR, describeSide, fit, relTime } from './format.js';
import { Header, headerHeight, type MatrixSummary } from './Header.js';
import type { DiffModel } from './model.js';

export interface DiffAppProps {
  model: DiffModel;
  summary: MatrixSummary;
  policyA: string;
  policyB: string;
  /** Re-reads the arguments of a call that was not kept (unchanged calls). */
  loadArgs?: (session: string, seq: number) => unknown;
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
export function DiffApp({ model, summary, policyA, policyB, loadArgs, height, width }: DiffAppProps) {
  const { exit } = useApp();
  const { stdout } = useStdout();
  const [size, setSize] = useState({ rows: stdout.rows || 24, columns: stdout.columns || 80 });
  useEffect(() => {
    const onResize = () => setSize({ rows: stdout.rows || 24, columns: stdout.columns || 80 });
    stdout.on('resize', onResize);
    return () => {
      stdout.off('resize', onResize);
    };
  }, [stdout]);
  const rows = height ?? size.rows;
  const cols = width ?? size.columns;

  const [changedOnly, setChangedOnly] = useState(true);
  const [tool, setTool] = useState('');
  const [editing, setEditing] = useState<string | undefined>(undefined);
  const [transition, setTransition] = useState<Transition | undefined>(undefined);
  const [cursor, setCursor] = useState(0);
  const [top, setTop] = useState(0);
  const [detail, setDetail] = useState(false);

  const toolFilter = editing ?? tool;
  const visible = useMemo(
    () => model.select({ changedOnly, tool: toolFilter, transition }),
    [model, changedOnly, toolFilter, transition],
  );
  const present = useMemo(() => TRANSITIONS.filter((t) => summary.transitions[t]), [summary]);
  const listHeight = Math.max(1, rows - headerHeight(summary) - FIXED_LINES);
  const origin = useMemo(() => (model.size > 0 ? model.row(0).at : 0), [model]);

  // Keep the cursor inside the list and the window around the cursor.
  const cur = Math.min(cursor, Math.max(0, visible.length - 1));
  let first = Math.min(top, cur);
  if (cur >= first + listHeight) first = cur - listHeight + 1;
  first = Math.max(0, Math.min(first, Math.max(0, visible.length - listHeight)));
  const move = (to: number) => {
    const c = Math.max(0, Math.min(to, visible.length - 1));
    setCursor(c);
    setTop(c < first ? c : c >= first + listHeight ? c - listHeight + 1 : first);
  };
  const resetPosition = () => {
    setCursor(0);
    setTop(0);
  };

  useInput((input, key) => {
    if (editing !== undefined) {
      if (key.return) {
        setTool(editing);
        setEditing(undefined);
      } else if (key.escape) setEditing(undefined);
      else if (key.backspace || key.delete) setEditing(editing.slice(0, -1));
      else if (input && !key.ctrl && !key.meta) setEditing(editing + input);
      resetPosition();
      return;
    }
    if (input === 'q' || (key.ctrl && input === 'c')) {
      exit();
      return;
    }
    if (detail) {
      if (key.return || key.escape || key.backspace) setDetail(false);
      else if (key.upArrow || input === 'k') move(cur - 1);
      else if (key.downArrow || input === 'j') move(cur + 1);
      return;
    }
    if (key.upArrow || input === 'k') move(cur - 1);
    else if (key.downArrow || input === 'j') move(cur + 1);
    else if (key.pageUp) move(cur - listHeight);
    else if (key.pageDown || input === ' ') move(cur + listHeight);
    else if (key.home || input === 'g') move(0);
    else if (key.end || input === 'G') move(visible.length - 1);
    else if (key.tab) {
      setChangedOnly(!changedOnly);
      resetPosition();
    } else if (input === '/') setEditing('');
    else if (key.escape) {
      setTool('');
      setTransition(undefined);
      resetPosition();
    } else if (input === 't') {
      const i = transition ? present.indexOf(transition) : -1;
      setTransition(i + 1 < present.length ? present[i + 1] : undefined);
      resetPosition();
    } else if (key.return && visible.length > 0) setDetail(true);
  });

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
          {changedOnly && !tool && !transition && editing === undefined
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
    <Box flexDirection="column" width={cols}>
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
