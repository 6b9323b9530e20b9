import { render } from 'ink';
import { ApprovalsApp, type ApprovalsSource } from './ApprovalsApp.js';

/** Runs the approvals TUI on the terminal until the user quits. */
export async function runApprovalsTui(
  source: ApprovalsSource,
  options: { user: string; dbFile?: string },
): Promise<void> {
  const app = render(<ApprovalsApp source={source} user={options.user} dbFile={options.dbFile} />);
  await app.waitUntilExit();
}
