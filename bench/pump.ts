/**
 * The proxy's own JS per message, without processes: the pump with no taps (the baseline), with
 * the recorder, and with the recorder and the gateway (a policy with limits), fed `tools/call`
 * round trips as the SDK writes them, into a real db and spool. Each configuration runs in a
 * fresh process, so each starts cold as a session does; the phases show what V8's warm-up costs
 * (calls 50–350 are what `bench/proxy.ts` measures sequentially with its default warm-up), and
 * the last column the calls in flight that follow them (reads of 50 messages, the last one cut in
 * the middle: code paths a sequential session never takes, so V8 may compile them again there).
 *
 * Unlike `bench/proxy.ts` this has no scheduler in it: it says how many µs of main-thread work a
 * change adds or removes per typical message (medians: the pauses of a collection or of waiting
 * for the compiler are single events that `bench/proxy.ts` shows), not how the machine's 2 cores share that work with V8's
 * compiler threads, the client and the server (see decisions/proxy-startup.md).
 *
 *   npx tsx bench/pump.ts [--calls N (3000); 350 to see calls in flight after bench/proxy.ts's sequential ones]
 */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { setImmediate as tick } from 'node:timers/promises';
import { EnforcerTap } from '../proxy/enforce/enforcerTap.js';
import { PolicyWatcher } from '../proxy/enforce/policyWatcher.js';
import { prepareForTraffic } from '../proxy/prepareForTraffic.js';
import { Pump } from '../proxy/pump.js';
import { RecorderTap } from '../proxy/recorderTap.js';
import { SessionClock } from '../proxy/sessionClock.js';
import type { Tap } from '../proxy/tap.js';
import { Redactor } from '../recorder/redact.js';
import { ulid } from '../recorder/ulid.js';
import { SqliteLimiter } from '../store/sqliteLimiter.js';
import { openStore } from '../store/store.js';
import { writeBenchPolicy } from './_policy.js';

const KINDS = ['bare pump', 'record', 'enforce'] as const;
type Kind = (typeof KINDS)[number];
const PHASES = [50, 350, 1000];
/** After the sequential calls: this many reads of IN_FLIGHT requests each (and of their answers). */
const IN_FLIGHT = 50;
const IN_FLIGHT_BATCHES = 60;

const { values } = parseArgs({ options: { calls: { type: 'string' }, child: { type: 'string' } } });
const CALLS = Math.max(Number(values.calls ?? 3000), 51);
/** Where the sequential calls' phases end (the last one at CALLS). */
const BOUNDS = [0, ...PHASES.filter((p) => p < CALLS), CALLS];

if (values.child) {
  process.stdout.write(JSON.stringify(await run(values.child as Kind)) + '\n');
} else {
  process.stdout.write(`pump bench: ${CALLS} round trips per configuration, each in a fresh process\n`);
  const results = new Map<Kind, number[]>();
  for (const kind of KINDS) {
    const r = spawnSync(
      process.execPath,
      ['--import', 'tsx', import.meta.filename, '--child', kind, '--calls', String(CALLS)],
      { encoding: 'utf8', stdio: ['ignore', 'pipe', 'inherit'] },
    );
    if (r.status !== 0) process.exit(1);
    results.set(kind, JSON.parse(r.stdout) as number[]);
  }
  const heads = [...BOUNDS.slice(1).map((b, i) => `calls ${BOUNDS[i]}–${b}`), `then ${IN_FLIGHT} in flight`];
  process.stdout.write(
    `median µs of main-thread JS per round trip (client → server + server → client), and over the bare pump\n` +
      `${'config'.padEnd(10)}${heads.map((h) => h.padStart(22)).join('')}\n`,
  );
  const base = results.get('bare pump')!;
  for (const kind of KINDS) {
    const us = results.get(kind)!;
    const cells = us.map((u, i) => (kind === 'bare pump' ? u.toFixed(1) : `${u.toFixed(1)} (${signed(u - base[i]!)})`));
    process.stdout.write(`${kind.padEnd(10)}${cells.map((c) => c.padStart(22)).join('')}\n`);
  }
}

function signed(x: number): string {
  return `${x < 0 ? '−' : '+'}${Math.abs(x).toFixed(1)}`;
}

/** Median µs per round trip in each phase, for one configuration. */
async function run(kind: Kind): Promise<number[]> {
  const tmp = mkdtempSync(join(tmpdir(), 'mcp-replay-pump-bench-'));
  const policyFile = writeBenchPolicy(tmp);
  const store = openStore(join(tmp, 'bench.db'));
  const clock = new SessionClock();
  const sessionId = ulid(clock.startedAtMs);
  const taps: Tap[] = [];
  let atomic: ((fn: () => void) => void) | undefined;
  let close = () => {};
  if (kind !== 'bare pump') {
    const redactor = new Redactor({ enabled: true, extraKeys: [] });
    store.insertSession({ id: sessionId, startedAt: clock.startedAt, transport: 'stdio', server: { command: ['x'] } });
    const recorder = new RecorderTap(store, sessionId, redactor);
    taps.push(recorder);
    if (kind === 'enforce') {
      const log = recorder.log;
      const watcher = PolicyWatcher.open(policyFile);
      const limiter = new SqliteLimiter(store, {
        spool: (id, key, t, keepMs) => log.limit(id, key, t, keepMs),
        copy: () => log.copy(),
      });
      taps.push(
        new EnforcerTap({
          policy: () => watcher.policy,
          limiter,
          store,
          audit: (d) => log.decision(d),
          sessionId,
          clock,
          shadow: false,
          denyAs: 'result',
          approvalTimeoutMs: 1000,
          redact: (a) => redactor.value(a),
        }),
      );
      atomic = (fn) => limiter.batch(fn);
      close = () => {
        limiter.close();
        watcher.close();
      };
    }
  }
  let sent: Buffer | undefined;
  const pump = new Pump({
    taps,
    clock: () => clock.micros(),
    atomic,
    write: (dir, bytes) => {
      if (dir === 'c2s') sent = bytes;
    },
    onTapError: (err, where) => process.stderr.write(`${where}: ${(err as Error).message}\n`),
  });
  const line = (o: unknown) => Buffer.from(JSON.stringify(o) + '\n');
  /** What server-everything answers to what was forwarded (outside the timed part). */
  const answer = (): Buffer => {
    const lines = sent!
      .toString()
      .split('\n')
      .filter((l) => l !== '');
    sent = undefined;
    return Buffer.concat(
      lines.map((l) => {
        const m = JSON.parse(l) as { id: number; method: string; params?: { arguments?: unknown } };
        const result =
          m.method === 'initialize'
            ? { protocolVersion: '2025-06-18', capabilities: { tools: {} }, serverInfo: { name: 's', version: '1' } }
            : { content: [{ type: 'text', text: `Echo: ${(m.params?.arguments as { message: string }).message}` }] };
        return line({ result, jsonrpc: '2.0', id: m.id });
      }),
    );
  };
  const init = { protocolVersion: '2025-06-18', capabilities: {}, clientInfo: { name: 'bench', version: '1' } };
  prepareForTraffic();
  pump.receive('c2s', line({ method: 'initialize', params: init, jsonrpc: '2.0', id: 0 }));
  pump.receive('s2c', answer());
  pump.receive('c2s', line({ method: 'notifications/initialized', jsonrpc: '2.0' }));
  const times: number[] = [];
  const call = (i: number) =>
    line({
      method: 'tools/call',
      params: { name: 'echo', arguments: { message: `call ${i}` } },
      jsonrpc: '2.0',
      id: i,
    });
  for (let i = 1; i <= CALLS; i++) {
    const request = call(i);
    const t0 = performance.now();
    pump.receive('c2s', request);
    const t1 = performance.now();
    const reply = answer();
    const t2 = performance.now();
    pump.receive('s2c', reply);
    times.push((t1 - t0 + performance.now() - t2) * 1000);
    await tick(); // the event loop runs between round trips, as in a session (timers: the copy into the db)
  }
  // Then calls in flight, as `bench/proxy.ts` sends them after its sequential ones: a read holds
  // many lines, and may end in the middle of one (its rest comes with the next read).
  for (let i = 0; i < IN_FLIGHT_BATCHES; i++) {
    const requests = Buffer.concat(Array.from({ length: IN_FLIGHT }, (_, k) => call(CALLS + i * IN_FLIGHT + k + 1)));
    const cut = requests.length >> 1;
    const t0 = performance.now();
    pump.receive('c2s', requests.subarray(0, cut));
    pump.receive('c2s', requests.subarray(cut));
    const t1 = performance.now();
    const replies = answer();
    const t2 = performance.now();
    pump.receive('s2c', replies.subarray(0, cut));
    pump.receive('s2c', replies.subarray(cut));
    times.push(((t1 - t0 + performance.now() - t2) * 1000) / IN_FLIGHT);
    await tick();
  }
  close();
  store.close();
  rmSync(tmp, { recursive: true, force: true });
  const bounds = [...BOUNDS, CALLS + IN_FLIGHT_BATCHES];
  return bounds.slice(1).map((end, i) => {
    const part = times.slice(bounds[i], end).sort((a, b) => a - b);
    return part[part.length >> 1]!;
  });
}
