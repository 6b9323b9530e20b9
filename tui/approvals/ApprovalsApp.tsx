import { Box, Text, useApp, useInput } from 'ink';
import { useCallback, useEffect, useRef, useState } from 'react';
import type { Approval } from '../../store/approvalQueue.js';
import { argsSummary, argumentsInFull, shortDuration } from './format.js';
import { shortId, visible, visibleName } from '../../engine/visible.js';
import { splitKeys, type KeyPress } from '../diff/keys.js';

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
}

/**
 * `mcp-replay approvals`: the calls waiting for a human, oldest first. ↑/↓ (or k/j) move,
 * `a` approves, `r` rejects, `q` quits. Each answer is one atomic update: a request already
 * answered elsewhere or past its deadline cannot be approved, and says so.
 */
export function ApprovalsApp({ source, user, dbFile, pollMs = 500, now = Date.now, onExit }: ApprovalsAppProps) {
  const { exit } = useApp();
  const [items, setItems] = useState<Approval[]>(() => source.pendingApprovals(now()));
  // The cursor is on a request, by id; none once that request has left the list.
  const [selectedId, setSelectedId] = useState<number | undefined>(items[0]?.id);
  const [status, setStatus] = useState('');
  const [clock, setClock] = useState(now());
  /** The last request under the cursor and its row: where the cursor was when that request left. */
  const last = useRef<{ approval?: Approval; index: number }>({ index: 0 });

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
  const view = useRef({ items, index, selected });
  view.current = { items, index, selected };

  useInput((input, key) => {
    // Keys typed faster than a frame (or pasted) arrive as one chunk: each moves on its own.
    const keys = splitKeys(input, key);
    for (const k of keys) if (onKey(k, keys.length > 1)) return;
  });

  /** One key; true once the TUI quits. `burst`: it came with other keys (typed ahead, or pasted). */
  const onKey = (key: KeyPress, burst: boolean): boolean => {
    const { input } = key;
    const { items, index, selected } = view.current;
    if (input === 'q' || key.escape || (key.ctrl && input === 'c')) {
      onExit?.();
      exit();
      return true;
    }
    const moveTo = (i: number) => {
      const clamped = Math.min(items.length - 1, Math.max(0, i));
      view.current = { items, index: clamped, selected: items[clamped] };
      setSelectedId(items[clamped]?.id);
    };
    // With no request under the cursor, it sits where the last one left: ↓ takes the row now
    // there, ↑ the one above.
    const at = index < 0 ? last.current.index : index;
    if (key.upArrow || input === 'k') moveTo(at - 1);
    else if (key.downArrow || input === 'j') moveTo(index < 0 ? at : at + 1);
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
      view.current = { items, index: -1, selected: undefined };
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
  const width = (c: keyof typeof header) => Math.max(header[c].length, ...rows.map((r) => r[c].length));
  const line = (r: typeof header) => cols.map((c) => r[c].padEnd(width(c))).join('  ');

  return (
    <Box flexDirection="column">
      <Text bold>
        mcp-replay approvals: {items.length} pending{dbFile ? ` (${visible(dbFile)})` : ''}
      </Text>
      {items.length === 0 ? (
        <Text dimColor>no calls are waiting for approval</Text>
      ) : (
        <>
          <Text dimColor>{'  ' + line(header)}</Text>
          {rows.map((r, i) => (
            <Text key={r.id} inverse={i === index}>
              {(i === index ? '> ' : '  ') + line(r)}
            </Text>
          ))}
          {selected ? (
            <>
              <Text dimColor>{`  ${visible(selected.reason)} (${visible(selected.rule)})`}</Text>
              <Text>{argumentsInFull(selected.args)}</Text>
            </>
          ) : gone ? (
            <Text>{`#${gone.id} ${visibleName(gone.tool)} is no longer pending (answered elsewhere or expired): choose a call with ↑/↓`}</Text>
          ) : (
            <Text dimColor>no call under the cursor: choose one with ↑/↓</Text>
          )}
        </>
      )}
      <Text dimColor>↑/↓ move · a approve · r reject · q quit</Text>
      {status ? <Text>{status}</Text> : null}
    </Box>
  );
}
