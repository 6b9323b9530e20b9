import { describe, expect, it } from 'vitest';
import { InFlightRequests, inspectClientMessage } from '../../../proxy/enforce/clientMessages.js';

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

  it('refuses variant spellings of the method that a lenient server might still route', () => {
    for (const method of ['Tools/Call', 'TOOLS/CALL', ' tools/call', 'tools/call\u200b', 'ｔｏｏｌｓ/ｃａｌｌ']) {
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
