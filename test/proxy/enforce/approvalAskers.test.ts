import { join } from 'node:path';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { describe, expect, it } from 'vitest';
import { QueueAsker } from '../../../proxy/enforce/approvalAskers.js';
import { openStore } from '../../../store/store.js';

const question = (args: unknown) => ({
  tool: 'ask',
  args,
  reason: 'ask requires approval',
  rule: 'tools.ask',
  grant: 'agent',
  sessionId: null,
  seq: null,
});

describe('QueueAsker', () => {
  it('waits for its own request: one rolled back (its id handed out again) is lost, never approved by the next', async () => {
    const store = openStore(join(mkdtempSync(join(tmpdir(), 'mcp-replay-test-')), 'q.db'));
    try {
      const asker = new QueueAsker(store, 5_000, 10);
      // The request is queued inside a transaction that rolls back (a batch whose COMMIT failed).
      let first!: Promise<unknown>;
      try {
        store.transaction(() => {
          first = asker.ask(question({ v: 'DANGEROUS: wire $1M' }));
          throw new Error('disk I/O error');
        });
      } catch {
        // the batch failed
      }
      const second = asker.ask(question({ v: 'harmless' }));
      const [row] = store.pendingApprovals(Date.now());
      expect(row).toMatchObject({ id: 1, args: { v: 'harmless' } }); // the same id, another request
      store.resolveApproval(row!.id, 'approved', 'alice', Date.now());
      expect(await first).toMatchObject({ approved: false, why: expect.stringMatching(/lost/) });
      expect(await second).toMatchObject({ approved: true, by: 'alice' });
    } finally {
      store.close();
    }
  });
});
