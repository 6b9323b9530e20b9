import { CallToolResultSchema, type McpError } from '@modelcontextprotocol/sdk/types.js';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StdioClientTransport } from '@modelcontextprotocol/sdk/client/stdio.js';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { cli, everything, tempDir } from './helpers.js';

const policy = {
  version: '1',
  default: 'allow',
  tools: {
    'get-env': { action: 'deny', reason: 'environment variables hold secrets' },
    'simulate-research-query': { limits: [{ window: 'minute', max: 1 }] },
  },
};

/** What `callToolStream` (the SDK's way to call a tool as a task) yields, in short. */
async function asTask(client: Client, name: string, args: Record<string, unknown>) {
  const seen: { type: string; status?: string; code?: number; message?: string; data?: unknown }[] = [];
  const stream = client.experimental.tasks.callToolStream({ name, arguments: args }, CallToolResultSchema, {
    task: { ttl: 60_000 },
  });
  for await (const m of stream) {
    if (m.type === 'taskCreated') {
      seen.push({ type: m.type, status: m.task.status });
      await client.experimental.tasks.cancelTask(m.task.taskId);
    } else if (m.type === 'error') {
      const e = m.error as McpError;
      seen.push({ type: m.type, code: e.code, message: e.message, data: e.data });
    } else seen.push({ type: m.type });
  }
  return seen;
}

describe('enforce: tools/call made as a task (params.task)', () => {
  it('a denied or throttled one is answered with a JSON-RPC error the client can read, not a CallToolResult (no CreateTaskResult)', async () => {
    const dir = tempDir();
    const file = join(dir, 'policy.json');
    writeFileSync(file, JSON.stringify(policy));
    const client = new Client({ name: 'tasker', version: '1' });
    await client.connect(
      new StdioClientTransport({
        command: process.execPath,
        args: [cli, 'enforce', '--policy', file, '--db', join(dir, 'gw.db'), '--', process.execPath, ...everything],
        env: { PATH: process.env.PATH ?? '' },
        stderr: 'ignore',
      }),
    );
    try {
      await client.listTools();
      // Allowed: the server creates the task (cancelled here at once).
      expect((await asTask(client, 'simulate-research-query', { topic: 'a' }))[0]).toEqual({
        type: 'taskCreated',
        status: 'working',
      });
      expect(await asTask(client, 'simulate-research-query', { topic: 'b' })).toEqual([
        {
          type: 'error',
          code: -32029,
          message: expect.stringMatching(/^MCP error -32029: Rate limited: .*; retry after \d+ ms$/) as unknown,
          data: expect.objectContaining({
            decision: 'throttle',
            rule: 'tools.simulate-research-query.limits[0]',
          }) as unknown,
        },
      ]);
      expect(await asTask(client, 'get-env', {})).toEqual([
        {
          type: 'error',
          code: -32001,
          message: 'MCP error -32001: Denied by policy: environment variables hold secrets',
          data: { decision: 'deny', reason: 'environment variables hold secrets', rule: 'tools.get-env' },
        },
      ]);
      // Called plainly, a denied call still gets its CallToolResult (SPEC §3).
      expect(await client.callTool({ name: 'get-env', arguments: {} })).toMatchObject({
        isError: true,
        content: [{ type: 'text', text: 'Denied by policy: environment variables hold secrets' }],
      });
    } finally {
      await client.close();
    }
  });
});
