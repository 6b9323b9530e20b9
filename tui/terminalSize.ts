import { useStdout } from 'ink';
import { useEffect, useState } from 'react';

/**
 * The terminal's rows and columns (`height` / `width` when given: tests), read at each render.
 * Not kept in state: ink redraws on a resize before React re-renders, and a frame laid out for
 * the old width wraps on the new one (its remnants then stay on screen). The state only makes
 * React re-render on a resize.
 */
export function useTerminalSize(height?: number, width?: number): { rows: number; columns: number } {
  const { stdout } = useStdout();
  const [, setSize] = useState({ rows: stdout.rows, columns: stdout.columns });
  useEffect(() => {
    const onResize = () => setSize({ rows: stdout.rows, columns: stdout.columns });
    stdout.on('resize', onResize);
    return () => {
      stdout.off('resize', onResize);
    };
  }, [stdout]);
  return { rows: height ?? (stdout.rows || 24), columns: width ?? (stdout.columns || 80) };
}
