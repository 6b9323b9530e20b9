import { Box, Text } from 'ink';
import { DECISION_COLOR, describeSide, shown } from './format.js';
import type { DiffRow, Side } from './model.js';

/** The full story of one call: arguments, both decisions with reasons and rules, session and time. */
export function Detail({ row, args, height }: { row: DiffRow; args: unknown; height: number }) {
  const argLines = (args === undefined ? '(arguments not available)' : JSON.stringify(args, null, 2))
    .split('\n')
    .map(shown);
  const room = Math.max(1, height - 7);
  const shownArgs =
    argLines.length > room
      ? [...argLines.slice(0, room - 1), `… (${argLines.length - room + 1} more lines)`]
      : argLines;
  const side = (label: string, s: Side) => (
    <>
      <Text wrap="truncate">
        {label} <Text color={DECISION_COLOR[s.decision]}>{s.decision.padEnd(8)}</Text> rule {shown(s.rule)}
      </Text>
      <Text wrap="truncate">
        {'  '}
        {shown(describeSide(s))}
      </Text>
    </>
  );
  return (
    <Box flexDirection="column">
      <Text bold wrap="truncate">
        {shown(row.tool)} {row.changed ? `(${row.a.decision}->${row.b.decision})` : '(unchanged)'}
      </Text>
      <Text wrap="truncate">
        session {shown(row.session)} seq {row.seq} t {row.t} µs ({new Date(row.at).toISOString()})
      </Text>
      {side('A', row.a)}
      {side('B', row.b)}
      <Text dimColor>arguments:</Text>
      {shownArgs.map((l, i) => (
        <Text key={i} wrap="truncate">
          {l}
        </Text>
      ))}
    </Box>
  );
}
