import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { callsOf, dbSource, jsonlSource } from '../../replayer/index.js';
import { openStore } from '../../store/store.js';

const fixture = join(import.meta.dirname, '../../fixtures/sessions/seed-15-calls.jsonl');

describe('db sessions read through the callMessages fast path', () => {
  it('give exactly the calls of a full read, batches and grants included', () => {
    const store = openStore(join(mkdtempSync(join(tmpdir(), 'mcp-replay-test-')), 'r.db'));
    try {
      const file = jsonlSource(fixture);
      store.insertSession(file.info);
      let last = 0;
      let t = 0;
      for (const r of file.records()) {
        if (r.type !== 'message') continue;
        const msg = JSON.parse(r.raw);
        const first = Array.isArray(msg) ? msg[0] : msg;
        store.appendMessage(file.info.id, r.seq, r.t, r.dir, r.raw, first.method ?? null, null);
        last = r.seq;
        t = r.t;
      }
      // A batch whose first element is a notification (its method column says so) holding a call,
      // and a second initialize that renames the grant.
      const batch = [
        { jsonrpc: '2.0', method: 'notifications/progress', params: {} },
        { jsonrpc: '2.0', id: 99, method: 'tools/call', params: { name: 'get_object', arguments: { Key: 'k' } } },
      ];
      store.appendMessage(file.info.id, last + 1, t + 1, 'c2s', JSON.stringify(batch), 'notifications/progress', null);
      const init = { jsonrpc: '2.0', id: 100, method: 'initialize', params: { clientInfo: { name: 'other-agent' } } };
      store.appendMessage(file.info.id, last + 2, t + 2, 'c2s', JSON.stringify(init), 'initialize', '100');
      const call = { jsonrpc: '2.0', id: 101, method: 'tools/call', params: { name: 'list_buckets', arguments: {} } };
      store.appendMessage(file.info.id, last + 3, t + 3, 'c2s', JSON.stringify(call), 'tools/call', '101');

      const db = dbSource(store, file.info.id);
      expect(db.callMessages).toBeDefined();
      const fast = [...callsOf(db)];
      const full = [...callsOf({ ...db, callMessages: undefined })];
      expect(fast).toEqual(full);
      expect(fast).toHaveLength(17);
      expect(fast.slice(-2).map((c) => [c.tool, c.grant])).toEqual([
        ['get_object', 'demo-agent'],
        ['list_buckets', 'other-agent'],
      ]);
    } finally {
      store.close();
    }
  });
});
