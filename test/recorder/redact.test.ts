import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { Redactor, SECRET_KEY } from '../../recorder/redact.js';
import { ulid } from '../../recorder/ulid.js';

const apply = (r: Redactor, m: unknown) => JSON.parse(r.apply(JSON.stringify(m), m)) as unknown;

/** Keys redaction applies to, for a Redactor with `--redact ssn` (an oracle apart from it). */
const secret = (k: string) =>
  (SECRET_KEY.test(k) && k !== 'progressToken' && k !== 'maxTokens') || k.toLowerCase() === 'ssn';

/** JSON values whose object keys come from `key`. */
const jsonValue = (key: fc.Arbitrary<string>) =>
  fc.letrec<{ v: unknown }>((tie) => ({
    v: fc.oneof(
      { depthSize: 'small' },
      fc.string({ maxLength: 8 }),
      fc.integer(),
      fc.constant(null),
      fc.array(tie('v'), { maxLength: 3 }),
      fc.dictionary(key, tie('v'), { maxKeys: 3 }),
    ),
  })).v;

describe('Redactor', () => {
  const r = new Redactor({ enabled: true });

  it('keeps the text itself when nothing is secret', () => {
    const text = '{"jsonrpc":"2.0","id":1,"method":"tools/call","params":{"name":"x","arguments":{"a":1}}}';
    expect(r.apply(text, JSON.parse(text))).toBe(text);
  });

  it('redacts values under secret keys at any depth, in params, results and batches, keeping the shape', () => {
    const m = {
      jsonrpc: '2.0',
      id: 1,
      method: 'tools/call',
      params: {
        name: 'x',
        _meta: { progressToken: 7 },
        arguments: {
          'API-KEY': 1,
          list: [{ Cookie: 'c' }, { ok: 1 }],
          auth: { client_secret: { a: 1 } },
          accessToken: null,
        },
      },
    };
    expect(apply(r, m)).toEqual({
      jsonrpc: '2.0',
      id: 1,
      method: 'tools/call',
      params: {
        name: 'x',
        _meta: { progressToken: 7 },
        arguments: {
          'API-KEY': '[REDACTED]',
          list: [{ Cookie: '[REDACTED]' }, { ok: 1 }],
          auth: { client_secret: '[REDACTED]' },
          accessToken: '[REDACTED]',
        },
      },
    });
    expect(apply(r, [{ id: 2, result: { password: 'p' } }])).toEqual([{ id: 2, result: { password: '[REDACTED]' } }]);
  });

  it('redacts inside JSON held in a string (a text result) and behind \\u escapes', () => {
    const m = { id: 1, result: { content: [{ type: 'text', text: '{"OPENAI_API_KEY":"sk-1","HOME":"/h"}' }] } };
    const out = apply(r, m) as { result: { content: { text: string }[] } };
    expect(JSON.parse(out.result.content[0]!.text)).toEqual({ OPENAI_API_KEY: '[REDACTED]', HOME: '/h' });
    const escaped = '{"id":1,"result":{"\\u0074oken":"t-1"}}';
    expect(r.apply(escaped, JSON.parse(escaped))).toBe('{"id":1,"result":{"\\u0074oken":"[REDACTED]"}}');
  });

  it('redacts key: value pairs written in string values (the gateway’s question, a log line, deep JSON text)', () => {
    const question = {
      jsonrpc: '2.0',
      id: 'mcp-replay-1',
      method: 'elicitation/create',
      params: { message: 'Allow the tool call echo {"message":"hi","api_key":"S3CRET"}?' },
    };
    expect(apply(r, question)).toEqual({
      ...question,
      params: { message: 'Allow the tool call echo {"message":"hi","api_key":"[REDACTED]"}?' },
    });
    const log = { id: 1, result: { content: [{ type: 'text', text: 'connected with password=hunter2, ok' }] } };
    expect(apply(r, log)).toEqual({
      id: 1,
      result: { content: [{ type: 'text', text: 'connected with password=[REDACTED], ok' }] },
    });
    // JSON in a string nested deeper than the redactor parses: its pairs are still caught.
    let deep: unknown = JSON.stringify({ token: 'T' });
    for (let i = 0; i < 10; i++) deep = { a: deep };
    expect(JSON.stringify(apply(r, { id: 2, result: deep }))).not.toContain('"T');
    const plain = { id: 3, result: { text: 'tokens are counted per request' } };
    expect(apply(r, plain)).toEqual(plain);
  });

  it('--redact KEY adds whole keys in any case; --no-redact keeps all', () => {
    const extra = new Redactor({ enabled: true, extraKeys: ['ssn'] });
    expect(apply(extra, { id: 1, params: { SSN: '1', ssn_hint: 'h' } })).toEqual({
      id: 1,
      params: { SSN: '[REDACTED]', ssn_hint: 'h' },
    });
    const off = new Redactor({ enabled: false });
    expect(apply(off, { id: 1, params: { token: 't' } })).toEqual({ id: 1, params: { token: 't' } });
  });

  it('--redact KEY applies to `key: value` pairs in text too (stderr, string values), whole keys only', () => {
    const extra = new Redactor({ enabled: true, extraKeys: ['ssn', 'a.b', ''] });
    expect(extra.text('ssn: 123-45 and SSN=9, ssn_hint: keep, token: t')).toBe(
      'ssn: [REDACTED] and SSN=[REDACTED], ssn_hint: keep, token: [REDACTED]',
    );
    expect(apply(extra, { id: 1, result: { text: 'user ssn: 123' } })).toEqual({
      id: 1,
      result: { text: 'user ssn: [REDACTED]' },
    });
    expect(extra.text('nothing here: 1')).toBe('nothing here: 1');
  });

  it('--redact names a protocol field: it is redacted too (it was silently kept)', () => {
    const asked = new Redactor({ enabled: true, extraKeys: ['progressToken'] });
    const call = {
      jsonrpc: '2.0',
      id: 3,
      method: 'tools/call',
      params: { _meta: { progressToken: 'p-7' }, maxTokens: 5 },
    };
    expect(apply(asked, call)).toEqual({ ...call, params: { _meta: { progressToken: '[REDACTED]' }, maxTokens: 5 } });
    expect(asked.text('progressToken: p-7, maxTokens: 5')).toBe('progressToken: [REDACTED], maxTokens: 5');
    expect(apply(new Redactor({ enabled: true }), call)).toEqual(call);
  });
});

describe('ulid', () => {
  it('is 26 Crockford characters that sort by time', () => {
    const a = ulid(1_700_000_000_000);
    const b = ulid(1_700_000_000_001);
    expect(a).toMatch(/^[0-9A-HJKMNP-TV-Z]{26}$/);
    expect(a < b).toBe(true);
    expect(ulid(0, new Uint8Array(10))).toBe('0'.repeat(26));
  });
});

describe('Redactor on free text and command lines', () => {
  const r = new Redactor({ enabled: true });

  it('redacts secrets in stderr-like text, keeping the keys', () => {
    expect(r.text('{"token":"S","user":"u"}')).toBe('{"token":"[REDACTED]","user":"u"}');
    expect(r.text('Authorization: Bearer abc.def and more')).toBe('Authorization: [REDACTED] and more');
    expect(r.text('connecting with api_key=XYZ123, retries=3')).toBe('connecting with api_key=[REDACTED], retries=3');
    expect(r.text('db password: "p w", ok')).toBe('db password: "[REDACTED]", ok');
    expect(r.text('progressToken: 7')).toBe('progressToken: 7');
    expect(r.text('a "progressToken": 7, x.token=abc')).toBe('a "progressToken": 7, x.token=[REDACTED]');
    expect(r.text('tokentoken=x;token')).toBe('tokentoken=[REDACTED];token');
    expect(r.text('nothing secret here')).toBe('nothing secret here');
    expect(new Redactor({ enabled: false }).text('token=S')).toBe('token=S');
  });

  it('redacts secret-looking arguments of the server command', () => {
    expect(r.argv(['npx', 'server', '/data', '--api-key=K1', '--token', 'K2', 'GITHUB_TOKEN=K3', '--verbose'])).toEqual(
      [
        'npx',
        'server',
        '/data',
        '--api-key=[REDACTED]',
        '--token',
        '[REDACTED]',
        'GITHUB_TOKEN=[REDACTED]',
        '--verbose',
      ],
    );
    expect(new Redactor({ enabled: false }).argv(['--token', 'K'])).toEqual(['--token', 'K']);
  });

  it('redacts `key: value` pairs written inside an argument (a header, a script)', () => {
    expect(r.argv(['npx', 'mcp-remote', 'https://x', '--header', 'Authorization: Bearer abc'])).toEqual([
      'npx',
      'mcp-remote',
      'https://x',
      '--header',
      'Authorization: [REDACTED]',
    ]);
    expect(r.argv(['node', '-e', "connect({ token: 'abc' })", '--verbose'])).toEqual([
      'node',
      '-e',
      "connect({ token: '[REDACTED]' })",
      '--verbose',
    ]);
    // A server command written as one shell string: `--token x` inside it too.
    expect(r.argv(['sh', '-c', 'node srv --token SEC_A1 --port 3 --api-key=SEC_A2'])).toEqual([
      'sh',
      '-c',
      'node srv --token [REDACTED] --port 3 --api-key=[REDACTED]',
    ]);
  });

  it('takes a whole object or array under a secret key in free text, and quoted values with escapes', () => {
    expect(r.text('log: {"token":{"v":"SEC_7"}} done')).toBe('log: {"token":"[REDACTED]"} done');
    expect(r.text('vars: {"api_key": ["SEC_10","SEC_11"], "n": 1}')).toBe('vars: {"api_key": "[REDACTED]", "n": 1}');
    expect(r.text('debug {"api_key":["SEC_J1"]')).toBe('debug {"api_key":"[REDACTED]"'); // cut short: to the line's end
    expect(r.text('token="abc\\"SEC_G1" next')).toBe('token="[REDACTED]" next');
    expect(r.text("password='SEC_F1 SEC_F2' next")).toBe("password='[REDACTED]' next");
    expect(r.text("{'api_key': 'SEC_25', 'n': 1}")).toBe("{'api_key': '[REDACTED]', 'n': 1}");
  });

  it('takes a Cookie or Authorization header to the end of its line, and each line of several on its own', () => {
    expect(r.text('Cookie: sid=SEC_E1; csrftoken=SEC_E2; theme=SEC_E3\nnext line')).toBe(
      'Cookie: [REDACTED]\nnext line',
    );
    expect(r.text('Set-Cookie: a=SEC_8; b=SEC_9\r\n')).toBe('Set-Cookie: [REDACTED]\r\n');
    expect(r.text('Authorization: Digest username="u", response="SEC_H1"')).toBe('Authorization: [REDACTED]');
    expect(r.text('Authorization: Bearer abc.def and more')).toBe('Authorization: [REDACTED] and more');
    // A JSON logger's lines in one stderr chunk: each line is JSON, redacted as a message is.
    const chunk =
      '{"level":30,"res":{"headers":{"set-cookie":["sid=SEC_C1; Path=/"]}}}\n' +
      '{"level":30,"auth":{"token":{"value":"SEC_D1"}}}\n{"level":30,"msg":"ok"}\n';
    expect(r.text(chunk)).toBe(
      '{"level":30,"res":{"headers":{"set-cookie":"[REDACTED]"}}}\n' +
        '{"level":30,"auth":{"token":"[REDACTED]"}}\n{"level":30,"msg":"ok"}\n',
    );
  });
});

describe('Redactor.keeps: the recorder stores such a line unparsed', () => {
  const r = new Redactor({ enabled: true, extraKeys: ['ssn'] });
  // Keys near the secret names: protocol fields, look-alikes, case and separator variants.
  const key = fc.oneof(
    fc.constantFrom(
      'progressToken',
      'maxTokens',
      'ProgressToken',
      'progressToken2',
      'x-progressToken',
      'token',
      'api-key',
      'API_KEY',
      'ssn',
      'SSN',
      'cookie',
      'name',
      'text',
      'Authorization',
      'my token',
      'a\ttoken',
      'x.progressToken',
      'progressToken ',
      '$maxTokens',
      '@progressToken',
    ),
    fc.string({ maxLength: 6 }),
  );
  const value = jsonValue(key);
  // A text result holding JSON is redacted inside too.
  const nested = fc.dictionary(key, value, { maxKeys: 3 }).map((o) => JSON.stringify(o));
  const message = fc.record({
    jsonrpc: fc.constant('2.0'),
    id: fc.nat(),
    params: fc.dictionary(key, fc.oneof(value, nested), { maxKeys: 4 }),
  });

  // The oracle, apart from the Redactor: a key redaction applies to, anywhere (JSON in strings too).
  const hasSecretKey = (v: unknown): boolean => {
    if (typeof v === 'string') {
      try {
        return hasSecretKey(JSON.parse(v));
      } catch {
        return false;
      }
    }
    if (v === null || typeof v !== 'object') return false;
    return Object.entries(v).some(([k, w]) => (!Array.isArray(v) && secret(k)) || hasSecretKey(w));
  };

  it('never keeps a line that holds a key redaction applies to', () => {
    fc.assert(
      fc.property(message, (m) => {
        const text = JSON.stringify(m);
        if (hasSecretKey(m)) expect(r.keeps(text)).toBe(false);
        else if (r.keeps(text)) expect(r.apply(text, m)).toBe(text);
      }),
      { numRuns: 3000 },
    );
  });

  it('keeps a call whose only secret-looking key is the protocol’s progressToken', () => {
    const call = { jsonrpc: '2.0', id: 3, method: 'tools/call', params: { name: 'echo', _meta: { progressToken: 3 } } };
    expect(r.keeps(JSON.stringify(call))).toBe(true);
    expect(r.keeps(JSON.stringify({ ...call, params: { ...call.params, arguments: { token: 'x' } } }))).toBe(false);
  });
});

describe('Redactor on long lines', () => {
  it('takes one pass over a long word before a secret name (it used to try every position of it)', () => {
    const r = new Redactor({ enabled: true });
    const line = `${'a'.repeat(400_000)} token=SECRET ${'b'.repeat(400_000)}token`;
    expect(r.text(line)).toBe(`${'a'.repeat(400_000)} token=[REDACTED] ${'b'.repeat(400_000)}token`);
  });
});

describe('Redactor.apply: the line is stored as written but for the redacted values', () => {
  const r = new Redactor({ enabled: true });
  const store = (text: string) => r.apply(text, JSON.parse(text));

  it('keeps key order, spacing, number spellings and an id beyond 2^53 (it re-serialized the message)', () => {
    const text =
      '{ "id" : 9007199254740993, "jsonrpc":"2.0", "method":"tools/call",\t"params":{"arguments":{"n":1.0,"e":1e2,"token":"t"},"name":"x"}}';
    expect(store(text)).toBe(
      '{ "id" : 9007199254740993, "jsonrpc":"2.0", "method":"tools/call",\t"params":{"arguments":{"n":1.0,"e":1e2,"token":"[REDACTED]"},"name":"x"}}',
    );
  });

  it('keeps what makes the gateway refuse a line: a bare carriage return, a key written twice', () => {
    const cr = '{"jsonrpc":"2.0","id":1,\r"method":"tools/call","params":{"name":"x","arguments":{"api_key":"k"}}}';
    expect(store(cr)).toBe(cr.replace('"k"', '"[REDACTED]"'));
    const twice = '{"id":1,"method":"tools/call","params":{"name":"echo","name":"rm","arguments":{"token":"t"}}}';
    expect(store(twice)).toBe(twice.replace('"t"', '"[REDACTED]"'));
  });

  it('redacts the values JSON.parse drops: all but the last of a key written twice', () => {
    // The parsed message holds nothing to redact: it stored the whole line as it was.
    expect(store('{"id":1,"params":{"token":"SECRET","token":"[REDACTED]"}}')).toBe(
      '{"id":1,"params":{"token":"[REDACTED]","token":"[REDACTED]"}}',
    );
    expect(
      store('{"id":1,"params":{"a":{"password":"SECRET","password":"p"},"a":1,"b":[{"x":1,"x":{"cookie":"C"}}]}}'),
    ).toBe(
      '{"id":1,"params":{"a":{"password":"[REDACTED]","password":"[REDACTED]"},"a":1,"b":[{"x":1,"x":{"cookie":"[REDACTED]"}}]}}',
    );
  });

  it('does so in JSON text held in a string too (a tool’s text result)', () => {
    // (A key escaped so that no `token: x` pair shows in the text: the parsed inner JSON has nothing to redact.)
    const inner = '{"x":{"\\u0074oken":"SECRET"},"x":1, "n": 1.0}';
    const text = JSON.stringify({ jsonrpc: '2.0', id: 1, result: { content: [{ type: 'text', text: inner }] } });
    const out = JSON.parse(store(text)) as { result: { content: { text: string }[] } };
    expect(out.result.content[0]!.text).toBe('{"x":{"\\u0074oken":"[REDACTED]"},"x":1, "n": 1.0}');
  });

  it('property: the stored line reads as the redacted message, however the line was spaced', () => {
    const key = fc.constantFrom('token', 'api_key', 'name', 'a', 'text', 'progressToken');
    const value = jsonValue(key);
    fc.assert(
      fc.property(
        fc.dictionary(key, value, { maxKeys: 4 }),
        fc.constantFrom(undefined, 1, '\t', ' \r '),
        (m, space) => {
          const message = { jsonrpc: '2.0', id: 1, ...m };
          const text = JSON.stringify(message, null, space);
          const stored = r.apply(text, message);
          expect(JSON.parse(stored)).toEqual(JSON.parse(r.apply(JSON.stringify(message), message)));
          // The rest is kept as written: what lies between the redacted values is in the line, in order.
          let at = 0;
          for (const piece of stored.split('"[REDACTED]"')) {
            at = text.indexOf(piece, at);
            expect(at).toBeGreaterThanOrEqual(0);
            at += piece.length;
          }
        },
      ),
      { numRuns: 500 },
    );
  });
});

describe('Redactor on deep JSON', () => {
  it('stores what lies deeper than 1000 levels as redacted, without running out of stack', () => {
    const r = new Redactor({ enabled: true });
    const text = `{"id":1,"result":{"token":"T","deep":${'['.repeat(20_000)}"x"${']'.repeat(20_000)}}}`;
    const out = JSON.parse(r.apply(text, JSON.parse(text))) as { result: { token: string; deep: unknown } };
    expect(out.result.token).toBe('[REDACTED]');
    const deep = JSON.stringify(out.result.deep);
    expect(deep).toMatch(/^\[+"\[REDACTED\]"\]+$/);
    expect(deep.length).toBeLessThan(2020);
  });
});

describe('Redactor.apply: no value under a secret key reaches the db', () => {
  const r = new Redactor({ enabled: true, extraKeys: ['ssn'] });
  const key = fc.oneof(
    fc.constantFrom('token', 'Authorization', 'api_key', 'ssn', 'cookie', 'progressToken', 'name', 'params', 'id'),
    fc.string({ maxLength: 5 }),
  );
  const value = jsonValue(key);
  // Anything may sit beside the envelope: params, result, error, or keys of a peer's own.
  const message = fc
    .tuple(
      fc.record(
        { jsonrpc: fc.constant('2.0'), id: fc.nat(), method: fc.constantFrom('tools/call', 'x') },
        {
          requiredKeys: ['jsonrpc'],
        },
      ),
      fc.dictionary(key, value, { maxKeys: 4 }),
    )
    .map(([envelope, rest]) => ({ ...rest, ...envelope }));

  // Independent of the Redactor: where a secret value would be left.
  const leaks = (v: unknown, top: boolean): boolean => {
    if (v === null || typeof v !== 'object') return false;
    return Object.entries(v).some(([k, w]) => {
      // The envelope's own values are kept; one that is an object can hold secrets like any value.
      if (top && ['jsonrpc', 'id', 'method'].includes(k) && (w === null || typeof w !== 'object')) return false;
      if (!Array.isArray(v) && secret(k)) return w !== '[REDACTED]';
      return leaks(w, false);
    });
  };

  it('walks an envelope member that JSON-RPC does not allow to be an object (an object id)', () => {
    const m = { jsonrpc: '2.0', id: { token: 't', n: 1 }, method: 'x', params: {} };
    expect(apply(r, m)).toEqual({ jsonrpc: '2.0', id: { token: '[REDACTED]', n: 1 }, method: 'x', params: {} });
  });

  it('redacts top-level members too, keeping jsonrpc, id and method as they are', () => {
    expect(apply(r, { jsonrpc: '2.0', id: 1, method: 'x', token: 't', auth: { password: 'p' } })).toEqual({
      jsonrpc: '2.0',
      id: 1,
      method: 'x',
      token: '[REDACTED]',
      auth: { password: '[REDACTED]' },
    });
    fc.assert(
      fc.property(message, (m) => {
        const out = apply(r, m) as Record<string, unknown>;
        expect(leaks(out, true)).toBe(false);
        for (const k of ['jsonrpc', 'id', 'method']) {
          const v = m[k as keyof typeof m] as unknown;
          if (v === null || typeof v !== 'object') expect(out[k]).toEqual(v);
        }
      }),
      { numRuns: 2000 },
    );
  });
});

describe('Redactor on tool schemas: argument names are not secrets, their values may be', () => {
  const r = new Redactor({ enabled: true });
  const toolsList = (inputSchema: unknown) => ({
    jsonrpc: '2.0',
    id: 2,
    result: { tools: [{ name: 'fetch', description: 'Fetch a page', inputSchema }] },
  });

  it('keeps the schema of a `token` / `api_key` / `pageToken` argument in a recorded tools/list (simulate --from needs it)', () => {
    const schema = {
      type: 'object',
      properties: {
        url: { type: 'string', format: 'uri' },
        api_key: { type: 'string', minLength: 20 },
        pageToken: { anyOf: [{ type: 'string' }, { type: 'null' }] },
        auth: { type: 'object', properties: { password: { type: 'string' } }, required: ['password'] },
      },
      required: ['url', 'api_key'],
      additionalProperties: false,
    };
    const m = toolsList(schema);
    const text = JSON.stringify(m);
    // Nothing to redact: stored as it came.
    expect(r.apply(text, m)).toBe(text);
    // The same for an elicitation's requestedSchema and a tool's outputSchema.
    const e = {
      jsonrpc: '2.0',
      id: 3,
      method: 'elicitation/create',
      params: { message: 'm', requestedSchema: schema },
    };
    expect(apply(r, e)).toEqual(e);
    const o = {
      jsonrpc: '2.0',
      id: 4,
      result: { tools: [{ name: 't', inputSchema: { type: 'object' }, outputSchema: schema }] },
    };
    expect(apply(r, o)).toEqual(o);
  });

  it('redacts what a secret-named argument’s schema could hold: default, examples, const, enum, descriptions', () => {
    const m = toolsList({
      type: 'object',
      properties: {
        api_key: {
          type: 'string',
          minLength: 20,
          default: 'sk-live-1',
          examples: ['sk-live-2'],
          description: 'your key, e.g. sk-live-3',
          'x-vendor': { value: 'sk-live-4' },
        },
        token: { enum: ['sk-live-5'], const: 'sk-live-5' },
        secrets: { type: 'object', additionalProperties: { type: 'string', default: 'sk-live-6' } },
        mode: { type: 'string', default: 'fast', examples: [{ password: 'sk-live-7' }] },
        cookie: 'sk-live-8',
      },
      $defs: { Creds: { type: 'object', properties: { password: { type: 'string', default: 'sk-live-9' } } } },
      default: { token: 'sk-live-10' },
    });
    const out = apply(r, m);
    expect(JSON.stringify(out)).not.toMatch(/sk-live/);
    const schema = (out as { result: { tools: [{ inputSchema: Record<string, Record<string, unknown>> }] } }).result
      .tools[0].inputSchema;
    expect(schema.properties!.api_key).toEqual({
      type: 'string',
      minLength: 20,
      default: '[REDACTED]',
      examples: '[REDACTED]',
      description: '[REDACTED]',
      'x-vendor': '[REDACTED]',
    });
    expect(schema.properties!.secrets).toEqual({
      type: 'object',
      additionalProperties: { type: 'string', default: '[REDACTED]' },
    });
    // A non-secret argument keeps its own default; only secrets inside its values go.
    expect(schema.properties!.mode).toEqual({
      type: 'string',
      default: 'fast',
      examples: [{ password: '[REDACTED]' }],
    });
    expect(schema.properties!.cookie).toBe('[REDACTED]');
  });

  it('property: inside a schema, no string under a secret-named argument survives but shape keywords’ values', () => {
    const name = fc.constantFrom('token', 'api_key', 'password', 'url', 'mode', 'Cookie');
    const keyword = fc.constantFrom('type', 'default', 'examples', 'const', 'enum', 'description', 'minLength', 'x');
    const schema = fc.letrec<{ s: unknown }>((tie) => ({
      s: fc.oneof(
        { depthSize: 'small' },
        fc.string({ maxLength: 6 }).map((s) => `v:${s}`),
        fc.boolean(),
        fc.dictionary(
          keyword,
          fc.oneof(
            fc.string({ maxLength: 6 }).map((s) => `v:${s}`),
            fc.integer(),
          ),
          { maxKeys: 3 },
        ),
        fc.record({ properties: fc.dictionary(name, tie('s'), { maxKeys: 3 }) }),
        fc.record({ items: tie('s') }),
        fc.record({ anyOf: fc.array(tie('s'), { maxLength: 2 }) }),
      ),
    })).s;
    // Where a generated value (`v:…`) would be left under a secret-named argument.
    const leaks = (v: unknown, secret: boolean): boolean => {
      if (typeof v === 'string') return secret && v.startsWith('v:');
      if (v === null || typeof v !== 'object') return false;
      if (Array.isArray(v)) return v.some((x) => leaks(x, secret));
      return Object.entries(v).some(([k, w]) => {
        if (k === 'properties' && w !== null && typeof w === 'object' && !Array.isArray(w))
          return Object.entries(w).some(([n, x]) => leaks(x, secret || secret_(n)));
        if (secret && k === 'type') return false; // a shape keyword
        return leaks(w, secret);
      });
    };
    const secret_ = (n: string) => n !== 'url' && n !== 'mode';
    fc.assert(
      fc.property(schema, (s) => {
        const out = apply(r, toolsList({ type: 'object', properties: { token: s, url: s } })) as {
          result: { tools: [{ inputSchema: unknown }] };
        };
        expect(leaks(out.result.tools[0].inputSchema, false)).toBe(false);
      }),
      { numRuns: 1000 },
    );
  });
});
