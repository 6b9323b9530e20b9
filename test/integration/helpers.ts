import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StdioClientTransport } from '@modelcontextprotocol/sdk/client/stdio.js';
import type { Transport } from '@modelcontextprotocol/sdk/shared/transport.js';
import type { JSONRPCMessage } from '@modelcontextprotocol/sdk/types.js';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { openStore } from '../../store/store.js';
import type { MessageRecord } from '../../store/types.js';

export const root = join(import.meta.dirname, '../..');
export const cli = join(root, 'dist/cli/main.js');
const modules = join(root, 'node_modules/@modelcontextprotocol');
export const everything = [join(modules, 'server-everything/dist/index.js'), 'stdio'];
export const filesystem = join(modules, 'server-filesystem/dist/index.js');
export const memory = join(modules, 'server-memory/dist/index.js');
export const toy = join(root, 'test/fixtures/servers/toy.mjs');
export const lineEcho = join(root, 'test/fixtures/servers/lineEcho.mjs');

export function tempDir(): string {
  return mkdtempSync(join(tmpdir(), 'mcp-replay-test-'));
}

/** Writes `dir/policy.json`: default deny, these tool rules. Returns its path. */
export function denyByDefault(dir: string, tools: Record<string, unknown>): string {
  const file = join(dir, 'policy.json');
  writeFileSync(file, JSON.stringify({ version: '1', default: 'deny', tools }));
  return file;
}

/** A transport that remembers every message the client sent and received, in order. */
export class SpyTransport implements Transport {
  readonly sent: JSONRPCMessage[] = [];
  readonly received: JSONRPCMessage[] = [];
  onmessage?: Transport['onmessage'];
  onclose?: Transport['onclose'];
  onerror?: Transport['onerror'];

  constructor(readonly inner: StdioClientTransport) {
    inner.onmessage = (m: JSONRPCMessage) => {
      this.received.push(m);
      this.onmessage?.(m);
    };
    inner.onclose = () => this.onclose?.();
    inner.onerror = (e) => this.onerror?.(e);
  }

  start(): Promise<void> {
    return this.inner.start();
  }

  send(m: JSONRPCMessage): Promise<void> {
    this.sent.push(m);
    return this.inner.send(m);
  }

  close(): Promise<void> {
    return this.inner.close();
  }
}

/** An SDK client connected over stdio to `command args`, through a spy. */
export async function connect(
  command: string,
  args: string[],
  env: Record<string, string> = {},
): Promise<{ client: Client; spy: SpyTransport; stderr: () => string }> {
  const inner = new StdioClientTransport({
    command,
    args,
    env: { PATH: process.env.PATH ?? '', HOME: process.env.HOME ?? '', ...env },
    stderr: 'pipe',
  });
  let err = '';
  inner.stderr?.on('data', (c: Buffer) => (err += c.toString()));
  const spy = new SpyTransport(inner);
  const client = new Client({ name: 'test-agent', version: '1.0.0' });
  await client.connect(spy);
  return { client, spy, stderr: () => err };
}

/** `record` in front of a server: the argv for StdioClientTransport. */
export function recordArgs(db: string, server: string[], extra: string[] = []): string[] {
  return [cli, 'record', '--db', db, ...extra, '--', process.execPath, ...server];
}

/** `enforce` in front of a node server script, as `recordArgs`. */
export function enforceArgs(policy: string, db: string, server: string[], extra: string[] = []): string[] {
  return [cli, 'enforce', '--policy', policy, '--db', db, ...extra, '--', process.execPath, ...server];
}

/** The single session of a db with its messages. */
export function recorded(db: string) {
  const store = openStore(db, { mustExist: true });
  try {
    const sessions = store.allSessions();
    if (sessions.length !== 1) throw new Error(`expected one session, found ${sessions.length}`);
    const info = sessions[0]!;
    const records = [...store.records(info.id)];
    const messages = records.filter((r): r is MessageRecord => r.type === 'message');
    return {
      info,
      records,
      c2s: messages.filter((m) => m.dir === 'c2s').map((m) => JSON.parse(m.raw) as unknown),
      s2c: messages.filter((m) => m.dir === 's2c').map((m) => JSON.parse(m.raw) as unknown),
    };
  } finally {
    store.close();
  }
}

/** Waits until `check` holds (the recorder writes the session's end as it exits). */
export async function eventually<T>(check: () => T, timeoutMs = 10_000): Promise<T> {
  const until = Date.now() + timeoutMs;
  for (;;) {
    try {
      return check();
    } catch (err) {
      if (Date.now() > until) throw err;
      await new Promise((r) => setTimeout(r, 50));
    }
  }
}

/** The single session of a db once the recorder has closed it. */
export function closed(db: string): Promise<ReturnType<typeof recorded>> {
  return eventually(() => {
    const r = recorded(db);
    if (r.info.endedAt === undefined) throw new Error('not closed');
    return r;
  });
}
