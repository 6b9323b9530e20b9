// One gateway-like process for limiterProcesses.test.ts. Says "ready"; then for each line
// "go OFFSET [inside|before]" on stdin decides CALLS calls of tool `t` at Date.now() + OFFSET
// (each call its own transaction) and prints one line
// {"allowed":[times],"throttled":n}. The db is opened at the first "go", so on a fresh db every
// worker races to create and migrate it. Runs the built package (dist/), as the CLI would.
import { createInterface } from 'node:readline';
import { setImmediate as yieldNow } from 'node:timers/promises';
import { compilePolicy, decide } from '../../dist/engine/index.js';
import { openStore, SqliteLimiter } from '../../dist/store/index.js';

const [db, policyText, callsText] = process.argv.slice(2);
const compiled = compilePolicy(policyText);
if (!compiled.ok) throw new Error(JSON.stringify(compiled.errors));
const call = { tool: 't', args: {}, session: `s${process.pid}`, grant: 'g' };
let store;
let limiter;

process.stdout.write('ready\n');
for await (const line of createInterface({ input: process.stdin })) {
  const [command, offsetText, timing = 'inside'] = line.split(' ');
  if (command !== 'go') break;
  store ??= openStore(db);
  limiter ??= new SqliteLimiter(store);
  const offset = Number(offsetText);
  const allowed = [];
  let throttled = 0;
  for (let i = 0; i < Number(callsText); i++) {
    // "inside": the time is taken under the write lock (commits in time order); "before": taken
    // first, as a gateway stamping the recorded message does (commits may come out of time order).
    let now = timing === 'before' ? Date.now() + offset : 0;
    const verdict = limiter.atomically(() =>
      decide(compiled.policy, limiter, call, timing === 'before' ? now : (now = Date.now() + offset)),
    );
    if (verdict.decision === 'allow') allowed.push(now);
    else if (verdict.decision === 'throttle') throttled++;
    else throw new Error(`unexpected ${verdict.decision}`);
    if (i % 2 === 1) await yieldNow();
  }
  process.stdout.write(JSON.stringify({ allowed, throttled }) + '\n');
}
store?.close();
