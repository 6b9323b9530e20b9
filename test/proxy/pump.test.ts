import { describe, expect, it } from 'vitest';
import { Frame, type Direction } from '../../proxy/frame.js';
import { Pump } from '../../proxy/pump.js';
import type { Tap, TapAction, TapContext } from '../../proxy/tap.js';

function harness(taps: Tap[]) {
  const wire: { dir: Direction; bytes: string }[] = [];
  let t = 0;
  const pump = new Pump({ taps, clock: () => ++t, write: (dir, bytes) => wire.push({ dir, bytes: bytes.toString() }) });
  const to = (dir: Direction) =>
    wire
      .filter((w) => w.dir === dir)
      .map((w) => w.bytes)
      .join('');
  return { pump, wire, to };
}

const line = (m: unknown) => JSON.stringify(m) + '\n';

describe('Pump', () => {
  it('fails closed for a gatekeeping tap that throws: the request is refused, never forwarded', () => {
    const recorded: string[] = [];
    const recorder: Tap = { onFrame: (f) => void recorded.push(`${f.dir} ${f.text()}`) };
    const broken = (failClosed: boolean): Tap => ({
      failClosed,
      onFrame: (f) => {
        if (f.dir === 'c2s') throw new Error('policy engine exploded');
        return undefined;
      },
    });
    const gate = harness([recorder, broken(true)]);
    gate.pump.receive('c2s', Buffer.from(line({ jsonrpc: '2.0', id: 7, method: 'tools/call', params: { name: 'x' } })));
    expect(gate.to('c2s')).toBe('');
    expect(JSON.parse(gate.to('s2c'))).toEqual({
      jsonrpc: '2.0',
      id: 7,
      error: { code: -32603, message: 'refused by mcp-replay (fail closed): policy engine exploded' },
    });
    // The refusal passes the taps on the client's side (the recorder keeps it).
    expect(recorded[1]).toMatch(/^s2c .*fail closed/);
    // An ordinary tap that throws is skipped: the traffic still flows.
    const open = harness([broken(false)]);
    open.pump.receive('c2s', Buffer.from(line({ jsonrpc: '2.0', id: 8, method: 'ping' })));
    expect(open.to('c2s')).toMatch(/"id":8/);
  });

  it("fails closed when a batch's unit cannot commit: the requests a gatekeeper let through are refused", () => {
    const seen: string[] = [];
    const gatekeeper: Tap = { failClosed: true, onFrame: (f) => void seen.push(`${f.dir} ${f.text()}`) };
    const wire: { dir: Direction; bytes: string }[] = [];
    let fail = true;
    const pump = new Pump({
      taps: [gatekeeper],
      clock: () => 1,
      write: (dir, bytes) => wire.push({ dir, bytes: bytes.toString() }),
      // The db's COMMIT fails after the taps ran (disk full, I/O error): the budgets they spent are gone.
      atomic: (fn) => {
        fn();
        if (fail) throw new Error('SQLITE_IOERR: disk I/O error');
      },
    });
    const call = line({ jsonrpc: '2.0', id: 7, method: 'tools/call', params: { name: 'x' } });
    const note = line({ jsonrpc: '2.0', method: 'notifications/cancelled', params: { requestId: 3 } });
    pump.receive('c2s', Buffer.from(call + note));
    expect(wire.filter((w) => w.dir === 'c2s').map((w) => w.bytes)).toEqual([note]);
    const answer = wire.find((w) => w.dir === 's2c')!;
    expect(JSON.parse(answer.bytes)).toEqual({
      jsonrpc: '2.0',
      id: 7,
      error: { code: -32603, message: 'refused by mcp-replay (fail closed): SQLITE_IOERR: disk I/O error' },
    });
    // The refusal comes from the server's edge: the gatekeeper sees the request answered.
    expect(seen.at(-1)).toMatch(/^s2c .*"id":7/);
    // Once the db works again, so does the gateway.
    fail = false;
    wire.length = 0;
    pump.receive('c2s', Buffer.from(call));
    expect(wire).toEqual([{ dir: 'c2s', bytes: call }]);
    // Without a gatekeeper (the recorder alone) nothing is refused: the recorder never drops traffic.
    const open = new Pump({
      taps: [{ onFrame: () => undefined }],
      clock: () => 1,
      write: (dir, bytes) => wire.push({ dir, bytes: bytes.toString() }),
      atomic: (fn) => {
        fn();
        throw new Error('SQLITE_IOERR');
      },
    });
    wire.length = 0;
    open.receive('c2s', Buffer.from(call));
    expect(wire).toEqual([{ dir: 'c2s', bytes: call }]);
  });

  it('a rewrite that cannot be serialized (nested deeper than the stack) is the tap failing', () => {
    let deep: unknown = 1;
    for (let i = 0; i < 100_000; i++) deep = [deep];
    const rewriter = (failClosed: boolean): Tap => ({ failClosed, onFrame: () => ({ replace: { deep } }) });
    const gate = harness([rewriter(true)]);
    gate.pump.receive('c2s', Buffer.from(line({ jsonrpc: '2.0', id: 7, method: 'tools/call', params: { name: 'x' } })));
    expect(gate.to('c2s')).toBe('');
    expect(JSON.parse(gate.to('s2c'))).toMatchObject({ id: 7, error: { code: -32603 } });
    // Toward the client (and for an ordinary tap) the line goes on as it came, with the rest of its chunk.
    const answers = line({ jsonrpc: '2.0', id: 1, result: {} }) + line({ jsonrpc: '2.0', id: 2, result: {} });
    gate.pump.receive('s2c', Buffer.from(answers));
    expect(gate.to('s2c')).toMatch(new RegExp(`${answers.replace(/[{}[\]]/g, '\\$&')}$`));
  });

  it('forwards untouched frames as the exact bytes, whatever the chunking', () => {
    const { pump, to } = harness([{ onFrame: () => undefined }]);
    const text = '{"jsonrpc":"2.0","id":1,"method":"ping"}\r\n{ "jsonrpc" : "2.0", "method":"x" }\nnot json\n\n{"id":2';
    for (const ch of text) pump.receive('c2s', Buffer.from(ch));
    pump.end('c2s');
    expect(to('c2s')).toBe(text);
  });

  it('flushes every tap before writing a batch, one flush per chunk', () => {
    const log: string[] = [];
    const tap: Tap = { onFrame: (f) => void log.push(`frame ${f.text()}`), flush: () => void log.push('flush') };
    const pump = new Pump({ taps: [tap], clock: () => 0, write: (dir) => void log.push(`write ${dir}`) });
    pump.receive('c2s', Buffer.from('{"a":1}\n{"b":2}\n'));
    expect(log).toEqual(['frame {"a":1}', 'frame {"b":2}', 'flush', 'write c2s']);
  });

  it('lets a tap answer a request itself (never forwarded), rewrite a response, and run its own round trip', () => {
    const seen: string[] = [];
    const recorder: Tap = { onFrame: (f) => void seen.push(`${f.dir} ${f.text()}`) };
    let ask: TapContext | undefined;
    let answered: unknown;
    const gate: Tap = {
      onFrame(f, ctx): TapAction {
        ask = ctx;
        const m = f.json() as { id?: unknown; method?: string; result?: unknown };
        if (m.method === 'tools/call') {
          ctx.send('s2c', { jsonrpc: '2.0', id: m.id, result: { isError: true, content: [] } });
          return { drop: true };
        }
        if (m.id === 'gate-1' && f.dir === 'c2s') {
          answered = m.result;
          return { drop: true };
        }
        if (f.dir === 's2c' && (m.result as { tools?: unknown })?.tools)
          return { replace: { ...m, result: { tools: [] } } };
        return undefined;
      },
    };
    const { pump, to } = harness([recorder, gate]);
    pump.receive('c2s', Buffer.from(line({ jsonrpc: '2.0', id: 1, method: 'tools/call', params: { name: 'x' } })));
    expect(to('c2s')).toBe('');
    expect(JSON.parse(to('s2c'))).toMatchObject({ id: 1, result: { isError: true } });
    pump.receive('s2c', Buffer.from(line({ jsonrpc: '2.0', id: 2, result: { tools: [{ name: 'x' }] } })));
    expect(
      to('s2c')
        .trim()
        .split('\n')
        .map((l) => JSON.parse(l))[1],
    ).toEqual({ jsonrpc: '2.0', id: 2, result: { tools: [] } });
    // A request of the gate's own to the client, outside any batch: goes out at once; the reply stops at the gate.
    ask!.send('s2c', { jsonrpc: '2.0', id: 'gate-1', method: 'elicitation/create', params: {} });
    pump.receive('c2s', Buffer.from(line({ jsonrpc: '2.0', id: 'gate-1', result: { action: 'accept' } })));
    expect(answered).toEqual({ action: 'accept' });
    expect(to('c2s')).toBe('');
    // The recorder (client side) saw what the client saw: the call, the answer, the rewritten list, the round trip.
    expect(seen.map((s) => s.slice(0, 3) + (JSON.parse(s.slice(4)) as { id: unknown }).id)).toEqual([
      'c2s1',
      's2c1',
      's2c2',
      's2cgate-1',
      'c2sgate-1',
    ]);
  });

  it('answers every request the server had not answered when it exits, and later ones too', () => {
    const { pump, to } = harness([]);
    pump.receive(
      'c2s',
      Buffer.from(line({ jsonrpc: '2.0', id: 1, method: 'a' }) + line({ jsonrpc: '2.0', id: 'b', method: 'b' })),
    );
    pump.receive('c2s', Buffer.from(line({ jsonrpc: '2.0', method: 'notifications/x' })));
    pump.receive('s2c', Buffer.from(line({ jsonrpc: '2.0', id: 1, result: {} })));
    pump.serverExited(7, null);
    pump.receive('c2s', Buffer.from(line({ jsonrpc: '2.0', id: 3, method: 'c' })));
    const replies = to('s2c')
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l) as { id: unknown; error?: { message: string } });
    expect(replies.map((r) => r.id)).toEqual([1, 'b', 3]);
    expect(replies[1]!.error!.message).toMatch(/exited with code 7/);
  });

  it('a tap that throws is reported and skipped; the message still goes through', () => {
    const errors: unknown[] = [];
    const pump = new Pump({
      taps: [
        {
          onFrame: () => {
            throw new Error('boom');
          },
        },
      ],
      clock: () => 0,
      write: (_d, b) => errors.push(b.toString()),
      onTapError: (e) => errors.push((e as Error).message),
    });
    pump.receive('s2c', Buffer.from('{"x":1}\n'));
    expect(errors).toEqual(['boom', '{"x":1}\n']);
  });

  it("a tap's failure is reported with the tap and the message it failed on", () => {
    const where: unknown[] = [];
    const pump = new Pump({
      taps: [
        {
          name: 'gateway',
          onFrame: () => {
            throw new Error('boom');
          },
        },
      ],
      clock: () => 0,
      write: () => {},
      onTapError: (_e, w) => where.push(w),
    });
    pump.receive('c2s', Buffer.from(line({ jsonrpc: '2.0', id: 7, method: 'tools/call', params: { name: 'x' } })));
    pump.receive(
      's2c',
      Buffer.from('{"jsonrpc":"2.0","id":"a","result":{}}\nnot json\n[{"jsonrpc":"2.0","method":"x"}]\n'),
    );
    expect(where).toEqual([
      "gateway, on the client's tools/call id 7",
      'gateway, on the server\'s response id "a"',
      "gateway, on the server's line that is not JSON",
      "gateway, on the server's batch of 1",
    ]);
  });

  it('Frame.of serializes as the SDK does', () => {
    expect(Frame.of('s2c', { a: 1 }, 0).bytes.toString()).toBe('{"a":1}\n');
  });

  it('a server that dies mid-line: its fragment is passed on, and the answers to pending requests start a line', () => {
    const { pump, to } = harness([]);
    pump.receive('c2s', Buffer.from(line({ jsonrpc: '2.0', id: 1, method: 'tools/call', params: { name: 'x' } })));
    pump.receive('s2c', Buffer.from('{"jsonrpc":"2.0","method":"notifications/mess'));
    pump.end('s2c');
    pump.serverExited(1, null);
    const [fragment, answer, rest] = to('s2c').split('\n');
    expect(fragment).toBe('{"jsonrpc":"2.0","method":"notifications/mess');
    expect(JSON.parse(answer!)).toMatchObject({ id: 1, error: { code: -32000 } });
    expect(rest).toBe('');
  });

  it('answers the requests a dead server owed with their ids as the client wrote them, two a double cannot tell apart too', () => {
    const { pump, to } = harness([]);
    // 2^53 + 1 reads as 2^53, as does 2^53 itself; 1.10 writes back 1.1.
    const requests = ['9007199254740993', '9007199254740992', '1.10', '123456789012345678901234567890'].map(
      (id) => `{"jsonrpc":"2.0","id":${id},"method":"tools/call","params":{"name":"x"}}\n`,
    );
    pump.receive('c2s', Buffer.from(requests[0]! + requests[1]!));
    pump.receive('c2s', Buffer.from(`[${requests[2]!.trim()},${requests[3]!.trim()}]\n`));
    pump.serverExited(1, null);
    pump.receive('c2s', Buffer.from('{"jsonrpc":"2.0","id":18014398509481985,"method":"ping"}\n'));
    const ids = to('s2c')
      .trim()
      .split('\n')
      .map((l) => /^\{"jsonrpc":"2.0","id":([^,]*),"error":\{"code":-32000,/.exec(l)?.[1]);
    expect(ids).toEqual([
      '9007199254740993',
      '9007199254740992',
      '1.10',
      '123456789012345678901234567890',
      '18014398509481985',
    ]);
  });

  it("a dead server's answer settles one of two requests it read as one id: the other still gets its own", () => {
    const { pump, to } = harness([]);
    pump.receive(
      'c2s',
      Buffer.from(
        '{"jsonrpc":"2.0","id":9007199254740993,"method":"a"}\n{"jsonrpc":"2.0","id":9007199254740992,"method":"b"}\n',
      ),
    );
    // What a server reading ids as doubles writes for either.
    pump.receive('s2c', Buffer.from('{"jsonrpc":"2.0","id":9007199254740992,"result":{}}\n'));
    expect(pump.pendingCount).toBe(1);
    pump.serverExited(1, null);
    expect(to('s2c').trim().split('\n')[1]).toMatch(/^\{"jsonrpc":"2.0","id":9007199254740993,"error"/);
  });

  it('a gatekeeper that fails refuses a request with its id as written', () => {
    const gate: Tap = {
      failClosed: true,
      onFrame: (f) => {
        if (f.dir === 'c2s') throw new Error('boom');
        return undefined;
      },
    };
    const { pump, to } = harness([gate]);
    pump.receive(
      'c2s',
      Buffer.from('[{"jsonrpc":"2.0","id":"a","method":"x"},{"jsonrpc":"2.0","id":9007199254740993,"method":"x"}]\n'),
    );
    expect(to('s2c')).toMatch(
      /^\{"jsonrpc":"2.0","id":"a",.*\n\{"jsonrpc":"2.0","id":9007199254740993,"error":\{"code":-32603,/,
    );
  });
});
