import { spawn } from 'node:child_process';
import { readdirSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { spoolDir } from '../../store/spool.js';
import { openStore } from '../../store/store.js';
import { cli, lineEcho, tempDir } from './helpers.js';

/**
 * Starts `record` in front of a fast server, fires a burst of requests, and kills the recorder
 * with SIGKILL once the client has read `killAfter` responses. Returns every line the client
 * read before its stdout closed, and the requests it wrote.
 */
function burstAndKill(db: string, killAfter: number, burst: number): Promise<{ received: string[] }> {
  const proc = spawn(process.execPath, [cli, 'record', '--db', db, '--', process.execPath, lineEcho], {
    stdio: ['pipe', 'pipe', 'ignore'],
  });
  const received: string[] = [];
  let rest = '';
  proc.stdin.on('error', () => {});
  proc.stdout.on('data', (chunk: Buffer) => {
    const text = rest + chunk.toString('utf8');
    const lines = text.split('\n');
    rest = lines.pop()!;
    for (const l of lines) {
      received.push(l);
      if (received.length === killAfter) proc.kill('SIGKILL');
    }
  });
  const request = (id: number) =>
    JSON.stringify({ jsonrpc: '2.0', id, method: 'tools/call', params: { name: 'echo', arguments: { n: id } } }) + '\n';
  proc.stdin.write(
    JSON.stringify({
      jsonrpc: '2.0',
      id: 0,
      method: 'initialize',
      params: { protocolVersion: '2025-06-18', capabilities: {}, clientInfo: { name: 'burst', version: '1' } },
    }) + '\n',
  );
  // The burst: requests in small groups, as an agent fanning out calls would send them.
  let next = 1;
  const pump = () => {
    if (proc.exitCode !== null || proc.signalCode !== null || next > burst) return;
    let group = '';
    for (let i = 0; i < 1 + (next % 7) && next <= burst; i++) group += request(next++);
    proc.stdin.write(group);
    setImmediate(pump);
  };
  pump();
  return new Promise((resolve) => proc.on('close', () => resolve({ received })));
}

describe('record under kill -9', () => {
  it('every message the client received before the kill is in the db', async () => {
    const seed = Date.now();
    let state = seed;
    const random = () => (state = (state * 1103515245 + 12345) % 2 ** 31) / 2 ** 31;
    const dir = tempDir();
    const runs = Array.from({ length: 4 }, (_, i) => ({
      db: join(dir, `kill-${i}.db`),
      killAfter: 1 + Math.floor(random() * 250),
    }));
    const results = [];
    for (let i = 0; i < runs.length; i += 2) {
      results.push(...(await Promise.all(runs.slice(i, i + 2).map((r) => burstAndKill(r.db, r.killAfter, 300)))));
    }
    for (const [i, { received }] of results.entries()) {
      const where = `seed ${seed}, run ${i}, killed after ${runs[i]!.killAfter} responses`;
      expect(received.length, where).toBeGreaterThanOrEqual(Math.min(runs[i]!.killAfter, 1));
      const store = openStore(runs[i]!.db, { mustExist: true });
      try {
        const [session] = store.allSessions();
        const stored = new Set<string>();
        const requests = new Set<string>();
        for (const r of store.records(session!.id)) {
          if (r.type !== 'message') continue;
          if (r.dir === 's2c') stored.add(r.raw);
          else requests.add(String((JSON.parse(r.raw) as { id: number }).id));
        }
        const missing = received.filter((line) => !stored.has(line));
        expect(missing, where).toEqual([]);
        // And the request each of those responses answered.
        for (const line of received)
          expect(requests.has(String((JSON.parse(line) as { id: number }).id)), where).toBe(true);
        // What the dead recorder's spool held is in the db now: the spool is gone.
        expect(readdirSync(spoolDir(runs[i]!.db)), where).toEqual([]);
      } finally {
        store.close();
      }
    }
  });
});
