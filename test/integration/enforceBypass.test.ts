import { spawn } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { loadPolicy } from '../../cli/common.js';
import { dryRun, resolveSources, timeline } from '../../replayer/index.js';
import { openStore } from '../../store/store.js';
import { enforceArgs, eventually, lineEcho, recordArgs, recorded, tempDir } from './helpers.js';

type Reply = {
  id?: unknown;
  result?: { isError?: boolean; content?: { text: string }[] };
  error?: { code: number; message: string };
};

/**
 * A raw JSON-RPC client (what a hostile agent can send, not what the SDK would) talking to
 * `enforce`, in front of a recorder that shows what the server received.
 */
async function session(lines: string[], expectReplies: number, extra: string[] = [], tools: object = {}) {
  const dir = tempDir();
  const file = join(dir, 'policy.json');
  writeFileSync(
    file,
    JSON.stringify({ version: '1', default: 'deny', tools: { echo: {}, 'delete_*': { action: 'deny' }, ...tools } }),
  );
  const serverDb = join(dir, 'server.db');
  // A recorder between the gateway and the server: what the server actually received.
  const proc = spawn(process.execPath, enforceArgs(file, join(dir, 'gw.db'), recordArgs(serverDb, [lineEcho]), extra), {
    stdio: ['pipe', 'pipe', 'ignore'],
  });
  const replies: Reply[] = [];
  /** The ids of each array the client received (a batch's answers). */
  const batches: unknown[][] = [];
  let rest = '';
  const done = new Promise<void>((resolve) =>
    proc.stdout.on('data', (c: Buffer) => {
      const parts = (rest + c.toString()).split('\n');
      rest = parts.pop()!;
      for (const p of parts) {
        const v = JSON.parse(p) as Reply | Reply[];
        replies.push(...(Array.isArray(v) ? v : [v]));
        if (Array.isArray(v)) batches.push(v.map((r) => r.id));
      }
      if (replies.length >= expectReplies) resolve();
    }),
  );
  // One write: every line arrives in the same batch.
  proc.stdin.write(lines.join('\n') + '\n');
  await done;
  proc.stdin.end();
  await new Promise((r) => proc.on('close', r));
  const server = await eventually(() => {
    const r = recorded(serverDb);
    if (r.info.exitCode === undefined) throw new Error('not closed');
    return r;
  });
  const byId = new Map(replies.map((r) => [JSON.stringify(r.id), r]));
  return {
    byId,
    replies,
    batches,
    serverCalls: server.c2s.flat() as { id?: unknown; method?: string; params?: { name?: string } }[],
    gatewayDb: join(dir, 'gw.db'),
    policyFile: file,
  };
}

const call = (id: unknown, name: unknown, extra: object = {}) => ({
  jsonrpc: '2.0',
  id,
  method: 'tools/call',
  params: { name, arguments: {} },
  ...extra,
});

describe('enforce against bypass attempts', () => {
  it('denies or rejects them, and forwards none', async () => {
    const lines = [
      call(1, 'ECHO'),
      call(2, 'Echo'),
      call(3, 'еcho'), // Cyrillic е
      call(4, 'echo\u200b'),
      [call(5, 'echo'), call(6, 'delete_all'), { jsonrpc: '2.0', id: 7, method: 'ping' }],
      { jsonrpc: '2.0', id: 8, method: 'tools/call', params: { arguments: {} } },
      { jsonrpc: '2.0', id: 9, method: 'Tools/Call', params: { name: 'delete_all', arguments: {} } },
      { jsonrpc: '2.0', method: 'tools/call', params: { name: 'delete_all', arguments: {} } },
      call(10, 'echo'),
      call(10, 'delete_all'), // a duplicate id while 10 is in flight
      call(11, 'delete_all', { params: { name: 'delete_all', arguments: 'rm -rf /' } }),
    ].map((m) => JSON.stringify(m));
    const { byId, serverCalls, batches } = await session(lines, 12);
    // The batch is answered as one array: the server's answers and the gateway's denial.
    expect(batches.map((b) => b.map(String).sort())).toEqual([['5', '6', '7']]);
    for (const id of [1, 2, 3, 4, 6]) {
      expect(byId.get(String(id))!.result, `id ${id}`).toMatchObject({ isError: true });
      expect(byId.get(String(id))!.result!.content![0]!.text).toMatch(/^Denied by policy/);
    }
    expect(byId.get('8')!.error!.code).toBe(-32602);
    expect(byId.get('9')!.error!.code).toBe(-32600);
    expect(byId.get('11')!.error!.code).toBe(-32602);
    expect(byId.get('5')!.result!.isError).toBeUndefined();
    expect(byId.get('7')!.result).toBeDefined();
    // What reached the server: echo (from the batch), ping, and the first id 10: nothing else.
    const reached = serverCalls
      .filter((m) => m.method !== undefined)
      .map((m) => `${m.method} ${m.params?.name ?? ''} ${String(m.id)}`);
    expect(reached).toEqual(['tools/call echo 5', 'ping  7', 'tools/call echo 10']);
  });

  it('replaying the recording decides what the gateway decided, and nothing it refused (live ≡ dry-run)', async () => {
    const lines = [
      JSON.stringify(call(1, 'echo')),
      JSON.stringify(call(2, 'ECHO')),
      JSON.stringify(call(3, 'echo')),
      JSON.stringify(call(3, 'delete_all')), // reuses id 3 while it is in flight: refused
      // A key written twice: we would read delete_all, a server might read echo. Refused whole.
      '{"jsonrpc":"2.0","id":4,"method":"tools/call","params":{"name":"echo","name":"delete_all","arguments":{}}}',
      JSON.stringify({ jsonrpc: '2.0', id: 5, method: 'ping' }),
      JSON.stringify(call(5, 'delete_all')), // reuses the ping's id while it is in flight
      JSON.stringify(call(6, 'delete_all')),
      JSON.stringify([call(7, 'echo'), call(7, 'delete_all')]), // a batch reusing its own id
      JSON.stringify(call(8, 'echo', { params: { name: 'echo', arguments: [] } })), // arguments not an object
      // The same refusals with a secret in the line: the recording redacts it and keeps the line
      // as the gateway read it (it re-serialized the redacted message: replay decided both).
      '{"jsonrpc":"2.0","id":9,"method":"tools/call","params":{"name":"echo","name":"delete_all","arguments":{"token":"T9"}}}',
      '{"jsonrpc":"2.0","id":10,\r"method":"tools/call","params":{"name":"echo","arguments":{"api_key":"T10"}}}',
      '{"jsonrpc":"2.0","id":11,"method":"tools/call","params":{"name":"echo","arguments":{"a":{"password":"T11"},"a":1}}}',
    ];
    const { replies, gatewayDb, policyFile } = await session(lines, 14);
    expect(replies).toHaveLength(14);
    const store = openStore(gatewayDb, { mustExist: true });
    try {
      const raw = store.allSessions().flatMap((s) => [...store.records(s.id)].map((r) => JSON.stringify(r)));
      expect(raw.join('\n')).toMatch(/\[REDACTED\]/);
      expect(raw.join('\n')).not.toMatch(/T9|T10|T11/);
      const [info] = store.allSessions();
      const live = store.sessionDecisions(info!.id).map((d) => `${d.rpcId} ${d.decision} ${d.rule}`);
      expect(live).toEqual([
        '1 allow tools.echo',
        '2 deny default',
        '3 allow tools.echo',
        '6 deny tools.delete_*',
        '7 allow tools.echo',
      ]);
      const replayed = [...dryRun(loadPolicy(policyFile), timeline(resolveSources([], () => store)))].map(
        ({ call, verdict }) => `${JSON.stringify(call.id)} ${verdict.decision} ${verdict.rule}`,
      );
      expect(replayed).toEqual(live);
    } finally {
      store.close();
    }
  });

  it('forwards no line that a server may read otherwise than the gateway does', async () => {
    const smuggled = JSON.stringify(call(21, 'delete_all'));
    const lines = [
      // Not JSON to us; a server that ends lines at a `\r` (this one: Node's readline) or reads
      // NaN would run the call.
      `x\r${smuggled}`,
      '{"jsonrpc":"2.0","id":22,"method":"tools/call","params":{"name":"delete_all","arguments":{}},"x":NaN}',
      '   ', // blank: dropped, unanswered
      // JSON to us (a `\r` is a space), three lines to such a server, the second a call.
      `{"jsonrpc":"2.0","id":23,"method":"tools/call","params":{"name":"echo","arguments":{"a":\r${JSON.stringify(call(24, 'delete_all'))}\r}}}`,
      // Keys equal but for case: Go's encoding/json reads either.
      '{"jsonrpc":"2.0","id":25,"method":"tools/call","params":{"name":"echo","Name":"delete_all","arguments":{}}}',
      '{"jsonrpc":"2.0","id":26,"method":"ping","Method":"tools/call","params":{"name":"delete_all","arguments":{}}}',
      '{"jsonrpc":"2.0","id":null,"method":"tools/list"}', // its answer could not be matched (or filtered)
      JSON.stringify({ jsonrpc: '2.0', id: 28, method: 'tools\u2215call', params: { name: 'delete_all' } }),
      JSON.stringify(call(29, 'echo')),
    ];
    const { replies, serverCalls } = await session(lines, 8);
    const codes = replies.map((r) => `${JSON.stringify(r.id)} ${r.error?.code ?? 'result'}`);
    expect(codes.sort()).toEqual(
      [
        'null -32700',
        'null -32700',
        '23 -32600',
        '25 -32600',
        '26 -32600',
        'null -32600',
        '28 -32600',
        '29 result',
      ].sort(),
    );
    expect(replies.find((r) => r.id === 25)!.error!.message).toMatch(/differ only in case/);
    expect(replies.find((r) => r.id === 23)!.error!.message).toMatch(/carriage return/);
    const reached = serverCalls.filter((m) => m.method !== undefined).map((m) => `${m.method} ${String(m.id)}`);
    expect(reached).toEqual(['tools/call 29']);
  });

  it('keeps the grant the first initialize request named: a later initialize does not refill its budget', async () => {
    const init = (id: number | undefined, name: string) =>
      JSON.stringify({ jsonrpc: '2.0', id, method: 'initialize', params: { clientInfo: { name }, capabilities: {} } });
    const lines = [
      init(0, 'agent'),
      ...[1, 2, 3].map((id) => JSON.stringify(call(id, 'get_sum'))),
      init(undefined, 'fresh-1'), // a notification
      JSON.stringify(call(4, 'get_sum')),
      init(5, 'fresh-2'), // a second request
      JSON.stringify(call(6, 'get_sum')),
    ];
    const limited = { get_sum: { limits: [{ window: 'minute', max: 2, scope: 'grant' }] } };
    const { byId, gatewayDb, policyFile } = await session(lines, 7, [], limited);
    for (const id of [3, 4, 6])
      expect(byId.get(String(id))!.result!.content![0]!.text, `id ${id}`).toMatch(/^Rate limited/);
    const store = openStore(gatewayDb, { mustExist: true });
    try {
      const [info] = store.allSessions();
      const live = store.sessionDecisions(info!.id).map((d) => `${d.rpcId} ${d.decision}`);
      expect(live).toEqual(['1 allow', '2 allow', '3 throttle', '4 throttle', '6 throttle']);
      const replayed = [...dryRun(loadPolicy(policyFile), timeline(resolveSources([], () => store)))].map(
        ({ call, verdict }) => `${JSON.stringify(call.id)} ${verdict.decision}`,
      );
      expect(replayed).toEqual(live);
    } finally {
      store.close();
    }
  });

  it('--deny-as error answers JSON-RPC errors -32001', async () => {
    const { byId, serverCalls } = await session([JSON.stringify(call(1, 'delete_me'))], 1, ['--deny-as', 'error']);
    expect(byId.get('1')!.error).toMatchObject({
      code: -32001,
      message: 'Denied by policy: denied by tools.delete_*',
    });
    expect(serverCalls).toEqual([]);
  });
});
