import { spawn } from 'node:child_process';
import { createInterface } from 'node:readline';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { closed, denyByDefault, enforceArgs, recordArgs, root, tempDir } from './helpers.js';

const chatty = join(root, 'test/fixtures/servers/chatty.mjs');

describe('a host that closes our stderr (its log panel gone)', () => {
  it.each(['record', 'enforce'])(
    '%s goes on: every request answered and recorded, the server its stderr recorded, exit 0',
    async (command) => {
      const dir = tempDir();
      const db = join(dir, 'rec.db');
      const args = command === 'record' ? recordArgs(db, [chatty]) : enforceArgs(denyByDefault(dir, {}), db, [chatty]);
      const proc = spawn(process.execPath, args, { stdio: ['pipe', 'pipe', 'pipe'] });
      // Closed once the proxy wrote its first line: later writes to it fail (EPIPE).
      await new Promise((r) => proc.stderr.once('data', r));
      proc.stderr.destroy();
      const answers = createInterface({ input: proc.stdout })[Symbol.asyncIterator]();
      for (let id = 1; id <= 3; id++) {
        proc.stdin.write(`{"jsonrpc":"2.0","id":${id},"method":"ping"}\n`);
        const next = await answers.next();
        expect(next.done).toBe(false);
        expect(JSON.parse(next.value as string)).toEqual({ jsonrpc: '2.0', id, result: {} });
      }
      proc.stdin.end();
      const [code, signal] = await new Promise<[number | null, string | null]>((r) =>
        proc.on('exit', (c, s) => r([c, s])),
      );
      expect({ code, signal }).toEqual({ code: 0, signal: null });
      const rec = await closed(db);
      expect(rec.s2c).toHaveLength(3);
      const logged = rec.records
        .filter((r) => r.type === 'event' && r.event === 'stderr')
        .map((r) => (r as { data: unknown }).data)
        .join('');
      expect(logged.match(/^chatty: request 3 line 999 /m)).not.toBeNull();
    },
    30_000,
  );
});
