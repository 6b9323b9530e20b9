import { render } from 'ink';
import { ApprovalsApp, type ApprovalsSource } from './ApprovalsApp.js';

/** Runs the approvals TUI on the terminal until the user quits. */
export async function runApprovalsTui(
  source: ApprovalsSource,
  options: { user: string; dbFile?: string },
): Promise<void> {
  // Ctrl-C is the TUI's own key: it ends the command interrupted (exit 130).
  const app = render(<ApprovalsApp source={source} user={options.user} dbFile={options.dbFile} />, {
    exitOnCtrlC: false,
  });
  await app.waitUntilExit();
}
