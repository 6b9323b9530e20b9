import type { JSONRPCMessage } from '@modelcontextprotocol/sdk/types.js';
import { execFileSync } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { cli, closed, connect, eventually, everything, recordArgs, tempDir } from './helpers.js';

/** The proxy's argv in front of server-everything: `record`, or `enforce` with a policy allowing all. */
function proxy(kind: 'record' | 'enforce', db: string): string[] {
  if (kind === 'record') return recordArgs(db, everything);
  const policy = join(db, '..', 'policy.json');
  writeFileSync(policy, JSON.stringify({ version: '1', default: 'allow', tools: {} }));
  return [cli, 'enforce', '--policy', policy, '--db', db, '--', process.execPath, ...everything];
}

const idOf = (m: JSONRPCMessage) => ('id' in m ? m.id : undefined);

describe.each(['record', 'enforce'] as const)('%s: a call the client cancelled', (kind) => {
  it('gets no answer from the proxy when the server dies later (the client forgot it, as MCP lets it)', async () => {
    const dir = tempDir();
    const db = join(dir, 'rec.db');
    const { client, spy } = await connect(process.execPath, proxy(kind, db));
    const errors: Error[] = [];
    client.onerror = (e) => errors.push(e);
    const abort = new AbortController();
    const call = client
      .callTool({ name: 'trigger-long-running-operation', arguments: { duration: 30, steps: 30 } }, undefined, {
        signal: abort.signal,
      })
      .catch((e: unknown) => e);
    await eventually(() => expect(spy.sent.some((m) => 'method' in m && m.method === 'tools/call')).toBe(true));
    const id = idOf(spy.sent.find((m) => 'method' in m && m.method === 'tools/call')!);
    abort.abort('not needed any more');
    expect(await call).toBeDefined();
    await eventually(() =>
      expect(spy.sent.some((m) => 'method' in m && m.method === 'notifications/cancelled')).toBe(true),
    );
    // The server-everything tool goes on (it ignores the cancel) and would answer nothing: it dies.
    await new Promise((r) => setTimeout(r, 200));
    const proxyPid = (spy.inner as unknown as { pid: number | null }).pid!;
    const server = execFileSync('pgrep', ['-P', String(proxyPid)], { encoding: 'utf8' })
      .trim()
      .split('\n')[0]!;
    process.kill(Number(server), 'SIGKILL');
    // The proxy exits with its server; what it wrote before is read by then.
    await eventually(() => expect(() => process.kill(proxyPid, 0)).toThrow());
    await new Promise((r) => setTimeout(r, 200));
    // Still a live client: nothing arrived for the cancelled request (the SDK would report
    // "a response for an unknown message ID"), and the recording holds no such answer either.
    expect(spy.received.filter((m) => idOf(m) === id && !('method' in m))).toEqual([]);
    expect(errors.map((e) => e.message).filter((m) => /unknown message ID/.test(m))).toEqual([]);
    const rec = await closed(db);
    expect(rec.s2c.filter((m) => (m as { id?: unknown; method?: unknown }).id === id)).toEqual([]);
    await client.close();
  });
});
