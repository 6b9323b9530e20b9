import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { idToken, lossyId, memberTexts, RawJson } from '../../proxy/exactId.js';
import { Frame } from '../../proxy/frame.js';
import { PendingRequests } from '../../proxy/pendingRequests.js';

const BIG = '9007199254740993'; // 2^53 + 1: JSON.parse reads 9007199254740992

describe('idToken', () => {
  it("finds a message's id token as JSON.parse reads the id: the last one, escaped keys unescaped, nested ones not", () => {
    expect(idToken(`{"jsonrpc":"2.0","id":${BIG},"method":"ping"}`, -1)).toBe(BIG);
    expect(idToken(`{"params":{"id":1,"x":[{"id":2}]},"id" : -1.50e+3 }`, -1)).toBe('-1.50e+3');
    expect(idToken(`{"id":1,"id":${BIG}}`, -1)).toBe(BIG);
    expect(idToken(`{"id":${BIG},"id":"a"}`, -1)).toBeUndefined(); // the last id is a string
    expect(idToken(`{"\\u0069d":${BIG}}`, -1)).toBe(BIG);
    expect(idToken(`{"id":{"id":${BIG}}}`, -1)).toBeUndefined();
    // A batch: the member's own id, whatever the members before it hold.
    const batch = `[1,{"id":2,"p":[{"id":3}]},[{"id":4}],{"method":"x","id":${BIG}},{"id":6}]`;
    expect([0, 1, 2, 3, 4].map((k) => idToken(batch, k))).toEqual([undefined, '2', undefined, BIG, '6']);
    expect(idToken(batch, -1)).toBeUndefined();
    expect(idToken(`{"id":${BIG}}`, 0)).toBeUndefined();
    // No nesting is too deep for it (it scans tokens).
    const deep = `${'['.repeat(50_000)}${']'.repeat(50_000)}`;
    expect(idToken(`[{"a":${deep},"id":${BIG}}]`, 0)).toBe(BIG);
  });

  it('agrees with JSON.parse on any object holding a numeric id', () => {
    const token = fc.oneof(
      fc.bigInt({ min: -(10n ** 30n), max: 10n ** 30n }).map(String),
      fc.double({ noNaN: true, noDefaultInfinity: true }).map((d) => JSON.stringify(d)),
      fc.constantFrom('1.0', '1e3', '-0', '1.10', '12345678901234567890.5', '1E-2'),
    );
    fc.assert(
      fc.property(fc.dictionary(fc.string(), fc.jsonValue()), token, fc.nat(), (obj, id, at) => {
        const members = Object.entries(obj).map(([k, v]) => `${JSON.stringify(k)}:${JSON.stringify(v)}`);
        members.splice(at % (members.length + 1), 0, `"id":${id}`);
        const line = `{${members.join(',')}}`;
        const parsed = (JSON.parse(line) as { id: unknown }).id;
        const found = idToken(line, -1);
        if (typeof parsed === 'number') expect(Number(found)).toBe(parsed);
        else expect(found).toBeUndefined();
        expect(idToken(`[null,${line}]`, 1)).toBe(found);
      }),
    );
  });
});

describe('memberTexts', () => {
  it('gives each member of a batch as written, whatever its spacing; nothing for what is not an array', () => {
    expect(memberTexts('[ {"a": 1.0} ,\t2e1,"x,]",[[]] , {"b":[{},{"c":"]"}]}]')).toEqual([
      '{"a": 1.0}',
      '2e1',
      '"x,]"',
      '[[]]',
      '{"b":[{},{"c":"]"}]}',
    ]);
    expect(memberTexts('[]')).toEqual([]);
    expect(memberTexts('{"a":[1]}')).toBeUndefined();
  });

  it('property: the members read as JSON.parse reads the batch', () => {
    fc.assert(
      fc.property(fc.array(fc.jsonValue(), { maxLength: 5 }), fc.constantFrom(undefined, 1, '\t'), (batch, space) => {
        const texts = memberTexts(JSON.stringify(batch, null, space))!;
        expect(texts.map((t) => JSON.parse(t) as unknown)).toEqual(JSON.parse(JSON.stringify(batch)));
      }),
    );
  });
});

describe('RawJson in Frame.of', () => {
  it('is written as its text; the frame then reads its text back as the other side will', () => {
    const frame = Frame.of('s2c', [{ id: new RawJson(BIG), error: { message: 'x' } }, { id: 1 }], 0);
    expect(frame.text()).toBe(`[{"id":${BIG},"error":{"message":"x"}},{"id":1}]`);
    expect(frame.json()).toEqual([{ id: 9007199254740992, error: { message: 'x' } }, { id: 1 }]);
    // Any JSON text, escapes and all, and more than one.
    const text = '{"a":"x\\"y\\u0000","b":[1e400]}';
    expect(Frame.of('c2s', { x: new RawJson(text), y: [new RawJson('-0')] }, 0).text()).toBe(`{"x":${text},"y":[-0]}`);
    // Text that looks like the placeholder, but without its random part, stays as it is.
    const look = '\u0000mcp-replay-raw-0123456789abcdef:1';
    expect(Frame.of('s2c', { id: 1, text: look }, 0).text()).toBe(JSON.stringify({ id: 1, text: look }));
  });

  it("Frame.exactId gives a lossy id's token, of the message or of a batch member, and any other id as it is", () => {
    const one = new Frame('c2s', Buffer.from(`{"jsonrpc":"2.0","id":${BIG},"method":"ping"}\n`), 0);
    expect(one.exactId(one.json() as { id: unknown })).toEqual(new RawJson(BIG));
    const batch = new Frame('c2s', Buffer.from(`[{"id":"7"},{"id":1.10},{"id":12}]\n`), 0);
    const members = batch.json() as { id: unknown }[];
    expect(members.map((m) => batch.exactId(m))).toEqual(['7', new RawJson('1.10'), 12]);
    expect(lossyId(9007199254740992)).toBe(true);
    expect(lossyId(Number.MAX_SAFE_INTEGER)).toBe(false);
  });
});

describe('PendingRequests', () => {
  it('keeps two ids a double cannot tell apart, and settles either answer', () => {
    const p = new PendingRequests();
    const a = new RawJson('9007199254740993');
    const b = new RawJson('9007199254740992');
    p.sent(2 ** 53, a);
    p.sent(2 ** 53, b);
    p.sent(1);
    expect(p.size).toBe(3);
    // A server that read both as 2^53 answers 2^53 twice: each answer settles one of them.
    p.answered(2 ** 53, b);
    expect(p.size).toBe(2);
    expect(p.drain()).toEqual([a, 1]);
    p.sent(2 ** 53, a);
    p.sent(2 ** 53, b);
    p.answered(2 ** 53, new RawJson('9.007199254740992e15'));
    p.answered(2 ** 53, b);
    expect(p.size).toBe(0);
    expect(p.drain()).toEqual([]);
  });
});
