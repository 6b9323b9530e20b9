import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { argsAt } from '../../cli/commands/diff.js';
import { dbSource, jsonlSource } from '../../replayer/index.js';
import { openStore } from '../../store/store.js';

const fixture = join(import.meta.dirname, '../../fixtures/sessions/seed-15-calls.jsonl');

describe('argsAt (the diff view re-reading an unchanged call)', () => {
  it('finds a call by session and seq in a JSONL file and, directly, in the db', () => {
    const file = jsonlSource(fixture);
    const want = {
      agentRuntimeArn: 'arn:aws:bedrock-agentcore:us-east-1:123456789012:runtime/demo',
      payload: 'task 1',
    };
    expect(argsAt([file], 'seed-15-calls', 3)).toEqual(want);
    expect(argsAt([file], 'seed-15-calls', 1)).toBeUndefined(); // a response, not a call
    expect(argsAt([file], 'other', 3)).toBeUndefined();

    const store = openStore(join(mkdtempSync(join(tmpdir(), 'mcp-replay-test-')), 'r.db'));
    try {
      store.insertSession(file.info);
      for (const r of file.records())
        if (r.type === 'message') store.appendMessage(file.info.id, r.seq, r.t, r.dir, r.raw, null, null);
      const db = dbSource(store, file.info.id);
      expect(db.messageAt).toBeDefined();
      expect(argsAt([file, db].slice(1), 'seed-15-calls', 3)).toEqual(want);
      expect(argsAt([db], 'seed-15-calls', 9999)).toBeUndefined();
    } finally {
      store.close();
    }
  });
});
