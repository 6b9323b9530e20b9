import { describe, expect, it } from 'vitest';
import {
  InFlightRequests,
  inspectClientMessage,
  isFirstInitialize,
  refusedWhole,
} from '../../../proxy/enforce/clientMessages.js';

const call = (params: unknown, id: unknown = 1, method = 'tools/call') => ({ jsonrpc: '2.0', id, method, params });

describe('inspectClientMessage: what may reach the server', () => {
  it('passes a well-formed tools/call to the engine, arguments defaulting to {}', () => {
    expect(inspectClientMessage(call({ name: 'echo', arguments: { message: 'hi' } }, 'a'))).toEqual({
      kind: 'call',
      id: 'a',
      tool: 'echo',
      args: { message: 'hi' },
    });
    expect(inspectClientMessage(call({ name: 'echo' }, 0))).toEqual({ kind: 'call', id: 0, tool: 'echo', args: {} });
  });

  it('forwards what is not a tool call untouched', () => {
    for (const msg of [
      { jsonrpc: '2.0', id: 1, method: 'tools/list' },
      { jsonrpc: '2.0', method: 'notifications/initialized' },
      { jsonrpc: '2.0', id: 5, result: { action: 'accept' } },
      { jsonrpc: '2.0', id: 2, method: 'tools/callx' },
    ]) {
      expect(inspectClientMessage(msg)).toEqual({ kind: 'other' });
    }
  });

  it('rejects a tools/call without a string params.name, or with non-object arguments', () => {
    for (const params of [undefined, null, [], 'echo', {}, { name: 7 }, { name: ['echo'] }, { tool: 'echo' }]) {
      expect(inspectClientMessage(call(params, 9)), JSON.stringify(params)).toEqual({
        kind: 'reject',
        id: 9,
        code: -32602,
        message: 'tools/call without a string params.name',
      });
    }
    expect(inspectClientMessage(call({ name: 'echo', arguments: 'rm -rf /' }, 9))).toMatchObject({
      kind: 'reject',
      code: -32602,
    });
  });

  it('rejects a tools/call whose id is unusable, and drops one sent as a notification', () => {
    expect(inspectClientMessage(call({ name: 'echo' }, null))).toMatchObject({
      kind: 'reject',
      id: null,
      code: -32600,
    });
    expect(inspectClientMessage(call({ name: 'echo' }, { x: 1 }))).toMatchObject({ kind: 'reject', id: null });
    expect(inspectClientMessage({ jsonrpc: '2.0', method: 'tools/call', params: { name: 'echo' } })).toMatchObject({
      kind: 'drop',
    });
  });

  it('rejects any request whose id is there but is not a string or a number (its answer could not be matched)', () => {
    for (const id of [null, true, { x: 1 }, [1]]) {
      expect(inspectClientMessage(call(undefined, id, 'tools/list')), JSON.stringify(id)).toMatchObject({
        kind: 'reject',
        id: null,
        code: -32600,
      });
    }
  });

  it('rejects a string id holding a lone surrogate: Go reads it as U+FFFD, and its answer (a tools/list) would pass unfiltered', () => {
    for (const id of ['\ud800', 'a\udfff', '\udc00\ud800']) {
      expect(inspectClientMessage(call(undefined, id, 'tools/list')), JSON.stringify(id)).toMatchObject({
        kind: 'reject',
        id: null,
        code: -32600,
        message: expect.stringMatching(/lone surrogate/),
      });
    }
    // A pair is one character, read alike everywhere.
    expect(inspectClientMessage(call(undefined, '\ud83d\ude00', 'tools/list'))).toEqual({ kind: 'other' });
  });

  it('refuses variant spellings of the method that a lenient server might still route', () => {
    for (const method of [
      'Tools/Call',
      'TOOLS/CALL',
      ' tools/call',
      'tools/call\u200b',
      'ｔｏｏｌｓ/ｃａｌｌ',
      'tools\u2215call', // division slash
      'tools\u2044call', // fraction slash
    ]) {
      expect(inspectClientMessage(call({ name: 'echo' }, 1, method)), method).toMatchObject({
        kind: 'reject',
        id: 1,
        code: -32600,
      });
    }
    expect(inspectClientMessage({ jsonrpc: '2.0', method: 'Tools/Call', params: { name: 'x' } })).toMatchObject({
      kind: 'drop',
    });
  });

  it('splits batches into members (each checked alone), rejects an empty one and non-objects', () => {
    const members = [call({ name: 'echo' }, 1), call({ name: 'get-env' }, 2)];
    expect(inspectClientMessage(members)).toEqual({ kind: 'batch', members });
    expect(inspectClientMessage([])).toMatchObject({ kind: 'reject', id: null, code: -32600 });
    for (const junk of [5, 'tools/call', null, true])
      expect(inspectClientMessage(junk)).toMatchObject({ kind: 'reject' });
  });
});

describe('InFlightRequests: duplicate request ids', () => {
  it('refuses an id already in flight (1 and "1" alike) until it is released', () => {
    const ids = new InFlightRequests();
    expect(ids.claim(1)).toBe(true);
    expect(ids.claim(1)).toBe(false);
    expect(ids.claim('1')).toBe(false);
    expect(ids.claim('a')).toBe(true);
    ids.release(1);
    expect(ids.claim('1')).toBe(true);
    expect(ids.size).toBe(2);
  });
});

describe('refusedWhole: lines a server may read otherwise than the gateway', () => {
  const why = (text: string) => refusedWhole(text, JSON.parse(text));

  it('refuses a carriage return inside the line (servers that end lines there read what follows as a message)', () => {
    const inner = '{"jsonrpc":"2.0","id":2,"method":"tools/call","params":{"name":"delete_all"}}';
    expect(
      why(`{"jsonrpc":"2.0","id":1,"method":"tools/call","params":{"name":"echo","arguments":{"a":\r${inner}\r}}}`),
    ).toMatch(/carriage return/);
    // In a string it is written `\r`, two characters: no carriage return in the line.
    expect(why(JSON.stringify({ jsonrpc: '2.0', id: 1, method: 'ping', params: { a: 'x\ry' } }))).toBeUndefined();
  });

  it('refuses a key written twice, and keys that differ only in case (Go reads either)', () => {
    expect(why('{"id":1,"method":"tools/call","params":{"name":"echo","name":"delete_all"}}')).toMatch(/written twice/);
    for (const text of [
      '{"id":1,"method":"tools/call","params":{"name":"echo","Name":"delete_all"}}',
      '{"id":1,"method":"ping","Method":"tools/call"}',
      '{"id":1,"method":"tools/call","params":{"name":"echo"},"param\u017f":{"name":"delete_all"}}', // ſ folds to s
      '{"id":1,"method":"tools/call","params":{"name":"echo","arguments":{"k":1,"\u212a":2}}}', // Kelvin sign folds to k
      '[{"id":1,"method":"ping"},{"id":2,"method":"tools/call","params":{"name":"x","arguments":{"cmd":"ls","CMD":"rm"}}}]',
    ]) {
      expect(why(text), text).toMatch(/differ only in case/);
    }
    expect(
      why('{"jsonrpc":"2.0","id":1,"method":"tools/call","params":{"name":"echo","arguments":{"a":{"name":1}}}}'),
    ).toBeUndefined();
  });
});

describe('isFirstInitialize', () => {
  it("is the session's first initialize request only: not a notification, not a second one", () => {
    const init = { jsonrpc: '2.0', id: 0, method: 'initialize', params: { clientInfo: { name: 'a' } } };
    expect(isFirstInitialize(init, false)).toBe(true);
    expect(isFirstInitialize(init, true)).toBe(false);
    expect(isFirstInitialize({ ...init, id: undefined }, false)).toBe(false);
    // A request the gateway rejects (its id names nobody) names no grant either.
    expect(isFirstInitialize({ ...init, id: { x: 1 } }, false)).toBe(false);
    expect(isFirstInitialize({ ...init, id: null }, false)).toBe(false);
    expect(isFirstInitialize({ ...init, method: 'ping' }, false)).toBe(false);
  });
});
