import { Box, Text } from 'ink';
import type { Transition } from '../../replayer/diff.js';
import { shown as visibleText } from './format.js';
import { TRANSITION_ORDER as TRANSITIONS } from './order.js';

export interface MatrixSummary {
  calls: number;
  changed: number;
  transitions: Partial<Record<Transition, number>>;
  byTool: Record<string, { calls: number; changed: number; transitions: Partial<Record<Transition, number>> }>;
}

const MAX_TOOL_LINES = 4;

function transitionsText(tr: Partial<Record<Transition, number>>): string {
  return TRANSITIONS.filter((t) => tr[t])
    .map((t) => `${t} ${tr[t]}`)
    .join('  ');
}

/** Both policy names and the transition matrix, overall and for the tools that changed most. */
export function Header({ policyA, policyB, summary }: { policyA: string; policyB: string; summary: MatrixSummary }) {
  const tools = Object.entries(summary.byTool)
    .filter(([, t]) => t.changed > 0)
    .sort((x, y) => y[1].changed - x[1].changed || (x[0] < y[0] ? -1 : 1));
  const shown = tools.slice(0, tools.length > MAX_TOOL_LINES ? MAX_TOOL_LINES - 1 : MAX_TOOL_LINES);
  return (
    <Box flexDirection="column">
      <Text wrap="truncate">
        <Text bold>A</Text> {visibleText(policyA)} <Text dimColor>→</Text> <Text bold>B</Text> {visibleText(policyB)}
      </Text>
      <Text wrap="truncate">
        {summary.calls} calls, <Text bold>{summary.changed} changed</Text>
        {summary.changed > 0 ? `   ${transitionsText(summary.transitions)}` : ''}
      </Text>
      {shown.map(([tool, t]) => (
        <Text key={tool} wrap="truncate" dimColor>
          {'  '}
          {visibleText(tool)}: {t.changed}/{t.calls} changed {transitionsText(t.transitions)}
        </Text>
      ))}
      {tools.length > shown.length ? (
        <Text dimColor wrap="truncate">
          {'  '}+{tools.length - shown.length} more tools with changes
        </Text>
      ) : null}
    </Box>
  );
}

/** How many lines the header takes (for the list's height). */
export function headerHeight(summary: MatrixSummary): number {
  const n = Object.values(summary.byTool).filter((t) => t.changed > 0).length;
  return 2 + Math.min(n, MAX_TOOL_LINES);
}
