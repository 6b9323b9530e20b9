import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  COMPLEX,
  INVALID,
  envelopeIsRequest,
  envelopeIsResponse,
  scanEnvelope,
  type Envelope,
} from '../../proxy/envelope.js';
import { Frame, SCAN_FROM, isRequest, isResponse, type RpcMessage } from '../../proxy/frame.js';
import { messageFacts } from '../../store/spool.js';

/** What JSON.parse says of a line: not JSON, or the message. */
function parse(text: string): { ok: false } | { ok: true; value: unknown } {
  try {
    return { ok: true, value: JSON.parse(text) as unknown };
  } catch {
    return { ok: false };
  }
}

/** The scanner agrees with JSON.parse on validity, and on everything it reports. */
function agrees(text: string): void {
  const scanned = scanEnvelope(text);
  const parsed = parse(text);
  if (scanned === INVALID) {
    expect(parsed.ok, `scanner rejects valid JSON: ${text}`).toBe(false);
    return;
  }
  expect(parsed.ok, `scanner accepts invalid JSON: ${text}`).toBe(true);
  if (scanned === COMPLEX || !parsed.ok) return;
  const m = parsed.value as RpcMessage;
  const e: Envelope = scanned;
  expect({ method: e.method, id: e.idText }).toEqual(messageFacts(m));
  expect(envelopeIsRequest(e)).toBe(isRequest(m));
  expect(envelopeIsResponse(e)).toBe(isResponse(m));
  expect(Object.is(e.id, m.id) || (e.id === 0 && m.id === 0)).toBe(true);
}

const key = fc.oneof(
  { weight: 4, arbitrary: fc.constantFrom('jsonrpc', 'id', 'method', 'params', 'result', 'error') },
  fc.constantFrom('i\\u0064', 'meth\\u006fd', 'ID', 'résult'),
  fc.string({ maxLength: 4 }),
);
const id = fc.oneof(
  fc.string({ maxLength: 6 }),
  fc.integer(),
  fc.double(),
  fc.constantFrom('-0', '1.0', '1e400', '0.5e-3', '"a\\"b"', '"\\u0031"', 'true', '{"x":1}', '[]', 'null'),
);
/** A JSON-RPC-ish object written by hand: duplicate keys, escapes, odd ids and spacing. */
const message = fc
  .array(fc.tuple(key, fc.oneof(id, fc.jsonValue({ maxDepth: 3 })), fc.constantFrom('', ' ', '\n\t', '  ')), {
    maxLength: 6,
  })
  .map((entries) => {
    const body = entries.map(([k, v, ws]) => {
      const value = typeof v === 'string' && /^[-\d"tn{[]/.test(v) && parse(v).ok ? v : JSON.stringify(v);
      const name = k.includes('\\') ? `"${k}"` : JSON.stringify(k);
      return `${ws}${name}${ws}:${ws}${value ?? 'null'}`;
    });
    return `{${body.join(',')}}`;
  });

describe('scanEnvelope', () => {
  it('reads JSON-RPC messages exactly as JSON.parse does', () => {
    fc.assert(fc.property(message, agrees), { numRuns: 5000 });
  });

  it('tells JSON from not-JSON as JSON.parse does, on any value and on broken lines', () => {
    fc.assert(
      fc.property(fc.jsonValue(), (v) => agrees(JSON.stringify(v))),
      { numRuns: 2000 },
    );
    // Lines cut, or with a character put in or taken out, anywhere.
    const mutated = fc
      .tuple(
        message,
        fc.nat(),
        fc.constantFrom('cut', 'insert', 'delete'),
        fc.constantFrom(...'{}[]",:\\ 0-.eE+tfnu\u0001x'),
      )
      .map(([text, at, how, c]) => {
        const i = at % (text.length + 1);
        if (how === 'cut') return text.slice(0, i);
        if (how === 'insert') return text.slice(0, i) + c + text.slice(i);
        return text.slice(0, i) + text.slice(i + 1);
      });
    fc.assert(fc.property(mutated, agrees), { numRuns: 10000 });
    fc.assert(fc.property(fc.string({ unit: 'binary', maxLength: 20 }), agrees), { numRuns: 3000 });
  });

  it('leaves batches, bare values and escaped names to JSON.parse', () => {
    expect(scanEnvelope('[{"id":1,"method":"ping"}]')).toBe(COMPLEX);
    expect(scanEnvelope(' 5 ')).toBe(COMPLEX);
    expect(scanEnvelope('{"i\\u0064":1}')).toBe(COMPLEX);
    expect(scanEnvelope('{"id":{"a":1}}')).toBe(COMPLEX);
    expect(scanEnvelope('{"id":1,"result":{}')).toBe(INVALID);
    // Deep nesting (valid, and JSON.parse reads it): no stack overflow, JSON.parse decides.
    const deep = `{"jsonrpc":"2.0","id":1,"result":{"a":${'['.repeat(20_000)}${']'.repeat(20_000)}}}`;
    expect(scanEnvelope(deep)).toBe(COMPLEX);
    expect(scanEnvelope(`{"id":1,"result":${'['.repeat(20_000)}}`)).toBe(COMPLEX);
    expect(scanEnvelope('')).toBe(INVALID);
    expect(scanEnvelope('{"jsonrpc":"2.0","id":7,"result":{"content":[]}}')).toEqual({
      method: null,
      hasMethod: false,
      id: 7,
      idText: '7',
      answer: true,
    });
  });
});

describe('Frame.heads', () => {
  /** The frame of a line as it arrives (its terminator included). */
  const frame = (text: string) => new Frame('s2c', Buffer.from(`${text}\n`), 0);

  it('reads a short line (parsed) and a long one (scanned) alike, as JSON.parse does', () => {
    const pad = ' '.repeat(SCAN_FROM);
    fc.assert(
      fc.property(message, (text) => {
        const short = frame(text).heads();
        const long = frame(pad + text).heads();
        expect(long).toEqual(short);
        const parsed = parse(text);
        if (!parsed.ok) {
          expect(short).toBe(INVALID);
          return;
        }
        const m = parsed.value as RpcMessage;
        expect(short).toHaveLength(1);
        const [e] = short as Envelope[];
        expect({ method: e!.method, id: e!.idText }).toEqual(messageFacts(m));
        expect(envelopeIsRequest(e!)).toBe(isRequest(m));
        expect(envelopeIsResponse(e!)).toBe(isResponse(m));
      }),
      { numRuns: 300 },
    );
  });

  it('reads a batch member by member, and knows a line that is not JSON', () => {
    const batch = '[{"jsonrpc":"2.0","id":1,"result":{}},{"jsonrpc":"2.0","method":"notifications/x"}]';
    for (const text of [batch, ' '.repeat(SCAN_FROM) + batch]) {
      expect(frame(text).heads()).toEqual([
        { method: null, hasMethod: false, id: 1, idText: '1', answer: true },
        { method: 'notifications/x', hasMethod: true, id: undefined, idText: null, answer: false },
      ]);
    }
    expect(frame('Starting server...').heads()).toBe(INVALID);
    expect(frame(`{"id":1,"result":"${'x'.repeat(SCAN_FROM)}"`).heads()).toBe(INVALID);
  });
});
