import { McpError } from '@modelcontextprotocol/sdk/types.js';
import { execFileSync } from 'node:child_process';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { cli, connect, eventually, recordArgs, recorded, tempDir, toy } from './helpers.js';

const SECRETS = [
  'tok-client-1234',
  'key-client-5678',
  'Bearer auth-client-9012',
  'sk-server-side-secret-9',
  'server-cookie-7',
];

function dbBytes(dir: string): string {
  // The db and its WAL, byte for byte: a secret must not be anywhere on disk.
  return readdirSync(dir)
    .filter((f) => f.startsWith('rec.db'))
    .map((f) => readFileSync(join(dir, f)).toString('latin1'))
    .join('');
}

async function reflectSecrets(extra: string[]) {
  const dir = tempDir();
  const db = join(dir, 'rec.db');
  const { client } = await connect(process.execPath, recordArgs(db, [toy], extra));
  const result = await client.callTool({
    name: 'reflect',
    arguments: {
      data: { query: 'q', token: SECRETS[0], nested: { api_key: SECRETS[1] }, headers: { Authorization: SECRETS[2] } },
    },
  });
  await client.close();
  await eventually(() => {
    if (recorded(db).info.exitCode === undefined) throw new Error('not closed');
  });
  return { dir, db, result };
}

describe('record when things go wrong', () => {
  it('server crashing mid-call: the pending request gets an error at once, the session ends with the exit code', async () => {
    const dir = tempDir();
    const db = join(dir, 'rec.db');
    const { client } = await connect(process.execPath, recordArgs(db, [toy]));
    const started = Date.now();
    const error = await client.callTool({ name: 'crash', arguments: { code: 3 } }).then(
      () => undefined,
      (e: unknown) => e,
    );
    const elapsed = Date.now() - started;
    // The recorder's own answer (not the SDK's "connection closed", not a timeout).
    expect(error).toBeInstanceOf(McpError);
    expect((error as McpError).code).toBe(-32000);
    expect((error as McpError).message).toMatch(/exited with code 3 before answering/);
    // Loose bound (a loaded machine): the server exits 50 ms into the call; the answer follows its exit.
    expect(elapsed).toBeLessThan(5000);
    const rec = await eventually(() => {
      const r = recorded(db);
      if (r.info.exitCode === undefined) throw new Error('not closed');
      return r;
    });
    expect(rec.info.exitCode).toBe(3);
    expect(rec.info.endedAt).toBeDefined();
    expect(rec.s2c.at(-1)).toMatchObject({ error: { code: -32000 } });
    const exit = rec.records.find((r) => r.type === 'event' && r.event === 'exit');
    expect(exit).toMatchObject({ data: { code: 3, signal: null } });
    await client.close();
  });

  it('a server printing non-JSON to stdout: recorded as an event, forwarded, the session goes on', async () => {
    const dir = tempDir();
    const db = join(dir, 'rec.db');
    const { client } = await connect(process.execPath, recordArgs(db, [toy]));
    const errors: Error[] = [];
    client.onerror = (e) => errors.push(e);
    expect(await client.callTool({ name: 'print', arguments: {} })).toMatchObject({
      content: [{ type: 'text', text: 'printed' }],
    });
    const after = await client.callTool({ name: 'reflect', arguments: { data: { still: 'alive' } } });
    expect(after).toMatchObject({ content: [{ text: '{"still":"alive"}' }] });
    // Forwarded unchanged: the SDK client saw (and rejected) the line, as it would without the proxy.
    expect(errors.some((e) => /JSON/i.test(e.message))).toBe(true);
    await client.close();
    const rec = await eventually(() => {
      const r = recorded(db);
      if (r.info.exitCode === undefined) throw new Error('not closed');
      return r;
    });
    const event = rec.records.find((r) => r.type === 'event' && r.event === 'non-json');
    expect(event).toMatchObject({ data: { dir: 's2c', text: 'this is not JSON-RPC' } });
  });

  it('token, api_key and Authorization values never reach the disk', async () => {
    const { dir, db, result } = await reflectSecrets([]);
    // The client still gets everything, unredacted.
    expect(JSON.stringify(result)).toContain(SECRETS[0]);
    expect(JSON.stringify(result)).toContain(SECRETS[3]);
    const bytes = dbBytes(dir);
    for (const s of SECRETS) expect(bytes).not.toContain(s);
    const call = recorded(db).c2s.find((m) => (m as { method?: string }).method === 'tools/call') as {
      params: { arguments: { data: Record<string, unknown> } };
    };
    // The shape of the arguments is kept for replay.
    expect(call.params.arguments.data).toEqual({
      query: 'q',
      token: '[REDACTED]',
      nested: { api_key: '[REDACTED]' },
      headers: { Authorization: '[REDACTED]' },
    });
  });

  it('--redact adds keys; --no-redact keeps everything', async () => {
    const added = await reflectSecrets(['--redact', 'QUERY']);
    expect(JSON.stringify(recorded(added.db).c2s)).toContain('"query":"[REDACTED]"');
    const { db } = await reflectSecrets(['--no-redact']);
    const exported = execFileSync(process.execPath, [cli, 'sessions', 'export', '--db', db, recorded(db).info.id], {
      encoding: 'utf8',
    });
    for (const s of SECRETS) expect(exported).toContain(s);
  });
});
