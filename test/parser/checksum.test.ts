import { describe, expect, it } from 'vitest';
import { parseRestrictedList } from '../../src/parser/index.ts';

const LIST = `<table><tbody><tr><th><p>Ticker</p></th><th><p>Name</p></th></tr>
<tr><td><p>AAPL</p></td><td><p>Apple</p></td></tr><tr><td><p>MSFT; GOOG</p></td><td><p>Two</p></td></tr>
<tr><td><p>AAPL</p></td><td><p>Apple again</p></td></tr></tbody></table>`;
/** LIST yields 3 distinct instruments: AAPL (listed twice, merged), MSFT and GOOG (one cell, split). */
const FOUND = 3;

const checksumOf = (storage: string) => {
  const result = parseRestrictedList({ pageId: '163841', storage });
  if (!result.ok) throw new Error(result.error.message);
  return { checksum: result.checksum, warnings: result.warnings };
};

describe('the page checksum (contract, "Page checksum")', () => {
  it.each([
    ['<p>Instrument count: 3</p>', 'Instrument count: 3'],
    ['<p>Total instruments: 3</p>', 'Total instruments: 3'],
    ['<p>Expected count: 3</p>', 'Expected count: 3'],
    ['<p>instrument count=3</p>', 'instrument count=3'],
    ['<p>TOTAL INSTRUMENTS = 3</p>', 'TOTAL INSTRUMENTS = 3'],
    ['<p><strong>Expected</strong> count :&nbsp;3</p>', 'Expected count : 3'],
  ])('reads %s, in any case, with : or =', (statement, text) => {
    expect(checksumOf(statement + LIST).checksum).toEqual({
      expected: 3,
      found: FOUND,
      holds: true,
      text,
      where: 'a paragraph',
    });
  });

  it.each([
    ['a heading', '<h3>Instrument count: 3</h3>'],
    [
      'a paragraph',
      '<ac:structured-macro ac:name="expand"><ac:rich-text-body><p>Instrument count: 3</p></ac:rich-text-body></ac:structured-macro>',
    ],
    [
      'a paragraph',
      '<ac:layout><ac:layout-section ac:type="single"><ac:layout-cell><p>Instrument count: 3</p></ac:layout-cell></ac:layout-section></ac:layout>',
    ],
    [
      'a cell of table 1',
      '<table><tbody><tr><td><p>Owner: Compliance</p></td><td><p>Instrument count: 3</p></td></tr></tbody></table>',
    ],
    [
      'the Page Properties',
      '<ac:structured-macro ac:name="details"><ac:rich-text-body><table><tbody><tr><th><p>Instrument count</p></th><td><p>3</p></td></tr></tbody></table></ac:rich-text-body></ac:structured-macro>',
    ],
  ])('finds it in %s', (where, statement) => {
    expect(checksumOf(statement + LIST).checksum).toMatchObject({ expected: 3, holds: true, where });
  });

  it('counts what the page yields on its own: a multi-ticker cell split, duplicates merged', () => {
    expect(checksumOf('<p>Instrument count: 4</p>' + LIST).checksum).toMatchObject({
      expected: 4,
      found: 3,
      holds: false,
    });
  });

  it('reads a count written with thousands separators', () => {
    expect(checksumOf('<p>Instrument count: 1,203</p>' + LIST).checksum).toMatchObject({
      expected: 1203,
      holds: false,
    });
  });

  it.each([
    [
      'inside the list table',
      LIST.replace('<td><p>Apple</p></td>', '<td><p>Instrument count: 9</p></td>'),
      '',
    ],
    ['struck through', LIST, '<p><s>Instrument count: 9</s></p>'],
    [
      'in a code macro',
      LIST,
      '<ac:structured-macro ac:name="code"><ac:plain-text-body><![CDATA[Instrument count: 9]]></ac:plain-text-body></ac:structured-macro>',
    ],
    ['in a sentence', LIST, '<p>The instrument count: 9 is checked by the sync.</p>'],
    ['a list item', LIST, '<ul><li>Instrument count: 9</li></ul>'],
  ])('ignores a count %s', (_where, list, extra) => {
    expect(checksumOf(extra + list).checksum).toBeUndefined();
  });

  it('warns of a count it cannot read, so that Compliance does not believe it checked', () => {
    const { checksum, warnings } = checksumOf('<p>Instrument count: about 40</p>' + LIST);
    expect(checksum).toBeUndefined();
    expect(warnings).toContainEqual(
      expect.objectContaining({
        code: 'checksum_unreadable',
        raw: 'Instrument count: about 40',
        page: '163841',
      }),
    );
  });

  it('the same count twice is one checksum; two different counts are a parse error', () => {
    expect(
      checksumOf('<p>Instrument count: 3</p><h2>Total instruments = 3</h2>' + LIST).checksum,
    ).toMatchObject({
      expected: 3,
      holds: true,
    });
    const result = parseRestrictedList({
      pageId: '163841',
      title: 'Restricted list',
      storage: '<p>Instrument count: 3</p><h2>Total instruments = 4</h2>' + LIST,
    });
    expect(result).toMatchObject({
      ok: false,
      error: {
        code: 'parse_error',
        message:
          'The page "Restricted list" (163841) cannot be checked: it states two different instrument counts, 3 ("Instrument count: 3", in a paragraph) and 4 ("Total instruments = 4", in a heading); keep one.',
      },
    });
  });

  it('a page without a checksum parses as it always did', () => {
    expect(checksumOf(LIST)).toEqual({ checksum: undefined, warnings: expect.any(Array) });
  });
});
