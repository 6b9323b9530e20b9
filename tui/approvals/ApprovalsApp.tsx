import { Box, Text, useApp, useInput } from 'ink';
import stringWidth from 'string-width';
import { useCallback, useEffect, useRef, useState } from 'react';
import type { Approval } from '../../store/approvalQueue.js';
import { argsSummary, argumentsInFull, shortDuration } from './format.js';
import { shortId, visible, visibleName } from '../../engine/visible.js';
import { splitKeys, type KeyPress } from '../diff/keys.js';
import { useTerminalSize } from '../terminalSize.js';
import { Interrupted } from '../../engine/errors.js';

/** What the TUI needs of the db (a `Store` fits). */
export interface ApprovalsSource {
  pendingApprovals(now: number): Approval[];
  resolveApproval(id: number, status: 'approved' | 'rejected', by: string, at: number): boolean;
}

export interface ApprovalsAppProps {
  source: ApprovalsSource;
  /** Recorded as `decided_by`. */
  user: string;
  /** Shown in the header. */
  dbFile?: string;
  /** How often the list is re-read from the db, so requests queued by other processes appear. Default 500 ms. */
  pollMs?: number;
  now?: () => number;
  /** Called when the user quits (`q`, Esc). */
  onExit?: () => void;
  /** Terminal size; defaults to the stdout's (tests pass their own). */
  height?: number;
  width?: number;
}

/**
 * `mcp-replay approvals`: the calls waiting for a human, oldest first. ↑/↓ (or k/j) move,
 * `a` approves, `r` rejects, `q` quits. Each answer is one atomic update: a request already
 * answered elsewhere or past its deadline cannot be approved, and says so.
 */
export function ApprovalsApp({
  source,
  user,
  dbFile,
  pollMs = 500,
  now = Date.now,
  onExit,
  height,
  width,
}: ApprovalsAppProps) {
  const { exit } = useApp();
  const { rows: termRows, columns: termCols } = useTerminalSize(height, width);
  const [items, setItems] = useState<Approval[]>(() => source.pendingApprovals(now()));
  // The cursor is on a request, by id; none once that request has left the list.
  const [selectedId, setSelectedId] = useState<number | undefined>(items[0]?.id);
  const [status, setStatus] = useState('');
  const [clock, setClock] = useState(now());
  /** The last request under the cursor and its row: where the cursor was when that request left. */
  const last = useRef<{ approval?: Approval; index: number }>({ index: 0 });
  /** The first row of the list on screen (a list taller than the terminal scrolls with the cursor). */
  const top = useRef(0);

  const refresh = useCallback(() => {
    const t = now();
    setClock(t);
    setItems(source.pendingApprovals(t));
  }, [source, now]);

  useEffect(() => {
    const timer = setInterval(refresh, pollMs);
    return () => clearInterval(timer);
  }, [refresh, pollMs]);

  // The cursor stays on its request as the list changes. When that request leaves (answered
  // elsewhere, expired), the cursor is on none: it never moves by itself onto another call,
  // so a key pressed for one call cannot act on the next.
  const index = items.findIndex((a) => a.id === selectedId);
  const selected = index < 0 ? undefined : items[index];
  if (selected) last.current = { approval: selected, index };
  const gone = selectedId !== undefined && !selected ? last.current.approval : undefined;
  // Keys read the state of the latest render (an input handler may still be an older render's).
  const view = useRef({ items, index, selected, page: 1 });

  useInput((input, key) => {
    // Keys typed faster than a frame (or pasted) arrive as one chunk: each moves on its own.
    const keys = splitKeys(input, key);
    for (const k of keys) if (onKey(k, keys.length > 1)) return;
  });

  /** One key; true once the TUI quits. `burst`: it came with other keys (typed ahead, or pasted). */
  const onKey = (key: KeyPress, burst: boolean): boolean => {
    const { input } = key;
    const { items, index, selected, page } = view.current;
    if (input === 'q' || key.escape || (key.ctrl && input === 'c')) {
      onExit?.();
      exit(key.ctrl && input === 'c' ? new Interrupted() : undefined);
      return true;
    }
    const moveTo = (i: number) => {
      const clamped = Math.min(items.length - 1, Math.max(0, i));
      view.current = { items, index: clamped, selected: items[clamped], page };
      setSelectedId(items[clamped]?.id);
    };
    // With no request under the cursor, it sits where the last one left: ↓ takes the row now
    // there, ↑ the one above.
    const at = index < 0 ? last.current.index : index;
    if (key.upArrow || input === 'k') moveTo(at - 1);
    else if (key.downArrow || input === 'j') moveTo(index < 0 ? at : at + 1);
    else if (key.pageUp) moveTo(at - page);
    else if (key.pageDown) moveTo(at + page);
    else if (key.home || input === 'g') moveTo(0);
    else if (key.end || input === 'G') moveTo(items.length - 1);
    else if (input === 'a' || input === 'r') {
      // An answer is one deliberate key: inside pasted text, or typed ahead of the screen, it
      // would act on a call the human has not seen under the cursor yet.
      if (burst) {
        setStatus(`${input} came with other keys (typed ahead or pasted) and answered nothing: press ${input} alone`);
        return false;
      }
      if (!selected) {
        setStatus('no call under the cursor: choose one with ↑/↓');
        return false;
      }
      const answer = input === 'a' ? 'approved' : 'rejected';
      const done = source.resolveApproval(selected.id, answer, user, now());
      setStatus(
        done
          ? `${answer} #${selected.id} ${visibleName(selected.tool)}; ↑/↓ to choose the next`
          : `#${selected.id} ${visibleName(selected.tool)} is no longer pending (answered elsewhere or expired)`,
      );
      last.current = { approval: undefined, index };
      view.current = { items, index: -1, selected: undefined, page };
      setSelectedId(undefined);
      refresh();
    }
    return false;
  };

  const rows = items.map((a) => ({
    id: `#${a.id}`,
    tool: visibleName(a.tool),
    args: argsSummary(a.args),
    session: shortId(a.sessionId),
    grant: visible(a.grant),
    age: shortDuration(clock - a.requestedAt),
    left: a.expiresAt === null || a.expiresAt === undefined ? '-' : shortDuration(a.expiresAt - clock),
  }));
  const header = { id: 'ID', tool: 'TOOL', args: 'ARGS', session: 'SESSION', grant: 'GRANT', age: 'AGE', left: 'LEFT' };
  const cols = Object.keys(header) as (keyof typeof header)[];
  const widths = new Map(cols.map((c) => [c, stringWidth(header[c])]));
  for (const r of rows) for (const c of cols) widths.set(c, Math.max(widths.get(c)!, stringWidth(r[c])));
  const pad = (text: string, w: number) => text + ' '.repeat(Math.max(0, w - stringWidth(text)));
  const line = (r: typeof header) => cols.map((c) => pad(r[c], widths.get(c)!)).join('  ');

  // Everything fits the terminal, one line spare (ink redraws the whole screen, scrollback
  // included, once its output is as tall as the terminal): the list scrolls with the cursor, and
  // the arguments in full get the room left under at least three rows of it.
  const tall = (text: string) =>
    text.split('\n').reduce((n, l) => n + Math.max(1, Math.ceil(stringWidth(l) / Math.max(1, termCols))), 0);
  const help = '↑/↓ move · PgUp/PgDn page · g/G first/last · a approve · r reject · q quit';
  let room = termRows - 1 - 2 - (status ? tall(status) : 0) - (items.length > 0 ? 1 : 0);
  let below: string[] = [];
  if (selected) {
    const why = `  ${visible(selected.reason)} (${visible(selected.rule)})`;
    room -= tall(why);
    const args = argumentsInFull(selected.args, { rows: room - Math.min(items.length, 3), width: termCols });
    below = [why, args];
  } else if (gone)
    below = [
      `#${gone.id} ${visibleName(gone.tool)} is no longer pending (answered elsewhere or expired): choose a call with ↑/↓`,
    ];
  else below = ['no call under the cursor: choose one with ↑/↓'];
  const page = Math.max(1, Math.min(items.length, room - (selected ? tall(below[1]!) : tall(below[0]!))));
  view.current = { items, index, selected, page };
  const pos = index >= 0 ? index : Math.min(last.current.index, items.length - 1);
  let first = top.current;
  if (pos < first) first = pos;
  if (pos >= first + page) first = pos - page + 1;
  first = Math.max(0, Math.min(first, items.length - page));
  top.current = first;
  const shown = rows.slice(first, first + page);

  return (
    <Box flexDirection="column" width={width}>
      <Text bold wrap="truncate">
        mcp-replay approvals: {items.length} pending
        {shown.length < rows.length ? `, ${first + 1}–${first + shown.length} shown` : ''}
        {dbFile ? ` (${visible(dbFile)})` : ''}
      </Text>
      {items.length === 0 ? (
        <Text dimColor>no calls are waiting for approval</Text>
      ) : (
        <>
          <Text dimColor wrap="truncate">
            {'  ' + line(header)}
          </Text>
          {shown.map((r, k) => (
            <Text key={r.id} inverse={first + k === index} wrap="truncate">
              {(first + k === index ? '> ' : '  ') + line(r)}
            </Text>
          ))}
          {selected ? (
            <>
              <Text dimColor>{below[0]}</Text>
              <Text>{below[1]}</Text>
            </>
          ) : (
            <Text dimColor={!gone}>{below[0]}</Text>
          )}
        </>
      )}
      <Text dimColor wrap="truncate">
        {help}
      </Text>
      {status ? <Text>{status}</Text> : null}
    </Box>
  );
}
