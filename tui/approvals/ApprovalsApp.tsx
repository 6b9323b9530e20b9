import { Box, Text, useApp, useInput } from 'ink';
import { useCallback, useEffect, useRef, useState } from 'react';
import type { Approval } from '../../store/approvalQueue.js';
import { argsSummary, shortDuration, shortId } from './format.js';
import { visible, visibleName } from '../../engine/visible.js';

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
  const [selectedId, setSelectedId] = useState<number | undefined>(items[0]?.id);
  const [status, setStatus] = useState('');
  const [clock, setClock] = useState(now());
  const lastIndex = useRef(0);

  const refresh = useCallback(() => {
    const t = now();
    setClock(t);
    setItems(source.pendingApprovals(t));
  }, [source, now]);

  useEffect(() => {
    const timer = setInterval(refresh, pollMs);
    return () => clearInterval(timer);
  }, [refresh, pollMs]);

  // Keep the cursor on the same request as the list changes; else on the nearest row.
  let index = items.findIndex((a) => a.id === selectedId);
  if (index < 0) index = Math.min(items.length - 1, Math.max(0, lastIndex.current));
  lastIndex.current = index;
  const selected = items[index];
  // Keys read the state of the latest render (an input handler may still be an older render's).
  const view = useRef({ items, index, selected });
  view.current = { items, index, selected };

  useInput((input, key) => {
    const { items, index, selected } = view.current;
    if (input === 'q' || key.escape || (key.ctrl && input === 'c')) {
      onExit?.();
      exit();
      return;
    }
    const moveTo = (i: number) => {
      view.current = { items, index: i, selected: items[i] };
      setSelectedId(items[i]?.id);
    };
    if (key.upArrow || input === 'k') moveTo(Math.max(0, index - 1));
    else if (key.downArrow || input === 'j') moveTo(Math.min(items.length - 1, index + 1));
    else if ((input === 'a' || input === 'r') && selected) {
      const answer = input === 'a' ? 'approved' : 'rejected';
      const done = source.resolveApproval(selected.id, answer, user, now());
      setStatus(
        done
          ? `${answer} #${selected.id} ${visibleName(selected.tool)}`
          : `#${selected.id} ${visibleName(selected.tool)} is no longer pending (answered elsewhere or expired)`,
      );
      setSelectedId(items[index + 1]?.id ?? items[index - 1]?.id);
      refresh();
    }
  });

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
        mcp-replay approvals: {items.length} pending{dbFile ? ` (${dbFile})` : ''}
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
          {selected ? <Text dimColor>{`  ${selected.reason} (${selected.rule})`}</Text> : null}
        </>
      )}
      <Text dimColor>↑/↓ move · a approve · r reject · q quit</Text>
      {status ? <Text>{status}</Text> : null}
    </Box>
  );
}
