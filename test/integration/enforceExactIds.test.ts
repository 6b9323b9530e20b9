import { spawn } from 'node:child_process';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { loadPolicy } from '../../cli/common.js';
import { dryRun, resolveSources, timeline } from '../../replayer/index.js';
import { openStore } from '../../store/store.js';
import { cli, denyByDefault, everything, recorded, tempDir } from './helpers.js';

// Ids JSON.parse does not read exactly: 2^53 + 1 reads 2^53, a long decimal reads its nearest
// double, 1.10 reads 1.1. A client keeping exact numbers (Python's json, Go's UseNumber) matches
// an answer by the id it wrote, so the gateway's own answers must carry that text.
const BIG = '9007199254740993';
const LONG = '123456789012345678901234567890';

/**
 * A raw client (no SDK: it would parse the ids) on the proxy's stdin and stdout: writes `lines`,
 * reads lines until it has replies with each of `ids` (id tokens), then closes stdin and waits
 * for the proxy to exit. The replies to those ids, in the order they came.
 */
async function rawSession(args: string[], lines: string[], ids: string[]): Promise<string[]> {
  const proc = spawn(process.execPath, [cli, ...args], { stdio: ['pipe', 'pipe', 'ignore'] });
  const got: string[] = [];
  const replies = () => got.filter((l) => ids.some((id) => head(l)?.startsWith(`${id} `)));
  let rest = '';
  await new Promise<void>((resolve, reject) => {
    // A reply whose id the client cannot match never comes: fail then, not at the test's timeout.
    const timer = setTimeout(() => {
      proc.kill();
      reject(new Error(`no reply to each of ${ids.join(', ')} within 15 s; got:\n${got.join('\n')}`));
    }, 15_000);
    proc.on('close', () => reject(new Error(`the proxy exited after ${got.length} lines: ${got.join('\n')}`)));
    proc.stdout.on('data', (c: Buffer) => {
      const parts = (rest + c.toString()).split('\n');
      rest = parts.pop()!;
      got.push(...parts);
      if (replies().length < ids.length) return;
      clearTimeout(timer);
      resolve();
    });
    proc.stdin.write(lines.map((l) => l + '\n').join(''));
  });
  proc.stdin.end();
  if (proc.exitCode === null) await new Promise((r) => proc.on('close', r));
  return replies();
}

const call = (id: string, name: string, args: object = {}) =>
  `{"jsonrpc":"2.0","id":${id},"method":"tools/call","params":${JSON.stringify({ name, arguments: args })}}`;
/**
 * A reply's id token and kind (`result`, `error`): as the gateway writes its own answers; a
 * server's answer (any key order) by its parsed id, which is then a safe integer.
 */
function head(line: string): string | undefined {
  const ours = /^\{"jsonrpc":"2\.0","id":([^,]*),"(result|error)"/.exec(line);
  if (ours) return `${ours[1]} ${ours[2]}`;
  const m = JSON.parse(line) as { id?: unknown; result?: unknown };
  return Number.isSafeInteger(m.id) ? `${String(m.id)} ${'result' in m ? 'result' : 'error'}` : undefined;
}

describe('enforce answers a request with its id exactly as the client wrote it', () => {
  it('in front of server-everything: denials and rejections; recorded as written, replayed as decided', async () => {
    const dir = tempDir();
    const db = join(dir, 'gw.db');
    const policy = denyByDefault(dir, {
      'get-env': { action: 'deny', reason: 'secrets' },
      'get-sum': { limits: [{ window: 'minute', max: 1 }] },
    });
    const init = JSON.stringify({
      jsonrpc: '2.0',
      id: 0,
      method: 'initialize',
      params: { protocolVersion: '2025-06-18', capabilities: {}, clientInfo: { name: 'raw', version: '1' } },
    });
    const replies = await rawSession(
      ['enforce', '--policy', policy, '--db', db, '--', process.execPath, ...everything],
      [
        init,
        '{"jsonrpc":"2.0","method":"notifications/initialized"}',
        call(BIG, 'get-env'), // denied by its rule
        call(LONG, 'get-tiny-image'), // default deny
        `{"jsonrpc":"2.0","id":1.10,"method":"tools/call","params":{"arguments":{}}}`, // no name
        call('7', 'get-sum', { a: 1, b: 2 }),
        call('18014398509481985', 'get-sum', { a: 1, b: 2 }), // throttled: once a minute
      ],
      [BIG, LONG, '1.10', '7', '18014398509481985'],
    );
    expect(replies.map(head).sort()).toEqual(
      [`${BIG} result`, `${LONG} result`, '1.10 error', '7 result', '18014398509481985 result'].sort(),
    );
    expect(replies.find((l) => l.includes(`"id":${BIG},`))).toMatch(/Denied by policy: secrets/);
    expect(replies.find((l) => l.includes(`"id":${LONG},`))).toMatch(/Denied by policy: no rule/);
    expect(replies.find((l) => l.includes('"id":18014398509481985,'))).toMatch(/Rate limited/);

    // The db keeps the answers as the client received them; replay decides what was decided live.
    const rec = recorded(db);
    const stored = rec.records.flatMap((r) => (r.type === 'message' && r.dir === 's2c' ? [r.raw] : []));
    expect(stored.filter((raw) => raw.includes(`"id":${BIG},`))).toHaveLength(1);
    expect(stored.filter((raw) => raw.includes(`"id":${LONG},`))).toHaveLength(1);
    const store = openStore(db, { mustExist: true });
    try {
      const live = store.sessionDecisions(rec.info.id).map((d) => `${d.rpcId} ${d.decision} ${d.rule}`);
      expect(live).toEqual([
        '9007199254740992 deny tools.get-env',
        '1.2345678901234568e+29 deny default',
        '7 allow tools.get-sum',
        '18014398509481984 throttle tools.get-sum.limits[0]',
      ]);
      const replayed = [...dryRun(loadPolicy(policy), timeline(resolveSources([], () => store)))].map(
        ({ call, verdict }) => `${JSON.stringify(call.id)} ${verdict.decision} ${verdict.rule}`,
      );
      expect(replayed).toEqual(live);
    } finally {
      store.close();
    }
  });

  // A server that reads one line, then dies without answering.
  const dying = [process.execPath, '-e', "process.stdin.once('data', () => setTimeout(() => process.exit(3), 300))"];

  for (const mode of ['enforce', 'record'] as const) {
    it(`${mode}: the requests a dead server owed get its error with their ids as written, two one double too`, async () => {
      const dir = tempDir();
      const args =
        mode === 'enforce'
          ? ['enforce', '--policy', denyByDefault(dir, { x: {} }), '--db', join(dir, 'gw.db')]
          : ['record', '--db', join(dir, 'rec.db')];
      const other = '9007199254740992'; // reads as the same double as BIG: not in flight at once in enforce
      const lines = [call(BIG, 'x'), `{"jsonrpc":"2.0","id":${LONG},"method":"ping"}`];
      if (mode === 'record') lines.push(`{"jsonrpc":"2.0","id":${other},"method":"ping"}`);
      const ids = [BIG, LONG, ...(mode === 'record' ? [other] : [])];
      const replies = await rawSession([...args, '--', ...dying], [lines.join('\n')], ids);
      expect(replies.map(head).sort()).toEqual(ids.map((id) => `${id} error`).sort());
      expect(replies[0]).toMatch(/"code":-32000,"message":"MCP server exited with code 3 before answering/);
    });
  }
});
