import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { displayWidth, row, table, visible, visibleName } from '../../engine/visible.js';
import { argsSummary } from '../../tui/approvals/format.js';

const HIDDEN = /[\p{Cc}\p{Cf}\p{Zl}\p{Zp}]/u;

describe('visible: text a human reads to approve a call', () => {
  it('shows what would hide or reorder text, as escapes, and keeps the rest', () => {
    // "Trojan Source": a right-to-left override makes `rm -rf /` read otherwise.
    expect(visible('ls \u202e/ fr- mr')).toBe('ls \\u202e/ fr- mr');
    expect(visible('a\u200bb\u2066c\u2069\ufeff\u00ad\u0085\u2028')).toBe(
      'a\\u200bb\\u2066c\\u2069\\ufeff\\u00ad\\u0085\\u2028',
    );
    expect(visible('\u{e0001}tag')).toBe('\\u{e0001}tag');
    expect(visible('café, 東京, 😀')).toBe('café, 東京, 😀');
  });

  it('property: nothing hidden is left, and text with nothing hidden is kept as it is', () => {
    fc.assert(
      fc.property(fc.string({ unit: 'binary' }), (s) => {
        const out = visible(s);
        expect(HIDDEN.test(out)).toBe(false);
        if (!HIDDEN.test(s)) expect(out).toBe(s);
      }),
      { numRuns: 2000 },
    );
  });

  it('writes a tool name’s non-ASCII as escapes: a look-alike `еcho` is not `echo`', () => {
    expect(visibleName('echo')).toBe('echo');
    expect(visibleName('\u0435cho')).toBe('\\u0435cho');
    expect(visibleName('echo\u200b')).toBe('echo\\u200b');
  });

  it('argsSummary shows a bidi override in the arguments of a call waiting for approval', () => {
    expect(argsSummary({ cmd: 'ls \u202e/ fr- mr' })).toBe('{"cmd":"ls \\u202e/ fr- mr"}');
    expect(argsSummary({ s: 'x'.repeat(100) }, 12)).toBe('{"s":"xxxxx…');
  });
});

describe('the elicitation question of a call waiting for approval', () => {
  it('shows a bidi override in the arguments and a look-alike tool name as escapes', async () => {
    const { ElicitationAsker } = await import('../../proxy/enforce/approvalAskers.js');
    const sent: { params: { message: string } }[] = [];
    const asker = new ElicitationAsker((m) => sent.push(m as (typeof sent)[0]), 50);
    const outcome = await asker.ask({
      tool: '\u0435cho',
      args: { cmd: 'ls \u202e/ fr- mr' },
      grant: 'g',
      reason: 'needs a human',
      rule: 'tools.*',
      sessionId: null,
      seq: null,
    });
    expect(outcome.approved).toBe(false); // no answer within 50 ms
    expect(sent[0]!.params.message).toBe(
      'Allow the tool call \\u0435cho {"cmd":"ls \\u202e/ fr- mr"}? (needs a human; tools.*)',
    );
  });
});

describe('table and row: columns line up on a terminal', () => {
  it('pads by display width: CJK and emoji take two columns (padEnd counted them as one or two UTF-16 units)', () => {
    const lines = table(
      ['TOOL', 'N'],
      [
        ['日本語', '1'],
        ['🚀x', '2'],
        ['plain', '3'],
      ],
    );
    expect(lines.map((l) => displayWidth(l.slice(0, l.lastIndexOf(' ') + 1)))).toEqual([8, 8, 8, 8]);
    expect(row(['日本', 'x'], [6, 1])).toBe('日本    x');
  });
});
