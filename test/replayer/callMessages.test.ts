import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { callsOf, dbSource, jsonlSource, timeline } from '../../replayer/index.js';
import { openStore } from '../../store/store.js';

const fixture = join(import.meta.dirname, '../../fixtures/sessions/seed-15-calls.jsonl');

describe('db sessions read through the replayMessages fast path', () => {
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
      // and a second initialize, which does not rename the grant (the gateway reads only the first:
      // else a client could switch to a fresh budget mid-session).
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
      expect(db.replayMessages).toBeDefined();
      const fast = [...callsOf(db)];
      const full = [...callsOf({ ...db, replayMessages: undefined })];
      expect(fast).toEqual(full);
      expect(fast).toHaveLength(17);
      expect(fast.slice(-2).map((c) => [c.tool, c.grant])).toEqual([
        ['get_object', 'demo-agent'],
        ['list_buckets', 'demo-agent'],
      ]);
    } finally {
      store.close();
    }
  });

  it('read several sessions of one db at once (a timeline), as the files do', () => {
    const store = openStore(join(mkdtempSync(join(tmpdir(), 'mcp-replay-test-')), 'r.db'));
    try {
      const file = jsonlSource(fixture);
      for (const id of ['one', 'two']) {
        store.insertSession({ ...file.info, id });
        for (const r of file.records()) {
          if (r.type !== 'message') continue;
          const method = (JSON.parse(r.raw) as { method?: string }).method ?? null;
          store.appendMessage(id, r.seq, r.t, r.dir, r.raw, method, null);
        }
      }
      const fromDb = [...timeline([dbSource(store, 'one'), dbSource(store, 'two')])];
      const fromFiles = [...timeline([file, { ...file, info: { ...file.info, id: 'two' } }])].map((c) =>
        c.session === 'seed-15-calls' ? { ...c, session: 'one' } : c,
      );
      expect(fromDb).toHaveLength(30);
      expect(fromDb).toEqual(fromFiles);
    } finally {
      store.close();
    }
  });
});
