import {
  chmodSync,
  closeSync,
  existsSync,
  openSync,
  readFileSync,
  rmSync,
  statSync,
  writeFileSync,
  writeSync,
} from 'node:fs';
import { dirname, join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { spawn, spawnSync } from 'node:child_process';
import type { Command } from 'commander';
import { buildProgram } from '../../cli/program.js';
import { CLI, oneCallSession, ROOT, runCli, tempDir, tempFile } from './runCli.js';

const SEED = 'fixtures/policies/seed.json';
const SESSION = 'fixtures/sessions/seed-15-calls.jsonl';

/** The seed session under another id (a session of its own). */
const sessionAs = (id: string) =>
  readFileSync(join(ROOT, SESSION), 'utf8').replace('"id":"seed-15-calls"', JSON.stringify({ id }).slice(1, -1));

/** One line on stderr, no stack trace, exit 2. */
function expectBadInput(r: { code: number | null; stderr: string }, pattern: RegExp): void {
  expect(r.code).toBe(2);
  const lines = r.stderr.trimEnd().split('\n');
  expect(lines).toHaveLength(1);
  expect(lines[0]).toMatch(pattern);
  expect(r.stderr).not.toMatch(/\n\s+at /);
}

describe('mcp-replay CLI (built)', () => {
  it('replay shows the controls and invisible characters of recorded text as escapes in its tables; --json keeps them', () => {
    const tool = 'delete_\u001b[31mred\u001b[0m\u202e\r\nx';
    const file = oneCallSession(tool);
    const r = runCli(['replay', '--policy', SEED, file]);
    expect(r.code).toBe(0);
    for (const ch of ['\u001b', '\u202e', '\r']) expect(r.stdout).not.toContain(ch);
    // In the call's row (its tool, the reason naming it) and the summary's.
    expect(r.stdout.split('delete_\\u001b[31mred\\u001b[0m\\u202e\\u000d\\u000ax')).toHaveLength(4);
    const json = runCli(['replay', '--json', '--policy', SEED, file]);
    expect(JSON.parse(json.stdout.split('\n')[0]!).tool).toBe(tool);
  });

  it('replays the seed fixture as JSON Lines per SPEC §5', () => {
    const r = runCli(['replay', '--policy', SEED, '--json', SESSION]);
    expect(r.code).toBe(0);
    const lines = r.stdout
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l) as Record<string, unknown>);
    expect(lines).toHaveLength(16);
    expect(lines[0]).toMatchObject({
      type: 'decision',
      session: 'seed-15-calls',
      seq: 3,
      t: 2000,
      tool: 'invoke_agent_runtime',
      decision: 'allow',
      rule: 'tools.invoke_agent_runtime',
    });
    expect(lines[11]).toMatchObject({
      decision: 'throttle',
      rule: 'tools.invoke_agent_runtime.limits[0]',
      retryAfterMs: 30002,
    });
    expect(lines[15]).toEqual({
      type: 'summary',
      calls: 15,
      allow: 12,
      deny: 1,
      throttle: 2,
      approval: 0,
      byTool: {
        invoke_agent_runtime: { calls: 14, allow: 12, deny: 0, throttle: 2, approval: 0 },
        list_buckets: { calls: 1, allow: 0, deny: 1, throttle: 0, approval: 0 },
      },
      policy: expect.stringMatching(/^[0-9a-f]{64}$/),
      unusedRules: [],
    });
  });

  it('replay -q prints only the summary: with --json its one summary line', () => {
    const json = runCli(['replay', '-q', '--json', '--policy', SEED, SESSION]);
    expect(json.code, json.stderr).toBe(0);
    const lines = json.stdout.trimEnd().split('\n');
    expect(lines).toHaveLength(1);
    expect(JSON.parse(lines[0]!)).toMatchObject({ type: 'summary', calls: 15, allow: 12, deny: 1, throttle: 2 });
    const human = runCli(['replay', '-q', '--policy', SEED, SESSION]);
    expect(human.stdout.split('\n')[0]).toBe('15 calls in 1 session: 12 allow, 1 deny, 2 throttle, 0 approval');
  });

  it('sessions import of a file that is not there says so in words (and where stdin is, for `-`)', () => {
    expectBadInput(
      runCli(['sessions', 'import', '/nonexistent/s.jsonl']),
      /^mcp-replay: \/nonexistent\/s\.jsonl: cannot read: no such file$/,
    );
    expectBadInput(
      runCli(['sessions', 'import', '-'], {}, ''),
      /^mcp-replay: -: cannot read: no such file \(stdin is \/dev\/stdin\)$/,
    );
    // replay, diff and simulate --from said 'unknown session -' (see 'mcp-replay sessions list').
    const stdin = /^mcp-replay: -: no such session or file \(stdin is \/dev\/stdin\)$/;
    expectBadInput(runCli(['replay', '--policy', SEED, '-'], {}, ''), stdin);
    expectBadInput(runCli(['diff', '--policy', SEED, '--policy', SEED, '-'], {}, ''), stdin);
    expectBadInput(runCli(['simulate', '--policy', SEED, '--from', '-'], {}, ''), stdin);
    // A session named `-` is still that session.
    const db = join(tempDir(), 'x.db');
    runCli([
      'sessions',
      'import',
      '--db',
      db,
      tempFile('-.jsonl', readFileSync(join(ROOT, SESSION), 'utf8').split('\n').slice(1).join('\n')),
    ]);
    expect(runCli(['replay', '-q', '--json', '--db', db, '--policy', SEED, '-']).code).toBe(0);
  });

  it('sessions rm --json says what it removed as a JSON line (SPEC §1: --json switches human output)', () => {
    const db = join(tempDir(), 'x.db');
    runCli(['sessions', 'import', '--db', db, SESSION]);
    const r = runCli(['sessions', 'rm', '--json', '--db', db, 'seed']);
    expect(r.code, r.stderr).toBe(0);
    expect(JSON.parse(r.stdout)).toEqual({ type: 'removed', id: 'seed-15-calls' });
    expect(runCli(['sessions', 'list', '--json', '--db', db]).stdout).toBe('');
  });

  it('a JSONL file that starts with a byte order mark replays and imports like one without', () => {
    const bom = tempFile('bom.jsonl', '\uFEFF' + readFileSync(join(ROOT, SESSION), 'utf8'));
    const r = runCli(['replay', '-q', '--json', '--policy', SEED, bom]);
    expect(r.code, r.stderr).toBe(0);
    expect(JSON.parse(r.stdout)).toMatchObject({ calls: 15, allow: 12 });
    const db = join(tempDir(), 'x.db');
    expect(runCli(['sessions', 'import', '--db', db, bom]).code).toBe(0);
    expect(runCli(['sessions', 'export', '--db', db, 'seed-15-calls']).stdout).toBe(
      readFileSync(join(ROOT, SESSION), 'utf8'),
    );
  });

  it('a JSONL file that is not UTF-8 is bad input naming its line and column (it replayed and imported U+FFFD)', () => {
    const lines = readFileSync(join(ROOT, SESSION), 'utf8').split('\n');
    // A Latin-1 é in the name of the first call's tool (Latin-1 bytes: that is one byte).
    const n = lines.findIndex((l) => l.includes('"tools/call"'));
    const at = lines[n]!.indexOf('"name":"') + '"name":"'.length + 3;
    const bytes = Buffer.from(lines.join('\n'), 'latin1');
    bytes[lines.slice(0, n).join('\n').length + 1 + at] = 0xe9;
    const file = tempFile('latin1.jsonl', '');
    writeFileSync(file, bytes);
    const bad = new RegExp(
      `^mcp-replay: ${file}:${n + 1}:${at + 1}: not UTF-8 text \\(byte 0xE9\\); save the file as UTF-8$`,
    );
    expectBadInput(runCli(['replay', '--policy', SEED, file]), bad);
    const db = join(tempDir(), 'x.db');
    expectBadInput(runCli(['sessions', 'import', '--db', db, file]), bad);
    expect(existsSync(db) ? runCli(['sessions', 'list', '--json', '--db', db]).stdout : '').toBe('');
  });

  it('sessions export -o into a folder that is not there names the folder', () => {
    const db = join(tempDir(), 'x.db');
    runCli(['sessions', 'import', '--db', db, SESSION]);
    const out = join(tempDir(), 'missing', 's.jsonl');
    expectBadInput(
      runCli(['sessions', 'export', '--db', db, 'seed', '-o', out]),
      new RegExp(`^mcp-replay: ${out}: cannot write: no such folder ${dirname(out)}$`),
    );
  });

  it('an empty -o / --out (an unset shell variable) is bad usage, not stdout or a bare ENOENT after the run', () => {
    const db = join(tempDir(), 'x.db');
    runCli(['sessions', 'import', '--db', db, SESSION]);
    expectBadInput(
      runCli(['sessions', 'export', '--db', db, 'seed', '-o', '']),
      /^mcp-replay: option '-o, --output <file>' argument '' is invalid\. expects a file path \(leave -o out for stdout\)/,
    );
    const sim = runCli(['simulate', '--policy', SEED, '--runs', '5', '--seed', '1', '--out', '']);
    expectBadInput(sim, /^mcp-replay: option '--out <file>' argument '' is invalid\. expects a file path/);
    expect(sim.stdout).toBe('');
  });

  it('sessions export -o onto a folder says it is a folder (it said EISDIR)', () => {
    const db = join(tempDir(), 'x.db');
    runCli(['sessions', 'import', '--db', db, SESSION]);
    const dir = tempDir();
    expectBadInput(
      runCli(['sessions', 'export', '--db', db, 'seed', '-o', dir]),
      new RegExp(`^mcp-replay: ${dir}: cannot write: is a directory$`),
    );
  });

  it('sessions export -o onto the db itself (or its -wal) is refused: it truncated every recording', () => {
    const db = join(tempDir(), 'x.db');
    runCli(['sessions', 'import', '--db', db, SESSION]);
    const size = statSync(db).size;
    for (const out of [db, `${db}-wal`]) {
      if (out !== db) writeFileSync(out, '');
      expectBadInput(
        runCli(['sessions', 'export', '--db', db, 'seed', '-o', out]),
        new RegExp(`^mcp-replay: ${out}: cannot write: it is the database ${db} \\(--db\\)$`),
      );
    }
    expect(statSync(db).size).toBe(size);
    expect(runCli(['sessions', 'export', '--db', db, 'seed']).stdout).toBe(readFileSync(join(ROOT, SESSION), 'utf8'));
    // The default db too, named by MCP_REPLAY_DB rather than --db.
    expectBadInput(
      runCli(['sessions', 'export', 'seed', '-o', db], { MCP_REPLAY_DB: db }),
      /: cannot write: it is the database /,
    );
  });

  it('a folder given as a policy file says it is a folder', () => {
    const dir = tempDir();
    expectBadInput(runCli(['policy', 'check', dir]), new RegExp(`^mcp-replay: ${dir}: cannot read: is a directory$`));
    expectBadInput(runCli(['replay', '--policy', dir, SESSION]), /cannot read: is a directory$/);
  });

  it('replay and diff refuse an empty --grant, as enforce does (it would silently fall back to the recorded names)', () => {
    const empty = /^mcp-replay: option '--grant <id>' argument '' is invalid\. expects a non-empty id/;
    expectBadInput(runCli(['replay', '--grant', '', '--policy', SEED, SESSION]), empty);
    expectBadInput(runCli(['diff', '--grant', '', '--policy', SEED, '--policy', SEED, SESSION]), empty);
  });

  it('diff --allow-transition without --fail-on-change is bad usage (a CI step that can never fail)', () => {
    expectBadInput(
      runCli([
        'diff',
        '--policy',
        SEED,
        '--policy',
        'fixtures/policies/strict.json',
        '--allow-transition',
        'allow->throttle',
        SESSION,
      ]),
      /^mcp-replay: --allow-transition only says which changes --fail-on-change lets pass; add --fail-on-change$/,
    );
  });

  it('lists unused rules', () => {
    const policy = tempFile(
      'p.json',
      JSON.stringify({
        version: '1',
        default: 'allow',
        tools: { 'invoke_*': {}, invoke_agent_runtime: {}, never_called: {} },
      }),
    );
    const r = runCli(['replay', '--policy', policy, '--json', SESSION]);
    const summary = JSON.parse(r.stdout.trim().split('\n').pop()!) as { unusedRules: string[] };
    expect(summary.unusedRules).toEqual(['tools.invoke_*', 'tools.never_called']);
  });

  it('imports, lists, replays from and exports the db; export → import → export is identical', () => {
    const db = join(tempDir(), 'x.db');
    expect(runCli(['sessions', 'import', SESSION, '--db', db]).code).toBe(0);
    const list = runCli(['sessions', 'list', '--db', db, '--json']);
    expect(JSON.parse(list.stdout)).toMatchObject({ id: 'seed-15-calls', messages: 33, calls: 15 });
    const fromDb = runCli(['replay', '--policy', SEED, '--db', db, '--json']);
    const fromFile = runCli(['replay', '--policy', SEED, '--json', SESSION]);
    expect(fromDb.stdout).toBe(fromFile.stdout);
    // Two db sessions merge into one timeline (each read by a statement of its own).
    const copy = readFileSync(join(ROOT, SESSION), 'utf8').replace('"id":"seed-15-calls"', '"id":"copy-of-seed"');
    expect(runCli(['sessions', 'import', tempFile('copy.jsonl', copy), '--db', db]).code).toBe(0);
    const both = runCli(['replay', '--policy', SEED, '--db', db]);
    expect(both.code).toBe(0);
    expect(both.stdout).toMatch(/30 calls in 2 sessions: 14 allow, 2 deny, 14 throttle, 0 approval/);
    const exported = runCli(['sessions', 'export', 'seed-15', '--db', db]);
    expect(exported.stdout).toBe(readFileSync(join(import.meta.dirname, '../..', SESSION), 'utf8'));
    const db2 = join(tempDir(), 'y.db');
    const file = tempFile('again.jsonl', exported.stdout);
    const imported = runCli(['sessions', 'import', file, '--db', db2, '--json']);
    expect(imported.code).toBe(0);
    expect(JSON.parse(imported.stdout)).toEqual({ type: 'imported', id: 'seed-15-calls', messages: 33, events: 1 });
    expect(runCli(['sessions', 'export', 'seed-15-calls', '--db', db2]).stdout).toBe(exported.stdout);
    expectBadInput(
      runCli(['sessions', 'import', SESSION, '--db', db]),
      /session seed-15-calls already exists in (.*\.db) \(to import it again, first: mcp-replay sessions rm --db \1 seed-15-calls\)$/,
    );
  });

  it('exits 2 with one line for a typo in the policy', () => {
    const policy = tempFile('typo.json', '{\n  "version": "1",\n  "defualt": "deny"\n}\n');
    expectBadInput(
      runCli(['replay', '--policy', policy, SESSION]),
      /typo\.json:\d+:\d+: (defualt: unknown field|default: )/,
    );
    const check = runCli(['policy', 'check', policy]);
    expect(check.code).toBe(2);
    expect(check.stderr).toMatch(/typo\.json:3:3: defualt: unknown field/);
    expect(check.stderr).toMatch(/typo\.json:1:1: default: required \(expected "allow"\|"deny"\)/);
  });

  it('exits 2 for a bad window, a negative max and invalid JSON', () => {
    const bad = (limit: object) =>
      tempFile('p.json', JSON.stringify({ version: '1', default: 'deny', tools: { t: { limits: [limit] } } }, null, 2));
    expectBadInput(
      runCli(['policy', 'check', bad({ window: 'soon', max: 1 })]),
      /p\.json:\d+:\d+: tools\.t\.limits\[0\]\.window: expected/,
    );
    expectBadInput(
      runCli(['policy', 'check', bad({ window: 'minute', max: -3 })]),
      /tools\.t\.limits\[0\]\.max: expected an integer ≥ 0/,
    );
    expectBadInput(runCli(['policy', 'check', tempFile('p.json', '{"version": "1",')]), /p\.json:1:17: invalid JSON/);
    expectBadInput(
      runCli(['policy', 'check', '/nonexistent/p.json']),
      /\/nonexistent\/p\.json: cannot read: no such file/,
    );
  });

  it('exits 2 for a policy that is not UTF-8 (Latin-1, UTF-16), naming where, the same in every command', () => {
    // Read leniently, é in Latin-1 became U+FFFD: a deny rule for a tool key no server lists.
    const latin1 = Buffer.concat([
      Buffer.from('{"version":"1","default":"allow","tools":{\n"caf'),
      Buffer.from([0xe9]),
      Buffer.from('_*":{"action":"deny"}}}'),
    ]);
    const file = tempFile('p.json', '');
    writeFileSync(file, latin1);
    const message = /p\.json:2:5: not UTF-8 text \(byte 0xE9\); save the file as UTF-8$/;
    expectBadInput(runCli(['policy', 'check', file]), message);
    expectBadInput(runCli(['replay', '--policy', file, SESSION]), message);
    expectBadInput(runCli(['enforce', '--policy', file, '--no-record', '--', process.execPath, '-e', '']), message);
    const utf16 = tempFile('u.json', '');
    writeFileSync(utf16, Buffer.concat([Buffer.from([0xff, 0xfe]), Buffer.from('{"version":"1"}', 'utf16le')]));
    expectBadInput(
      runCli(['policy', 'check', utf16]),
      /u\.json:1:1: not UTF-8 text \(UTF-16, by its byte order mark\); save the file as UTF-8$/,
    );
  });

  it('exits 2 for a JSONL line that is not JSON, or not a record', () => {
    const lines = readFileSync(join(import.meta.dirname, '../..', SESSION), 'utf8').split('\n');
    lines.splice(4, 0, '{"type":"message","seq":');
    expectBadInput(
      runCli(['replay', '--policy', SEED, tempFile('s.jsonl', lines.join('\n'))]),
      /s\.jsonl:5: not valid JSON/,
    );
    const wrongDir = tempFile('d.jsonl', '{"type":"message","seq":0,"t":0,"dir":"up","msg":{}}\n');
    expectBadInput(runCli(['replay', '--policy', SEED, wrongDir]), /d\.jsonl:1: dir: expected "c2s"\|"s2c"/);
    expectBadInput(runCli(['sessions', 'import', wrongDir]), /d\.jsonl:1: dir: expected/);
    // Out of order: replay and import both say where.
    const twice = tempFile(
      'o.jsonl',
      '{"type":"message","seq":0,"t":0,"dir":"c2s","msg":{}}\n{"type":"message","seq":0,"t":5,"dir":"s2c","msg":{}}\n',
    );
    for (const args of [
      ['replay', '--policy', SEED, twice],
      ['sessions', 'import', twice, '--db', join(tempDir(), 'o.db')],
    ])
      expectBadInput(runCli(args), /o\.jsonl:2: seq: 0 is not greater than the previous seq 0$/);
  });

  it('exits 2 for an unknown session id and for bad usage', () => {
    const db = join(tempDir(), 'x.db');
    runCli(['sessions', 'import', SESSION, '--db', db]);
    expectBadInput(runCli(['replay', '--policy', SEED, '--db', db, 'nope']), /unknown session nope/);
    expectBadInput(runCli(['sessions', 'export', 'nope', '--db', db]), /unknown session nope/);
    // Bad usage is one line too, with where to read more.
    expectBadInput(
      runCli(['replay', SESSION]),
      /^mcp-replay: required option '--policy <file>' not specified \(add --help for usage\)$/,
    );
    expectBadInput(runCli(['frobnicate']), /^mcp-replay: unknown command 'frobnicate'/);
    // The same session twice would replay each call twice against a budget it shares with itself.
    expectBadInput(runCli(['replay', '--policy', SEED, SESSION, SESSION]), /session seed-15-calls is given twice/);
    // Longer than a timer can wait: it would deny at once, unasked.
    expectBadInput(
      runCli(['enforce', '--policy', SEED, '--approval-timeout', '3000000', '--', 'true']),
      /--approval-timeout <s>' argument '3000000' is invalid\. expects at most 2147483\.647 s/,
    );
    expectBadInput(
      runCli(['enforce', '--policy', SEED, '--approval-timeout', '0.0001', '--', 'true']),
      /expects seconds \(at least 0\.001\)/,
    );
    expectBadInput(runCli(['simulate', '--runs', '5']), /^mcp-replay: required option '--policy <file>' not specified/);
    expectBadInput(
      runCli(['replay', '--policy', SEED, '--policy', SEED, SESSION]),
      /replay takes one policy; diff compares two/,
    );
    expectBadInput(runCli(['sessions', 'show', '--bogus']), /^mcp-replay: unknown option '--bogus'/);
    expectBadInput(
      runCli(['enforce', '--policy', SEED, '--grant', '', '--', 'true']),
      /^mcp-replay: option '--grant <id>' argument '' is invalid\. expects a non-empty id \(add --help for usage\)$/,
    );
  });

  it('record and enforce without a server command say how to give one', () => {
    expectBadInput(
      runCli(['record']),
      /^mcp-replay: record: missing the server command \(mcp-replay record -- CMD \[ARGS\.\.\.\]\)$/,
    );
    expectBadInput(runCli(['record', '--name', 'x', '--']), /record: missing the server command/);
    expectBadInput(
      runCli(['enforce', '--policy', SEED]),
      /^mcp-replay: enforce: missing the server command \(mcp-replay enforce --policy FILE -- CMD/,
    );
  });

  it('--redact KEY with --no-redact is a contradiction, not a silent last-one-wins (secrets must not be stored by accident)', () => {
    for (const args of [
      ['record', '--redact', 'session_id', '--no-redact'],
      ['record', '--no-redact', '--redact', 'session_id'],
      ['enforce', '--policy', SEED, '--redact', 'session_id', '--no-redact'],
    ])
      expectBadInput(runCli([...args, '--', 'true']), /--redact and --no-redact contradict each other/);
  });

  it('a server command that cannot be run is bad usage: one line naming it, exit 2, no session left in the db', () => {
    const dir = tempDir();
    const notExecutable = tempFile('server.js', 'console.log(1)\n');
    for (const [cmd, why] of [
      ['no-such-mcp-server-zz', /no-such-mcp-server-zz: not found on PATH/],
      ['./missing/server', /\.\/missing\/server: no such file/],
      [dir, /is a directory/],
      [notExecutable, /is not executable/],
    ] as const) {
      const db = join(tempDir(), 'r.db');
      for (const args of [['record'], ['enforce', '--policy', SEED]]) {
        const r = runCli([...args, '--db', db, '--', cmd, 'arg'], {}, '');
        expectBadInput(r, why);
        expect(r.stderr).toMatch(/mcp-replay (record|enforce) .*-- CMD/);
      }
      expect(runCli(['sessions', 'list', '--json', '--db', db]).stdout).toBe('');
    }
  });

  it('a server script whose #! interpreter is missing: the error says so (it said a bare ENOENT of a file that is there)', () => {
    const script = tempFile('server.sh', '#!/no/such/interpreter\necho hi\n');
    chmodSync(script, 0o755);
    const r = runCli(['record', '--db', join(tempDir(), 'r.db'), '--', script], {}, '');
    expect(r.code).toBe(1);
    expect(r.stderr).toContain(`cannot start ${script}: ENOENT (the interpreter its #! line names was not found)`);
  });

  it('a session prefix is a literal, case-sensitive prefix: LIKE wildcards and an empty id name no session (rm must not delete one nobody named)', () => {
    const db = join(tempDir(), 'x.db');
    for (const id of ['run_1', 'runX2', 'Seed-a'])
      expect(runCli(['sessions', 'import', '--db', db, tempFile(`${id}.jsonl`, sessionAs(id))]).code).toBe(0);
    for (const id of ['%', '_', 'r%', 'seed', ''])
      expectBadInput(runCli(['sessions', 'rm', '--db', db, id]), /unknown session|empty/);
    // `run_` is the prefix of run_1 only; `_` is no wildcard.
    const show = runCli(['sessions', 'show', '--json', '--db', db, 'run_']);
    expect(show.code, show.stderr).toBe(0);
    expect(JSON.parse(show.stdout.split('\n')[0]!)).toMatchObject({ id: 'run_1' });
    const ids = runCli(['sessions', 'list', '--json', '--db', db])
      .stdout.trim()
      .split('\n')
      .map((l) => (JSON.parse(l) as { id: string }).id);
    expect(ids.sort()).toEqual(['Seed-a', 'run_1', 'runX2'].sort());
  });

  it('a session name given where an id is expected is answered with the ids of the sessions so named', () => {
    const db = join(tempDir(), 'x.db');
    runCli(['sessions', 'import', '--db', db, SESSION]);
    // The seed session's name, as `sessions list` shows it.
    expectBadInput(
      runCli(['sessions', 'show', '--db', db, '15 calls in 70 s']),
      /unknown session 15 calls in 70 s in .*: it is the name of seed-15-calls \(give a session id or a prefix of one\)$/,
    );
    expectBadInput(runCli(['replay', '--policy', SEED, '--db', db, 'nope']), /unknown session nope in .*sessions list/);
  });

  it('an empty --db (an unset shell variable) is bad usage, not an unnamed db', () => {
    for (const args of [
      ['sessions', 'list', '--db', ''],
      ['sessions', 'import', SESSION, '--db', ''],
      ['record', '--db', '', '--', 'true'],
    ])
      expectBadInput(runCli(args), /^mcp-replay: option '--db <file>' argument '' is invalid\. expects a file/);
  });

  it("--db :memory: is bad usage: SQLite's in-memory db keeps nothing (record recorded nothing, silently)", () => {
    for (const args of [
      ['record', '--db', ':memory:', '--', 'true'],
      ['sessions', 'list', '--db', ':memory:'],
    ])
      expectBadInput(
        runCli(args),
        /^mcp-replay: option '--db <file>' argument ':memory:' is invalid\. is SQLite's in-memory db/,
      );
  });

  it("an option's value left out before `--` is bad usage: `--` is not taken as the value (a session named `--`)", () => {
    const db = join(tempDir(), 'dashdash.db');
    for (const [args, flags] of [
      [['record', '--db', db, '--name', '--', 'true'], '--name <name>'],
      [['record', '--db', db, '--redact', 'a', '--redact', '--', 'true'], '--redact <key>'],
      [['enforce', '--db', db, '--policy', '--', 'true'], '--policy <file>'],
    ] as const)
      expectBadInput(runCli([...args]), new RegExp(`^mcp-replay: option '${flags}' argument missing \\(got '--'`));
    expect(existsSync(db)).toBe(false);
  });

  it('exits 2 naming the db for a db that is not one or is damaged, whatever part of it is', () => {
    const dir = tempDir();
    const notDb = join(dir, 'not.db');
    writeFileSync(notDb, 'x'.repeat(5000));
    // A db whose header is fine but whose tables are overwritten (a disk error, a bad copy).
    const damaged = join(dir, 'damaged.db');
    runCli(['sessions', 'import', SESSION, '--db', damaged]);
    const fd = openSync(damaged, 'r+');
    writeSync(fd, Buffer.alloc(4096 * 6, 0x41), 0, 4096 * 6, 4096);
    closeSync(fd);
    for (const db of [notDb, damaged]) {
      const what = new RegExp(
        `^mcp-replay: ${db.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}: .*(not a database|malformed)`,
      );
      expectBadInput(runCli(['sessions', 'list', '--db', db]), what);
      expectBadInput(runCli(['replay', '--policy', SEED, '--db', db]), what);
      expectBadInput(runCli(['record', '--db', db, '--', 'true']), what);
      expectBadInput(runCli(['enforce', '--policy', SEED, '--db', db, '--', 'true']), what);
    }
  });

  it('a db another process keeps locked: record serves from its spool, enforce exits 1 after 5 s naming the db', async () => {
    const db = join(tempDir(), 'locked.db');
    runCli(['sessions', 'import', SESSION, '--db', db]);
    const script = `const D = require(${JSON.stringify(join(ROOT, 'node_modules/better-sqlite3'))});
const db = new D(${JSON.stringify(db)}); db.exec('BEGIN EXCLUSIVE'); console.log('locked'); setTimeout(() => {}, 20000);`;
    const locker = spawn(process.execPath, ['-e', script], { stdio: ['ignore', 'pipe', 'inherit'] });
    try {
      await new Promise((resolve) => locker.stdout.once('data', resolve));
      const r = runCli(['record', '--db', db, '--', 'true']);
      expect(r.code, r.stderr).toBe(0);
      expect(r.stderr).toMatch(/is locked by another process: session \w+ is recorded in its spool/);
      // A gateway cannot count without the db: it does not start.
      const e = runCli(['enforce', '--policy', SEED, '--db', db, '--', 'true']);
      expect(e.code).toBe(1);
      expect(e.stderr.trimEnd().split('\n')).toEqual([`mcp-replay: ${db}: database is locked`]);
    } finally {
      locker.kill();
    }
  });

  it('the server gets our environment as given: NO_COLOR stays, the FORCE_COLOR=0 it sets for our own TUIs does not', () => {
    const server = 'console.error(JSON.stringify([process.env.NO_COLOR, process.env.FORCE_COLOR ?? null]))';
    const r = runCli(['record', '--', process.execPath, '-e', server], { NO_COLOR: '1' }, '');
    expect(r.code).toBe(0);
    expect(r.stderr).toContain('["1",null]');
  });

  it('has --help for every command', () => {
    // The built CLI answers --help (exit 0, usage on stdout)…
    for (const cmd of [[], ['replay']]) {
      const r = runCli([...cmd, '--help']);
      expect(r.code, cmd.join(' ')).toBe(0);
      expect(r.stdout).toMatch(/Usage: mcp-replay/);
    }
    // …and every command in the tree has a description and help of its own.
    const all = (c: Command): Command[] => c.commands.flatMap((x) => [x, ...all(x)]);
    const commands = all(buildProgram());
    expect(commands.map((c) => c.name())).toEqual(
      expect.arrayContaining(['record', 'enforce', 'replay', 'diff', 'simulate', 'demo']),
    );
    for (const c of commands) {
      expect(c.description(), c.name()).not.toBe('');
      expect(c.helpInformation()).toMatch(/^Usage: /);
    }
  });

  it('help COMMAND... shows that command at any depth; an unknown one is one line with a suggestion, exit 2', () => {
    for (const [args, usage] of [
      [['help', 'sessions', 'list'], 'Usage: mcp-replay sessions list'],
      [['sessions', 'help', 'show'], 'Usage: mcp-replay sessions show'],
      [['help', 'policy'], 'Usage: mcp-replay policy'],
    ] as const) {
      const r = runCli([...args]);
      expect(r.code, args.join(' ')).toBe(0);
      expect(r.stdout).toMatch(new RegExp(`^${usage} `));
    }
    expectBadInput(runCli(['help', 'sesions']), /^mcp-replay: unknown command 'sesions' \(Did you mean sessions\?\)/);
    expectBadInput(runCli(['help', 'sessions', 'lst']), /^mcp-replay: unknown command 'lst' \(Did you mean list\?\)/);
    expectBadInput(runCli(['help', 'frob']), /^mcp-replay: unknown command 'frob'/);
  });

  it('a command that only reads creates no db where --db names none (a typo leaves nothing behind)', () => {
    const missing = join(tempDir(), 'typo/dir/x.db');
    for (const args of [
      ['sessions', 'list'],
      ['sessions', 'list', '--json'],
      ['approvals', '--json'],
      ['replay', '--policy', SEED],
    ]) {
      const r = runCli([...args, '--db', missing]);
      expect(r.code, args.join(' ')).toBe(args[0] === 'replay' ? 2 : 0);
    }
    expect(existsSync(dirname(dirname(missing)))).toBe(false);
  });

  it('the default db (SPEC §1) is made with a 0700 folder and a 0600 file; a relative $XDG_DATA_HOME is ignored', () => {
    const home = tempDir();
    const relative = join(ROOT, 'relative-xdg');
    try {
      const r = runCli(['sessions', 'import', SESSION], {
        MCP_REPLAY_DB: '',
        HOME: home,
        XDG_DATA_HOME: 'relative-xdg',
      });
      expect(r.code, r.stderr).toBe(0);
      expect(existsSync(relative)).toBe(false);
      const folder = join(home, '.local/share/mcp-replay');
      expect(statSync(folder).mode & 0o777).toBe(0o700);
      expect(statSync(join(folder, 'recordings.db')).mode & 0o777).toBe(0o600);
    } finally {
      rmSync(relative, { recursive: true, force: true });
    }
  });

  it('sessions show escapes what would hide or reorder text in a recorded call', () => {
    const db = join(tempDir(), 's.db');
    const lines = [
      { type: 'session', id: 'bidi', startedAt: '2026-01-01T00:00:00.000Z', transport: 'stdio' },
      {
        type: 'message',
        seq: 0,
        t: 0,
        dir: 'c2s',
        msg: {
          jsonrpc: '2.0',
          id: 1,
          method: 'tools/call',
          params: { name: 'ec\u202eho', arguments: { cmd: 'ls\u200b' } },
        },
      },
      { type: 'message', seq: 1, t: 5, dir: 's2c', msg: { jsonrpc: '2.0', id: 1, result: { content: [] } } },
    ];
    expect(
      runCli([
        'sessions',
        'import',
        tempFile('bidi.jsonl', lines.map((l) => JSON.stringify(l)).join('\n') + '\n'),
        '--db',
        db,
      ]).code,
    ).toBe(0);
    const shown = runCli(['sessions', 'show', 'bidi', '--db', db]).stdout;
    expect(shown).toContain('ec\\u202eho {"cmd":"ls\\u200b"}');
    expect(shown).not.toMatch(/[\u202e\u200b]/);
  });

  it('sessions list/show/import/rm show the controls of an imported session id, name and server command as escapes', () => {
    const db = join(tempDir(), 'x.db');
    const session = {
      type: 'session',
      id: 'x\u001b[2Jy',
      name: 'n\u202eame\nx',
      startedAt: '2026-01-01T00:00:00.000Z',
      transport: 'stdio',
      server: { command: ['srv\u001b[31m', '--x'] },
    };
    const file = tempFile('evil.jsonl', JSON.stringify(session) + '\n');
    const outputs = [
      runCli(['sessions', 'import', '--db', db, file]).stdout,
      runCli(['sessions', 'list', '--db', db]).stdout,
      runCli(['sessions', 'show', '--db', db, 'x']).stdout,
      runCli(['sessions', 'rm', '--db', db, 'x']).stderr,
    ];
    for (const text of outputs) {
      for (const ch of ['\u001b', '\u202e']) expect(text).not.toContain(ch);
      expect(text).toContain('x\\u001b[2Jy');
    }
    const [, list, show] = outputs;
    expect(list!.trimEnd().split('\n')).toHaveLength(2); // the header and one row: the name's newline is escaped
    expect(list).toContain('n\\u202eame\\u000ax');
    expect(show).toContain('server  srv\\u001b[31m --x');
  });

  it('an error quoting ids it was given or found (an ambiguous prefix, an unknown id) escapes their controls: one line', () => {
    const db = join(tempDir(), 'x.db');
    const session = (id: string) =>
      JSON.stringify({ type: 'session', id, startedAt: '2026-01-01T00:00:00.000Z', transport: 'stdio' });
    for (const id of ['p\u001b[2J1', 'p\u001b[2J2'])
      expect(runCli(['sessions', 'import', '--db', db, tempFile('s.jsonl', session(id) + '\n')]).code).toBe(0);
    expectBadInput(
      runCli(['sessions', 'show', '--db', db, 'p']),
      /ambiguous .*: p\\u001b\[2J1, p\\u001b\[2J2 \(give more/,
    );
    expectBadInput(
      runCli(['sessions', 'show', '--db', db, 'q\nr\u001b[31m']),
      /^mcp-replay: unknown session q\\u000ar\\u001b\[31m in /,
    );
  });

  it("replay's table keeps its columns under its header (a session id is cut with …)", () => {
    const [header, first] = runCli(['replay', '--policy', SEED, SESSION]).stdout.split('\n');
    expect(first).toMatch(/^\+0\.002s\s+seed-15-cal…\s+invoke_agent_runtime/);
    expect(first!.indexOf('invoke_agent_runtime')).toBe(header!.indexOf('TOOL'));
    expect(first!.indexOf('allow')).toBe(header!.indexOf('DECISION'));
  });

  it("replay's table names the rule that decided each call (a custom reason does not say which entry)", () => {
    const policy = tempFile(
      'p.json',
      JSON.stringify({
        version: '1',
        default: 'deny',
        tools: {
          'delete_*': { action: 'require_approval', reason: 'destructive' },
          '*_object': { action: 'deny', reason: 'destructive' },
        },
      }),
    );
    const rowOf = (tool: string) => {
      const [header, ...rows] = runCli(['replay', '--policy', policy, oneCallSession(tool)]).stdout.split('\n');
      const at = header!.indexOf('RULE');
      expect(at).toBeGreaterThan(header!.indexOf('DECISION'));
      return rows[0]!.slice(at);
    };
    expect(rowOf('delete_object')).toMatch(/^tools\.delete_\*\s+destructive$/);
    expect(rowOf('put_object')).toMatch(/^tools\.\*_object\s+destructive$/);
    expect(rowOf('list_buckets')).toMatch(/^default\s+no rule for tool list_buckets; default deny$/);
  });

  it("replay's RULE column is as wide as the policy's longest rule path: a limit's rows stay aligned", () => {
    const r = runCli(['replay', '--policy', SEED, SESSION]);
    const [header, ...rows] = r.stdout.split('\n');
    const throttled = rows.find((l) => l.includes(' throttle '))!;
    const allowed = rows.find((l) => l.includes(' allow '))!;
    expect(throttled.indexOf('tools.invoke_agent_runtime.limits[0]')).toBe(header!.indexOf('RULE'));
    // The reason starts under REASON in both rows (after the widest rule of the policy).
    expect(throttled.indexOf(': at most') - 'tools.invoke_agent_runtime.limits[0]'.length).toBe(
      header!.indexOf('REASON'),
    );
    expect(allowed.indexOf('allowed by')).toBe(header!.indexOf('REASON'));
  });

  it('replays several sessions as one timeline', () => {
    const copy = tempFile('copy.jsonl', sessionAs('copy-of-seed'));
    const r = runCli(['replay', '--policy', SEED, SESSION, copy]);
    expect(r.code).toBe(0);
    // The same grant twice over, call for call: the two copies share one budget of 10 a minute.
    // 0.002..4 s: 10 allowed; 5..10 s and 30 s: throttled (14 - 2 at 60.5 s); 60.002 s: (0.002, 60.002]
    // holds 8 → both allowed; 60.5 s: 10 in (0.5, 60.5] → both throttled; 70 s: both allowed.
    expect(r.stdout).toMatch(/30 calls in 2 sessions: 14 allow, 2 deny, 14 throttle, 0 approval/);
  });

  it('pipes cleanly: a closed stdout ends quietly', () => {
    const files = ['a', 'b', 'c'].map((id) => tempFile(`${id}.jsonl`, sessionAs(id))).join(' ');
    const r = spawnSync(
      'bash',
      ['-c', `node "${CLI}" replay --policy ${SEED} ${files} | head -c 10 >/dev/null; echo "\${PIPESTATUS[0]}"`],
      {
        cwd: ROOT,
        encoding: 'utf8',
      },
    );
    expect(r.stdout.trim()).toBe('0');
    expect(r.stderr).toBe('');
  });
});
