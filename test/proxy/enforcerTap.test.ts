import { describe, expect, it, vi } from 'vitest';
import { compilePolicyValue, type Policy } from '../../engine/compilePolicy.js';
import { MemoryLimiter } from '../../engine/slidingWindow.js';
import type { Limiter } from '../../engine/types.js';
import { EnforcerTap } from '../../proxy/enforce/enforcerTap.js';
import type { Direction } from '../../proxy/frame.js';
import { Pump } from '../../proxy/pump.js';
import { SessionClock } from '../../proxy/sessionClock.js';
import { openStore } from '../../store/store.js';
import { Redactor } from '../../recorder/redact.js';

function policyOf(value: unknown): Policy {
  const r = compilePolicyValue(value);
  if (!r.ok) throw new Error(JSON.stringify(r.errors));
  return r.policy;
}

function gateway(limiter: Limiter, shadow = false) {
  let policy = policyOf({
    version: '1',
    default: 'deny',
    tools: { echo: { limits: [{ window: 'minute', max: 1 }] } },
  });
  const logged: string[] = [];
  const tap = new EnforcerTap({
    policy: () => policy,
    limiter,
    store: openStore(':memory:'),
    sessionId: 's',
    clock: new SessionClock(),
    shadow,
    denyAs: 'result',
    approvalTimeoutMs: 1000,
    log: (l) => logged.push(l),
  });
  const wire: Record<Direction, unknown[]> = { c2s: [], s2c: [] };
  const raw: Record<Direction, string> = { c2s: '', s2c: '' };
  const pump = new Pump({
    taps: [tap],
    clock: () => 1000,
    write: (dir, bytes) =>
      (raw[dir] += bytes.toString()) &&
      wire[dir].push(
        ...bytes
          .toString()
          .trim()
          .split('\n')
          .map((l) => JSON.parse(l) as unknown),
      ),
  });
  const call = (id: number, name = 'echo') =>
    pump.receive(
      'c2s',
      Buffer.from(JSON.stringify({ jsonrpc: '2.0', id, method: 'tools/call', params: { name, arguments: {} } }) + '\n'),
    );
  /** The client lists tools; the server answers with `tools`. */
  const listTools = (id: number, tools: string[]) => {
    pump.receive('c2s', Buffer.from(JSON.stringify({ jsonrpc: '2.0', id, method: 'tools/list' }) + '\n'));
    const result = { tools: tools.map((name) => ({ name, inputSchema: { type: 'object' } })) };
    pump.receive('s2c', Buffer.from(JSON.stringify({ jsonrpc: '2.0', id, result }) + '\n'));
  };
  const send = (text: string) => pump.receive('c2s', Buffer.from(text + '\n'));
  /** A hot reload to this policy. */
  const reload = (value: unknown) => {
    policy = policyOf(value);
    tap.policyReloaded();
  };
  /** The session's handshake; the server answers with these capabilities. */
  const initialize = (capabilities: unknown) => {
    send(JSON.stringify({ jsonrpc: '2.0', id: 0, method: 'initialize', params: { capabilities: {} } }));
    pump.receive('s2c', Buffer.from(JSON.stringify({ jsonrpc: '2.0', id: 0, result: { capabilities } }) + '\n'));
  };
  return { wire, raw, call, logged, listTools, send, pump, reload, initialize };
}

describe('EnforcerTap', () => {
  it('tells the client of a reload that lists or hides a listed tool, if the server declared tools.listChanged', () => {
    const changed = { jsonrpc: '2.0', method: 'notifications/tools/list_changed' };
    const allow = (...tools: string[]) => ({
      version: '1',
      default: 'deny',
      tools: Object.fromEntries(tools.map((t) => [t, {}])),
    });
    const g = gateway(new MemoryLimiter());
    g.initialize({ tools: { listChanged: true } });
    g.reload(allow('rm')); // nothing listed yet: nothing to tell
    g.listTools(1, ['echo', 'rm']);
    const told = () => g.wire.s2c.filter((m) => JSON.stringify(m) === JSON.stringify(changed)).length;
    expect(told()).toBe(0);
    g.reload(allow('rm', 'not-listed')); // rm was shown already
    expect(told()).toBe(0);
    g.reload(allow('echo'));
    expect(told()).toBe(1);
    // A server that declared no listChanged: its client listens for none; the gateway says so.
    const quiet = gateway(new MemoryLimiter());
    quiet.initialize({ tools: {} });
    quiet.listTools(1, ['echo', 'rm']);
    quiet.reload(allow('rm'));
    expect(quiet.wire.s2c.filter((m) => JSON.stringify(m) === JSON.stringify(changed))).toEqual([]);
    expect(quiet.logged.join('\n')).toMatch(/lists or hides echo, rm; .*declared no tools\.listChanged/);
    // --shadow hides nothing: nothing to tell.
    const shadow = gateway(new MemoryLimiter(), true);
    shadow.initialize({ tools: { listChanged: true } });
    shadow.listTools(1, ['echo', 'rm']);
    shadow.reload(allow('rm'));
    expect(shadow.wire.s2c.filter((m) => JSON.stringify(m) === JSON.stringify(changed))).toEqual([]);
  });

  it('a line it rewrites keeps its CRLF terminator', () => {
    const { raw, send } = gateway(new MemoryLimiter());
    const ok = { jsonrpc: '2.0', id: 1, method: 'tools/call', params: { name: 'echo', arguments: {} } };
    const denied = { ...ok, id: 2, params: { name: 'nope', arguments: {} } };
    send(`${JSON.stringify([ok, denied])}\r`); // the helper adds \n
    expect(raw.c2s).toBe(`${JSON.stringify([ok])}\r\n`);
  });

  it('refuses an id still in flight; once the server answered it (forwarded unread), the id is free again', () => {
    const { wire, send, pump } = gateway(new MemoryLimiter());
    const ping = JSON.stringify({ jsonrpc: '2.0', id: 7, method: 'ping' });
    send(ping);
    send(ping);
    expect(wire.c2s).toHaveLength(1);
    expect(wire.s2c).toMatchObject([{ id: 7, error: { message: expect.stringMatching(/already in flight/) } }]);
    wire.s2c.length = 0;
    for (let id = 100; id < 2200; id++) send(JSON.stringify({ jsonrpc: '2.0', id, method: 'ping' }));
    pump.receive('s2c', Buffer.from('{"jsonrpc":"2.0","id":7,"result":{}}\n'));
    for (let id = 100; id < 2200; id++) pump.receive('s2c', Buffer.from(`{"jsonrpc":"2.0","id":${id},"result":{}}\n`));
    send(ping);
    send(JSON.stringify({ jsonrpc: '2.0', id: 150, method: 'ping' }));
    expect(wire.s2c.filter((m) => (m as { error?: unknown }).error)).toEqual([]);
    expect(wire.c2s).toHaveLength(1 + 2100 + 2);
  });

  it('forwards a batch holding a call nested deeper than the stack as it came, when every member is allowed', () => {
    const { raw, wire, send } = gateway(new MemoryLimiter());
    const deep = `${'['.repeat(50_000)}${']'.repeat(50_000)}`;
    const batch = `[{"jsonrpc":"2.0","id":1,"method":"tools/call","params":{"name":"echo","arguments":{"d":${deep}}}},{"jsonrpc":"2.0","id":2,"method":"ping"}]`;
    send(batch);
    expect(wire.s2c).toEqual([]);
    expect(raw.c2s).toBe(batch + '\n');
  });

  it('forwards what it lets through of a batch it thins as the client wrote it (it re-serialized the members)', () => {
    const { raw, wire, send } = gateway(new MemoryLimiter());
    const echo =
      '{ "jsonrpc":"2.0", "id":1, "method":"tools/call", "params":{"name":"echo","arguments":{"n":1.0,"big":9007199254740993,"s":"\\u00e9"}}}';
    const denied = '{"jsonrpc":"2.0","id":2,"method":"tools/call","params":{"name":"nope","arguments":{}}}';
    const ping =
      '{"jsonrpc":"2.0","id":3,"method":"ping","params":{"d":' + '['.repeat(50_000) + ']'.repeat(50_000) + '}}';
    send(`[ ${echo} ,\t${denied}, ${ping} ]`);
    expect(raw.c2s).toBe(`[${echo},${ping}]\n`);
    expect(wire.s2c).toEqual([]); // the denial waits for the server's answer to join it
  });

  it('fails closed: a limiter that throws denies the call, names the failure, and keeps serving', () => {
    const broken: Limiter = {
      wait: () => {
        throw new Error('disk I/O error');
      },
      record: () => undefined,
      atomically: (fn) => fn(),
    };
    const { wire, call, logged } = gateway(broken);
    call(1);
    call(2, 'unknown_tool');
    expect(wire.c2s).toEqual([]);
    expect(wire.s2c).toMatchObject([
      {
        id: 1,
        result: {
          isError: true,
          content: [{ text: expect.stringMatching(/could not decide this call \(disk I\/O error\)/) }],
        },
      },
      {
        id: 2,
        result: { isError: true, content: [{ text: 'Denied by policy: no rule for tool unknown_tool; default deny' }] },
      },
    ]);
    expect(logged[0]).toMatch(/disk I\/O error/);
  });

  it('--shadow decides but forwards everything, and lists every tool', () => {
    const { wire, call, listTools } = gateway(new MemoryLimiter(), true);
    call(1);
    call(2);
    call(3, 'unknown_tool');
    expect(wire.s2c).toEqual([]);
    expect((wire.c2s as { id: number }[]).map((m) => m.id)).toEqual([1, 2, 3]);
    listTools(4, ['echo', 'unknown_tool']);
    expect(wire.s2c).toMatchObject([{ id: 4, result: { tools: [{ name: 'echo' }, { name: 'unknown_tool' }] } }]);
  });

  it('refuses a call whose text has a key written twice (parsers disagree on which one counts)', () => {
    const { wire, send } = gateway(new MemoryLimiter());
    send(
      '{"jsonrpc":"2.0","id":9,"method":"tools/call","params":{"name":"unknown_tool","name":"echo","arguments":{}}}',
    );
    expect(wire.c2s).toEqual([]);
    expect(wire.s2c).toMatchObject([
      { id: 9, error: { code: -32600, message: expect.stringMatching(/written twice/) } },
    ]);
  });

  it('enforcing: tools/list loses the tools the policy denies outright', () => {
    const { wire, listTools } = gateway(new MemoryLimiter());
    listTools(4, ['echo', 'unknown_tool']);
    expect(wire.s2c).toMatchObject([{ id: 4, result: { tools: [{ name: 'echo' }] } }]);
  });

  describe('a batch answers as one array (JSON-RPC), its refused members with the rest', () => {
    const rpc = (id: number, name: string) => ({
      jsonrpc: '2.0',
      id,
      method: 'tools/call',
      params: { name, arguments: {} },
    });
    const answer = (id: number) => ({ jsonrpc: '2.0', id, result: { content: [] } });
    const ids = (v: unknown) => (v as { id: unknown }[]).map((m) => m.id);

    it('joins the server’s answer to the members it forwarded', () => {
      const { wire, send, pump } = gateway(new MemoryLimiter());
      send(JSON.stringify([rpc(1, 'echo'), rpc(2, 'delete_all'), { jsonrpc: '2.0', id: 3, method: 'ping' }]));
      expect(wire.c2s).toEqual([[rpc(1, 'echo'), { jsonrpc: '2.0', id: 3, method: 'ping' }]]);
      expect(wire.s2c).toEqual([]); // the denial waits for the server's array
      pump.receive('s2c', Buffer.from(JSON.stringify([answer(3), answer(1)]) + '\n'));
      expect(wire.s2c).toHaveLength(1);
      expect(ids(wire.s2c[0])).toEqual([3, 1, 2]);
      expect(wire.s2c[0]).toMatchObject([{}, {}, { id: 2, result: { isError: true } }]);
      // Later answers pass untouched.
      send(JSON.stringify({ jsonrpc: '2.0', id: 4, method: 'ping' }));
      pump.receive('s2c', Buffer.from(JSON.stringify(answer(4)) + '\n'));
      expect(wire.s2c[1]).toEqual(answer(4));
    });

    it('answers at once when nothing of the batch goes on, or only notifications do', () => {
      const { wire, send } = gateway(new MemoryLimiter());
      send(JSON.stringify([rpc(1, 'delete_all'), rpc(2, 'nope'), [rpc(3, 'echo')]]));
      expect(wire.c2s).toEqual([]);
      expect(wire.s2c).toHaveLength(1);
      expect(ids(wire.s2c[0])).toEqual([1, 2, null]);
      const note = { jsonrpc: '2.0', method: 'notifications/progress', params: {} };
      send(JSON.stringify([note, rpc(4, 'nope')]));
      expect(wire.c2s).toEqual([[note]]);
      expect(ids(wire.s2c[1])).toEqual([4]);
    });

    it('a server that answers the members one by one (or dies) gets ours beside its own', () => {
      const { wire, send, pump } = gateway(new MemoryLimiter());
      send(JSON.stringify([rpc(1, 'echo'), rpc(2, 'delete_all')]));
      pump.receive('s2c', Buffer.from(JSON.stringify(answer(1)) + '\n'));
      expect(wire.s2c).toEqual([expect.objectContaining({ id: 2 }), answer(1)]);
      send(JSON.stringify([{ jsonrpc: '2.0', id: 5, method: 'ping' }, rpc(6, 'delete_all')]));
      pump.serverExited(1, null);
      expect(wire.s2c.slice(2)).toMatchObject([
        { id: 6, result: { isError: true } },
        { id: 5, error: { code: -32000 } },
      ]);
    });

    it('refuses a batch with a key written twice in one array of rejections', () => {
      const { wire, send } = gateway(new MemoryLimiter());
      send('[{"jsonrpc":"2.0","id":1,"method":"ping"},{"jsonrpc":"2.0","id":2,"id":3,"method":"ping"}]');
      expect(wire.c2s).toEqual([]);
      expect(wire.s2c).toHaveLength(1);
      expect(ids(wire.s2c[0])).toEqual([1, 3]);
    });
  });

  it('enforcing: the second call in the minute is throttled, never forwarded', () => {
    const { wire, call } = gateway(new MemoryLimiter());
    call(1);
    call(2);
    expect((wire.c2s as { id: number }[]).map((m) => m.id)).toEqual([1]);
    expect(wire.s2c).toMatchObject([
      { id: 2, result: { isError: true, _meta: { 'mcp-replay/decision': { decision: 'throttle' } } } },
    ]);
  });
});

describe('EnforcerTap: ids JSON.parse does not read exactly', () => {
  // 2^53 + 1 and 2^53 + 3 read as 2^53 and 2^53 + 4; a client keeping exact integers (Python's
  // json, Go's UseNumber) matches an answer by the id it wrote.
  const A = '9007199254740993';
  const B = '9007199254740995';
  const req = (id: string, method: string, params?: object) =>
    `{"jsonrpc":"2.0","id":${id},"method":"${method}"${params ? `,"params":${JSON.stringify(params)}` : ''}}`;
  const tool = (id: string, name: string) => req(id, 'tools/call', { name, arguments: {} });
  /** The id tokens of the lines (or of a line's batch members) written to a side. */
  const idsOf = (text: string) =>
    text
      .trim()
      .split('\n')
      .map((l) => [...l.matchAll(/\{"jsonrpc":"2\.0","id":([^,]*),/g)].map((m) => m[1]).join(' '));

  it('answers a denied, throttled, malformed, duplicated or refused request with its id as written', () => {
    const { raw, send } = gateway(new MemoryLimiter());
    send(tool(A, 'nope')); // default deny
    send(tool('1', 'echo'));
    send(tool('123456789012345678901234567890', 'echo')); // throttled: echo is once a minute
    send(req('1.10', 'tools/call', { arguments: {} })); // no name: -32602
    send(req('18014398509481984', 'ping'));
    send(req('18014398509481985', 'ping')); // reads as 2^54, in flight: refused
    send(`{"jsonrpc":"2.0","id":${A},"id":${B},"method":"ping"}`); // a key written twice: refused whole
    expect(raw.c2s.trim().split('\n')).toHaveLength(2);
    expect(idsOf(raw.s2c)).toEqual([
      '9007199254740993',
      '123456789012345678901234567890',
      '1.10',
      '18014398509481985',
      B,
    ]);
    expect(raw.s2c).toMatch(/"request id 18014398509481985 \(or one read as the same number\) is already in flight/);
  });

  it('a batch: its refused members answered with their ids, the rest forwarded with theirs', () => {
    const { raw, send, pump } = gateway(new MemoryLimiter());
    send(`[${tool(A, 'echo')},${tool(B, 'nope')},${req('7', 'ping')}]`);
    expect(raw.c2s).toBe(`[${tool(A, 'echo')},${req('7', 'ping')}]\n`);
    // A server keeping exact ids answers with them; ours joins its array.
    pump.receive(
      's2c',
      Buffer.from(`[{"jsonrpc":"2.0","id":7,"result":{}},{"jsonrpc":"2.0","id":${A},"result":{}}]\n`),
    );
    expect(idsOf(raw.s2c)).toEqual([`7 ${A} ${B}`]);
  });

  it("a filtered tools/list keeps the server's id as it wrote it", () => {
    const { raw, send, pump } = gateway(new MemoryLimiter());
    send(req(A, 'tools/list'));
    const tools = ['echo', 'nope'].map((name) => ({ name, inputSchema: { type: 'object' } }));
    pump.receive('s2c', Buffer.from(`{"jsonrpc":"2.0","id":${A},"result":${JSON.stringify({ tools })}}\n`));
    expect(raw.s2c).toBe(`{"jsonrpc":"2.0","id":${A},"result":{"tools":[${JSON.stringify(tools[0])}]}}\n`);
  });

  it('a call held for approval: rejected, it is answered with its id as written; approved, forwarded so', async () => {
    const store = openStore(':memory:');
    const tap = new EnforcerTap({
      policy: () => policyOf({ version: '1', default: 'deny', tools: { deploy: { action: 'require_approval' } } }),
      limiter: new MemoryLimiter(),
      store,
      sessionId: 's',
      clock: new SessionClock(),
      shadow: false,
      denyAs: 'error',
      approvalTimeoutMs: 5000,
      log: () => undefined,
    });
    const out = { c2s: '', s2c: '' };
    const pump = new Pump({ taps: [tap], clock: () => 1000, write: (dir, b) => void (out[dir] += b.toString()) });
    pump.receive('c2s', Buffer.from(`${tool(A, 'deploy')}\n[${req('1', 'ping')},${tool(B, 'deploy')}]\n`));
    const [first, second] = store.pendingApprovals(Date.now());
    store.resolveApproval(first!.id, 'rejected', 'alice', Date.now());
    store.resolveApproval(second!.id, 'approved', 'alice', Date.now());
    await vi.waitFor(() => expect(out.s2c).toMatch(/\n$/), { timeout: 4000 });
    await vi.waitFor(() => expect(out.c2s.trim().split('\n')).toHaveLength(2), { timeout: 4000 });
    expect(out.s2c).toMatch(new RegExp(`^\\{"jsonrpc":"2.0","id":${A},"error":\\{"code":-32001,.*rejected by alice`));
    expect(out.c2s.trim().split('\n')[1]).toBe(tool(B, 'deploy'));
    tap.close();
    store.close();
  });
});

describe('EnforcerTap: the approvals queue', () => {
  /** A gateway whose policy holds every call of `tool` for approval, on the queue (no elicitation), redacting. */
  const queueingTap = (tool: string) => {
    const store = openStore(':memory:');
    const redactor = new Redactor({ enabled: true });
    const tap = new EnforcerTap({
      policy: () => policyOf({ version: '1', default: 'deny', tools: { [tool]: { action: 'require_approval' } } }),
      limiter: new MemoryLimiter(),
      store,
      sessionId: 's',
      clock: new SessionClock(),
      shadow: false,
      denyAs: 'result',
      approvalTimeoutMs: 5000,
      redact: (args) => redactor.value(args),
      log: () => undefined,
    });
    return { store, tap };
  };

  it('stores the arguments of a call waiting for a human redacted; the call still goes out as sent', async () => {
    const { store, tap } = queueingTap('deploy');
    const sent: string[] = [];
    const pump = new Pump({
      taps: [tap],
      clock: () => 1000,
      write: (dir, b) => void (dir === 'c2s' && sent.push(b.toString())),
    });
    const call = JSON.stringify({
      jsonrpc: '2.0',
      id: 1,
      method: 'tools/call',
      params: { name: 'deploy', arguments: { env: 'prod', api_key: 'S3CRET' } },
    });
    pump.receive('c2s', Buffer.from(call + '\n'));
    const [pending] = store.pendingApprovals(Date.now());
    expect(pending!.args).toEqual({ env: 'prod', api_key: '[REDACTED]' });
    store.resolveApproval(pending!.id, 'approved', 'alice', Date.now());
    await vi.waitFor(() => expect(sent).toEqual([call + '\n']), { timeout: 4000 });
    tap.close();
    store.close();
  });
  it('says where redaction hid part of the arguments: the human approves what runs, not what the queue shows', () => {
    const { store, tap } = queueingTap('run');
    const pump = new Pump({ taps: [tap], clock: () => 1000, write: () => undefined });
    const ask = (id: number, args: object) =>
      pump.receive(
        'c2s',
        Buffer.from(
          JSON.stringify({ jsonrpc: '2.0', id, method: 'tools/call', params: { name: 'run', arguments: args } }) + '\n',
        ),
      );
    // A header's value runs to the end of its line: what follows it is hidden from the human.
    ask(1, { cmd: 'curl -H Cookie: x; rm -rf ~', steps: [{ api_key: 'k', n: 1 }], dir: '/tmp' });
    ask(2, { cmd: 'ls' });
    const [hiding, plain] = store.pendingApprovals(Date.now());
    expect(hiding!.args).toEqual({
      cmd: 'curl -H Cookie: [REDACTED]',
      steps: [{ api_key: '[REDACTED]', n: 1 }],
      dir: '/tmp',
    });
    expect(hiding!.reason).toBe(
      'tools.run requires approval; redacted here, so not shown: /cmd, /steps/0/api_key (the call runs with their real values)',
    );
    expect(plain!.reason).toBe('tools.run requires approval');
    tap.close();
    store.close();
  });
});
