import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StdioClientTransport } from '@modelcontextprotocol/sdk/client/stdio.js';
import { ElicitRequestSchema } from '@modelcontextprotocol/sdk/types.js';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { openStore } from '../../store/store.js';
import { cli, closed, connect, denyByDefault, everything, lineEcho, tempDir } from './helpers.js';

function gateway(server: string[], extra: string[] = []) {
  const dir = tempDir();
  const db = join(dir, 'gw.db');
  const file = denyByDefault(dir, { echo: { action: 'require_approval', reason: 'a human must agree' } });
  return { db, args: [cli, 'enforce', '--policy', file, '--db', db, ...extra, '--', process.execPath, ...server] };
}

/** An SDK client that declares elicitation, connected to `args`: it answers each question with `answer()`, and keeps what it was asked. */
async function approver(args: string[], answer: () => 'accept' | 'decline') {
  const client = new Client({ name: 'approver', version: '1' }, { capabilities: { elicitation: {} } });
  const asked: string[] = [];
  client.setRequestHandler(ElicitRequestSchema, async (req) => {
    asked.push(req.params.message);
    return { action: answer(), content: {} };
  });
  await client.connect(
    new StdioClientTransport({
      command: process.execPath,
      args,
      env: { PATH: process.env.PATH ?? '' },
      stderr: 'ignore',
    }),
  );
  return { client, asked };
}

describe('enforce: require_approval', () => {
  it('asks through elicitation/create when the client can answer: accept forwards, decline denies', async () => {
    const { args } = gateway(everything);
    let answer: 'accept' | 'decline' = 'accept';
    const { client, asked } = await approver(args, () => answer);
    expect(await client.callTool({ name: 'echo', arguments: { message: 'approved' } })).toEqual({
      content: [{ type: 'text', text: 'Echo: approved' }],
    });
    answer = 'decline';
    const declined = await client.callTool({ name: 'echo', arguments: { message: 'declined' } });
    expect(declined).toMatchObject({
      isError: true,
      content: [{ text: 'Denied by policy: a human must agree: declined by the user' }],
    });
    expect(asked).toHaveLength(2);
    expect(asked[0]).toMatch(/echo \{"message":"approved"\}/);
    await client.close();
  });

  it('without elicitation, queues the call for `mcp-replay approvals`: approved in the db → forwarded; no answer → denied', async () => {
    const { db, args } = gateway([lineEcho], ['--approval-timeout', '1.5']);
    const { client } = await connect(process.execPath, args);
    // Another process (here: the test) approves the queued call on the same db.
    const approver = setInterval(() => {
      try {
        const store = openStore(db, { mustExist: true });
        try {
          for (const a of store.pendingApprovals(Date.now())) {
            if ((a.args as { message?: string }).message === 'yes')
              store.resolveApproval(a.id, 'approved', 'alice', Date.now());
          }
        } finally {
          store.close();
        }
      } catch {
        // the db may not exist yet
      }
    }, 100);
    try {
      const approved = await client.callTool({ name: 'echo', arguments: { message: 'yes' } });
      expect(approved.isError).toBeUndefined();
      const unanswered = await client.callTool({ name: 'echo', arguments: { message: 'no one answers' } });
      expect(unanswered).toMatchObject({
        isError: true,
        content: [{ text: 'Denied by policy: a human must agree: no answer within 1.5 s' }],
      });
    } finally {
      clearInterval(approver);
      await client.close();
    }
    const store = openStore(db, { mustExist: true });
    try {
      const [session] = store.allSessions();
      expect(store.sessionDecisions(session!.id).map((d) => [d.decision, d.reason])).toEqual([
        ['approval', 'a human must agree'],
        ['allow', 'a human must agree: approved by alice'],
        ['approval', 'a human must agree'],
        ['deny', 'a human must agree: no answer within 1.5 s'],
      ]);
    } finally {
      store.close();
    }
  });

  it('records the question it put through elicitation with the arguments redacted, whatever their keys hold', async () => {
    const { db, args } = gateway([lineEcho]);
    const { client, asked } = await approver(args, () => 'decline');
    // Keys the question shows escaped (`token\u000a`): the escape once hid them from redaction.
    const secrets = { 'token\n': 'S3CRET-A', 'api_key\u200b': 'S3CRET-B', password: 'S3CRET-C' };
    const declined = await client.callTool({ name: 'echo', arguments: secrets });
    expect(declined.isError).toBe(true);
    expect(asked[0]).toContain('S3CRET-A'); // the human sees what the call holds
    await client.close();
    const { records } = await closed(db);
    const stored = records.map((r) => JSON.stringify(r)).join('\n');
    expect(stored).toContain('elicitation/create');
    expect(stored).not.toMatch(/S3CRET/);
  });
});
