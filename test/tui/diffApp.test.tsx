import { render } from 'ink-testing-library';
import { afterEach, describe, expect, it } from 'vitest';
import { cleanup } from 'ink-testing-library';
import { compilePolicyValue, type Policy } from '../../engine/index.js';
import { diffRun, DiffSummary, type RecordedCall } from '../../replayer/index.js';
import { DiffApp, DiffModel } from '../../tui/index.js';

const policy = (value: unknown): Policy => {
  const r = compilePolicyValue(value);
  if (!r.ok) throw new Error(JSON.stringify(r.errors));
  return r.policy;
};

// A: everything allowed, invoke_agent_runtime 10/min. B: deletes denied, invoke 2/min,
// get_object only under prod-, list_buckets newly allowed after a default deny in A's entry.
const A = policy({
  version: '1',
  default: 'allow',
  tools: {
    invoke_agent_runtime: { limits: [{ window: 'minute', max: 10 }] },
    list_buckets: { action: 'deny', reason: 'not yet' },
  },
});
const B = policy({
  version: '1',
  default: 'allow',
  tools: {
    invoke_agent_runtime: { limits: [{ window: 'minute', max: 2 }] },
    'delete_*': { action: 'deny', reason: 'destructive tools are blocked' },
    get_object: {
      args: { type: 'object', properties: { Bucket: { type: 'string', pattern: '^prod-' } }, required: ['Bucket'] },
    },
  },
});

const script: [string, unknown][] = [
  ['list_buckets', {}], // deny -> allow
  ['invoke_agent_runtime', { payload: 'one' }],
  ['invoke_agent_runtime', { payload: 'two' }],
  ['invoke_agent_runtime', { payload: 'three' }], // allow -> throttle
  ['get_object', { Bucket: 'prod-logs', Key: 'a' }],
  ['get_object', { Bucket: 'dev-scratch', Key: 'secret.txt' }], // allow -> deny
  ['delete_bucket', { Bucket: 'prod-logs' }], // allow -> deny
  ['put_object', { Bucket: 'prod-logs', Key: 'b' }],
];
const calls: RecordedCall[] = script.map(([tool, args], i) => ({
  tool,
  args,
  session: 'sess-1',
  grant: 'agent',
  seq: 10 + 2 * i,
  t: i * 1_000_000,
  at: Date.UTC(2026, 10, 24, 10) + i * 1000,
  id: i,
}));

function setup(height = 20) {
  const model = new DiffModel();
  const summary = new DiffSummary();
  for (const d of diffRun(A, B, calls)) {
    summary.add(d);
    model.add(d);
  }
  const loaded: [string, number][] = [];
  const app = render(
    <DiffApp
      model={model}
      summary={summary.toJSON()}
      policyA="a.json"
      policyB="b.json"
      height={height}
      width={110}
      loadArgs={(session, seq) => {
        loaded.push([session, seq]);
        return calls.find((c) => c.seq === seq)?.args;
      }}
    />,
  );
  const frame = () => app.lastFrame() ?? '';
  const selected = () =>
    frame()
      .split('\n')
      .find((l) => l.startsWith('>')) ?? '';
  const press = async (...keys: string[]) => {
    // Each key: write it, then wait for the frame it causes (ink throttles renders; the CPU is shared).
    for (const k of keys) {
      const before = app.frames.length;
      app.stdin.write(k);
      for (let waited = 0; app.frames.length === before && waited < 400; waited += 10)
        await new Promise((r) => setTimeout(r, 10));
      await new Promise((r) => setTimeout(r, 10));
    }
  };
  return { app, frame, selected, press, loaded };
}

const DOWN = '\x1b[B';
const UP = '\x1b[A';
const PGDN = '\x1b[6~';
const ENTER = '\r';
const ESC = '\x1b';
const TAB = '\t';

afterEach(() => cleanup());

describe('diff TUI', () => {
  it('shows both policies, the matrix and the changed calls first', () => {
    const { frame, selected } = setup();
    expect(frame()).toContain('A a.json → B b.json');
    expect(frame()).toContain('8 calls, 4 changed');
    expect(frame()).toMatch(/allow->deny 2\s+allow->throttle 1\s+deny->allow 1/);
    expect(frame()).toContain('changed calls');
    expect(frame()).toContain('1/4');
    expect(selected()).toMatch(/list_buckets\s+deny\s+allow/);
  });

  it('moves with j/k and the arrows, pages with PgDn', async () => {
    const { press, selected, frame } = setup();
    await press('j');
    expect(selected()).toMatch(/invoke_agent_runtime\s+allow\s+throttle/);
    await press(DOWN);
    expect(selected()).toMatch(/get_object\s+allow\s+deny/);
    await press('k', UP);
    expect(selected()).toMatch(/list_buckets/);
    await press(UP); // stays at the top
    expect(frame()).toContain('1/4');
    await press(PGDN);
    expect(frame()).toContain('4/4');
    expect(selected()).toMatch(/delete_bucket\s+allow\s+deny/);
  });

  it('scrolls a window smaller than the list, rendering only the visible rows', async () => {
    const { press, frame, selected } = setup(13); // header 6 lines + 5 fixed → 2 list rows
    const rows = () =>
      frame()
        .split('\n')
        .filter((l) => /^[> ]\+\d/.test(l));
    expect(rows()).toHaveLength(2);
    await press('j', 'j', 'j');
    expect(selected()).toMatch(/delete_bucket/);
    expect(rows()).toHaveLength(2);
    expect(frame()).not.toContain('list_buckets  ');
  });

  it('tab toggles all calls and changed only, staying on the selected call', async () => {
    const { press, frame, selected } = setup();
    await press(TAB);
    expect(frame()).toContain('all calls');
    expect(frame()).toContain('1/8');
    expect(frame()).toMatch(/put_object\s+allow\s+allow/);
    await press('j');
    expect(selected()).toMatch(/invoke_agent_runtime\s+allow\s+allow/);
    await press(TAB); // the unchanged call is not shown: the next changed one is selected
    expect(frame()).toContain('changed calls');
    expect(frame()).not.toMatch(/put_object/);
    expect(frame()).toContain('2/4');
    expect(selected()).toMatch(/invoke_agent_runtime\s+allow\s+throttle/);
    await press(TAB);
    expect(frame()).toContain('4/8');
  });

  it('/ filters by tool name; esc clears', async () => {
    const { press, frame, selected } = setup();
    await press('/', 'g', 'e', 't');
    expect(frame()).toContain('tool: /get');
    await press(ENTER);
    expect(frame()).toContain('tool: get');
    expect(frame()).toContain('1/1');
    expect(selected()).toMatch(/get_object\s+allow\s+deny/);
    await press(TAB); // all calls of the tool
    expect(frame()).toContain('1/2');
    await press(ESC);
    expect(frame()).toContain('tool: *');
    expect(frame()).toContain('1/8');
  });

  it('t cycles through the transitions that occur, then back to all', async () => {
    const { press, frame } = setup();
    await press('t');
    expect(frame()).toContain('transition: allow->deny');
    expect(frame()).toContain('1/2');
    await press('t');
    expect(frame()).toContain('transition: allow->throttle');
    expect(frame()).toContain('1/1');
    await press('t');
    expect(frame()).toContain('transition: deny->allow');
    await press('t');
    expect(frame()).toContain('transition: *');
    expect(frame()).toContain('1/4');
  });

  it('enter opens the detail pane with arguments, decisions, reasons, rules, session and time', async () => {
    const { press, frame, loaded } = setup(30);
    await press('t', ENTER); // first allow->deny: the dev bucket get_object
    const f = frame();
    expect(f).toContain('get_object (allow->deny)');
    expect(f).toContain('session sess-1 seq 20');
    expect(f).toContain('2026-11-24T10:00:05.000Z');
    expect(f).toMatch(/A allow\s+rule default/);
    expect(f).toMatch(/B deny\s+rule tools\.get_object\.args/);
    expect(f).toContain('"Bucket": "dev-scratch"');
    expect(f).toContain('"Key": "secret.txt"');
    expect(loaded).toEqual([]); // changed calls keep their arguments
    await press(ESC);
    expect(frame()).toContain('TIME');
    // An unchanged call's arguments are re-read on demand.
    await press(ESC, TAB, 'G', ENTER);
    expect(frame()).toContain('put_object (unchanged)');
    expect(frame()).toContain('"Key": "b"');
    expect(loaded).toEqual([['sess-1', 24]]);
  });

  it('keys typed faster than a frame (one input chunk) each count', async () => {
    const { press, selected } = setup();
    await press('jj');
    expect(selected()).toMatch(/get_object/);
  });

  it('q quits: the app stops answering keys', async () => {
    const { press, frame } = setup();
    await press('q');
    const before = frame();
    await press('j', TAB);
    expect(frame()).toBe(before);
  });
});

describe('the TUI layering', () => {
  it('keeps the display order of decisions and transitions in step with the engine and the replayer', async () => {
    const { DECISIONS } = await import('../../engine/index.js');
    const { TRANSITIONS } = await import('../../replayer/index.js');
    const { DECISION_ORDER, TRANSITION_ORDER } = await import('../../tui/diff/order.js');
    expect(DECISION_ORDER).toEqual(DECISIONS);
    expect(TRANSITION_ORDER).toEqual(TRANSITIONS);
  });
});

describe('diff TUI: recorded text on the terminal', () => {
  // Tool names, reasons and arguments come from recordings and policies: none of their
  // characters may act on the terminal, and wide ones must not shift the columns.
  const tools = [
    'del_\x1b[31mred\x1b[0m',
    'del_bell\x07\r\nline',
    'del_日本語のツール',
    'del_emoji_🚀🔥',
    'del_zw\u200b\u202eabc',
    'del_c1\x9b31m',
  ];
  const wild = policy({ version: '1', default: 'allow', tools: {} });
  const strict = policy({
    version: '1',
    default: 'allow',
    tools: { 'del_*': { action: 'deny', reason: 'blocked \x1b[2J\u202e日本 🚀' } },
  });
  const recorded: RecordedCall[] = tools.map((tool, i) => ({
    tool,
    args: { path: `/srv/\x1b[H\u200b${'日'.repeat(3)}\u0085` },
    session: 'sess-\x1b]0;title\x07',
    grant: 'agent',
    seq: i + 1,
    t: i * 1000,
    at: Date.UTC(2026, 10, 24, 10) + i,
    id: i,
  }));
  const open = (width: number) => {
    const model = new DiffModel();
    const summary = new DiffSummary();
    for (const d of diffRun(wild, strict, recorded)) {
      summary.add(d);
      model.add(d);
    }
    return render(
      <DiffApp
        model={model}
        summary={summary.toJSON()}
        policyA={'a\x1b[1m.json'}
        policyB="b.json"
        height={30}
        width={width}
      />,
    );
  };
  const raw = ['\x1b', '\x07', '\r', '\u200b', '\u202e', '\x9b', '\u0085'];

  it('escapes controls and invisible characters in the header, the list and the detail pane', async () => {
    const app = open(110);
    const frame = () => app.lastFrame() ?? '';
    for (const ch of raw) expect(frame()).not.toContain(ch);
    expect(frame()).toContain('del_\\u001b[31mred\\u001b[0m');
    expect(frame()).toContain('blocked \\u001b[2J\\u202e日本 🚀');
    expect(frame()).toContain('A a\\u001b[1m.json');
    app.stdin.write('\r');
    await new Promise((r) => setTimeout(r, 100));
    expect(frame()).toContain('del_\\u001b[31mred\\u001b[0m (allow->deny)');
    expect(frame()).toContain('\\u200b');
    for (const ch of raw) expect(frame()).not.toContain(ch);
  });

  it('lines the columns up by display width (CJK and emoji take two cells)', async () => {
    const { default: stringWidth } = await import('string-width');
    const app = open(100);
    const rows = (app.lastFrame() ?? '').split('\n').filter((l) => /^[> ]\+\d/.test(l));
    expect(rows).toHaveLength(tools.length);
    // The decision columns start at the same cell on every row.
    const cellOf = (l: string) => stringWidth(l.slice(0, l.indexOf('allow')));
    expect(new Set(rows.map(cellOf)).size).toBe(1);
    for (const l of rows) expect(stringWidth(l)).toBeLessThanOrEqual(100);
  });
});

describe('diff TUI: no calls at all', () => {
  it('says the sessions have no calls in both views, not to clear filters that are not set', async () => {
    const app = render(
      <DiffApp
        model={new DiffModel()}
        summary={new DiffSummary().toJSON()}
        policyA="a.json"
        policyB="b.json"
        height={20}
        width={100}
      />,
    );
    expect(app.lastFrame()).toContain('the sessions have no tools/call');
    app.stdin.write('\t');
    await new Promise((r) => setTimeout(r, 100));
    expect(app.lastFrame()).toContain('all calls');
    expect(app.lastFrame()).toContain('the sessions have no tools/call');
    expect(app.lastFrame()).not.toContain('esc clears');
  });
});
