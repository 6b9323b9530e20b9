import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { Pump } from '../../proxy/pump.js';
import { RecorderTap } from '../../proxy/recorderTap.js';
import { Redactor } from '../../recorder/redact.js';
import { decodeSpool, spoolDir } from '../../store/spool.js';
import { openStore, type Store } from '../../store/store.js';
import { tempDir } from '../integration/helpers.js';

// Lines as they may cross the proxy: the recorder spools most of them unparsed (nothing to
// redact) and parses them after forwarding; a line with a secret is parsed and redacted first.
const c2s = [
  '{"jsonrpc":"2.0","id":1,"method":"tools/call","params":{"name":"echo","_meta":{"progressToken":1}}}\n',
  '{"jsonrpc":"2.0","id":"a","method":"tools/call","params":{"name":"login","arguments":{"api_key":"K"}}}\r\n',
  '[{"jsonrpc":"2.0","id":2,"method":"ping"},{"jsonrpc":"2.0","method":"notifications/cancelled"}]\n',
  '\n',
  ' 5 \n',
];
const s2c = [
  '{"jsonrpc":"2.0","id":1,"result":{"content":[]}}\n',
  'server says hello\n',
  'token=T on stdout\n',
  '{"jsonrpc":"2.0","method":"notifications/progress","params":{"progressToken":1,"progress":1}}\n',
  '{"broken json\n',
];

/** Every record of the session, as readers see them. */
const recordsOf = (store: Store, id: string) => [...store.records(id)].map(({ t: _t, ...r }) => r);

function record(dbFile: string): { store: Store; tap: RecorderTap; sent: string } {
  const store = openStore(dbFile);
  store.insertSession({ id: 'S', startedAt: new Date().toISOString(), transport: 'stdio' });
  const tap = new RecorderTap(store, 'S', new Redactor({ enabled: true }), { idleMs: 60_000, maxDelayMs: 60_000 });
  let sent = '';
  let t = 0;
  const pump = new Pump({ taps: [tap], clock: () => ++t, write: (_dir, bytes) => (sent += bytes.toString()) });
  for (let i = 0; i < Math.max(c2s.length, s2c.length); i++) {
    if (c2s[i]) pump.receive('c2s', Buffer.from(c2s[i]!));
    if (s2c[i]) pump.receive('s2c', Buffer.from(s2c[i]!));
  }
  return { store, tap, sent };
}

const expected = [
  { type: 'message', seq: 0, dir: 'c2s', raw: c2s[0]!.trim() },
  { type: 'message', seq: 1, dir: 's2c', raw: s2c[0]!.trim() },
  {
    type: 'message',
    seq: 2,
    dir: 'c2s',
    raw: '{"jsonrpc":"2.0","id":"a","method":"tools/call","params":{"name":"login","arguments":{"api_key":"[REDACTED]"}}}',
  },
  { type: 'event', seq: 3, event: 'non-json', data: { dir: 's2c', text: 'server says hello' } },
  { type: 'message', seq: 4, dir: 'c2s', raw: c2s[2]!.trim() },
  { type: 'event', seq: 5, event: 'non-json', data: { dir: 's2c', text: 'token=[REDACTED] on stdout' } },
  { type: 'message', seq: 6, dir: 's2c', raw: s2c[3]!.trim() },
  { type: 'message', seq: 7, dir: 'c2s', raw: ' 5 ' },
  { type: 'event', seq: 8, event: 'non-json', data: { dir: 's2c', text: '{"broken json' } },
];

describe('RecorderTap', () => {
  it('forwards every byte as it came, and stores each line as a message or a non-json event, redacted', () => {
    const db = join(tempDir(), 'rec.db');
    const { store, tap, sent } = record(db);
    expect(sent).toBe(c2s.map((line, i) => line + (s2c[i] ?? '')).join(''));
    // Before the copy, the spool holds them (readers copy it); after, the db.
    tap.log.copy();
    expect(recordsOf(store, 'S')).toEqual(expected);
    const methods = store.db.prepare(`SELECT seq, method, rpc_id FROM messages ORDER BY seq`).all();
    expect(methods).toEqual([
      { seq: 0, method: 'tools/call', rpc_id: '1' },
      { seq: 1, method: null, rpc_id: '1' },
      { seq: 2, method: 'tools/call', rpc_id: '"a"' },
      { seq: 4, method: 'ping', rpc_id: '2' },
      { seq: 6, method: 'notifications/progress', rpc_id: null },
      { seq: 7, method: null, rpc_id: null },
    ]);
    store.close();
  });

  it('a recorder that dies before its copy: the spool alone gives the same records', () => {
    const db = join(tempDir(), 'dead.db');
    const { store } = record(db);
    const [name] = readdirSync(spoolDir(db));
    const spool = decodeSpool(readFileSync(join(spoolDir(db), name!)));
    store.close(); // without copying: as if killed
    const fresh = openStore(join(tempDir(), 'fresh.db'));
    fresh.insertSession({ id: 'S', startedAt: new Date().toISOString(), transport: 'stdio' });
    fresh.spoolRows('S', spool.rows);
    expect(recordsOf(fresh, 'S')).toEqual(expected);
    fresh.close();
  });
});

describe('RecorderTap on deep JSON', () => {
  it('a line nested 20 000 deep is forwarded, recorded as a message, and its request is answered', () => {
    const store = openStore(join(tempDir(), 'deep.db'));
    store.insertSession({ id: 'S', startedAt: new Date().toISOString(), transport: 'stdio' });
    const tap = new RecorderTap(store, 'S', new Redactor({ enabled: true }));
    let sent = '';
    let t = 0;
    const pump = new Pump({ taps: [tap], clock: () => ++t, write: (_dir, bytes) => (sent += bytes.toString()) });
    const deep = `{"jsonrpc":"2.0","id":1,"result":{"a":${'['.repeat(20_000)}${']'.repeat(20_000)}}}\n`;
    pump.receive('c2s', Buffer.from('{"jsonrpc":"2.0","id":1,"method":"tools/call","params":{"name":"x"}}\n'));
    expect(pump.pendingCount).toBe(1);
    pump.receive('s2c', Buffer.from(deep));
    expect(sent.endsWith(deep)).toBe(true);
    expect(pump.pendingCount).toBe(0);
    tap.log.copy();
    expect(store.db.prepare(`SELECT seq, dir, rpc_id FROM messages ORDER BY seq`).all()).toEqual([
      { seq: 0, dir: 'c2s', rpc_id: '1' },
      { seq: 1, dir: 's2c', rpc_id: '1' },
    ]);
    store.close();
  });
});
