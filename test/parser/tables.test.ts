/** Rule 1 (which tables are read), rule 2 (header, title, repeated header, section rows, spans, duplicate columns), rule 12. */
import { describe, expect, it } from 'vitest';
import { parseRestrictedList } from '../../src/parser/index.ts';
import { APPLE, codes, instrument, listTable, MICROSOFT, parseOk, td, th, tr, warningIn } from './helpers.ts';

const LIST = listTable(['Ticker', 'ISIN', 'Reason'], [['AAPL', APPLE, 'Inside information']]);
const AAPL = instrument({ ticker: 'AAPL', isin: APPLE, reason: 'Inside information' });

const macro = (name: string, body: string): string =>
  `<ac:structured-macro ac:name="${name}" ac:schema-version="1" ac:macro-id="0b4e6f3c"><ac:parameter ac:name="title">Details</ac:parameter><ac:rich-text-body>${body}</ac:rich-text-body></ac:structured-macro>`;

describe('rule 1: every table of the page is looked at', () => {
  it.each([
    'expand',
    'section',
    'column',
    'panel',
    'info',
    'note',
    'excerpt',
    'details',
    'table-filter',
    'ui-tab',
  ])('reads a table inside a %s macro', (name) => {
    expect(parseOk(macro(name, LIST)).instruments).toEqual([AAPL]);
  });

  it('reads a table inside section > column macros and inside a layout', () => {
    const nested = macro('section', macro('column', LIST));
    expect(parseOk(nested).instruments).toEqual([AAPL]);
    const layout = `<ac:layout><ac:layout-section ac:type="two_equal"><ac:layout-cell><p>Intro</p></ac:layout-cell><ac:layout-cell>${LIST}</ac:layout-cell></ac:layout-section></ac:layout>`;
    expect(parseOk(layout).instruments).toEqual([AAPL]);
  });

  it('reads a table inside a legacy ac:macro', () => {
    const legacy = `<ac:macro ac:name="expand"><ac:rich-text-body>${LIST}</ac:rich-text-body></ac:macro>`;
    expect(parseOk(legacy).instruments).toEqual([AAPL]);
  });

  it('reads every list table of the page, and a nested table on its own', () => {
    const second = listTable(['Ticker', 'Reason'], [['MSFT', 'Deal']]);
    const outer = `<table><tbody>${tr(th('Notes'))}${tr(`<td>${second}</td>`)}</tbody></table>`;
    const { instruments } = parseOk(LIST + outer);
    expect(instruments.map((found) => found.ticker)).toEqual(['AAPL', 'MSFT']);
  });

  it('never reads a table out of code or noformat macro text', () => {
    for (const name of ['code', 'noformat']) {
      const code = `<ac:structured-macro ac:name="${name}"><ac:plain-text-body><![CDATA[${LIST}]]></ac:plain-text-body></ac:structured-macro>`;
      const result = parseRestrictedList({ pageId: 'p', storage: code });
      expect(result.ok, name).toBe(false);
      // Even markup written without CDATA inside a code macro is code.
      const bare = `<ac:structured-macro ac:name="${name}"><ac:plain-text-body>${LIST}</ac:plain-text-body></ac:structured-macro>`;
      expect(parseRestrictedList({ pageId: 'p', storage: bare }).ok, `${name} without CDATA`).toBe(false);
    }
  });

  it('does not read a table inside an html macro, and says so', () => {
    const html = `<ac:structured-macro ac:name="html"><ac:plain-text-body><![CDATA[${listTable(['Ticker'], [['MSFT']])}]]></ac:plain-text-body></ac:structured-macro>`;
    const { instruments, warnings } = parseOk(LIST + html);
    expect(instruments).toEqual([AAPL]);
    expect(warnings).toEqual([warningIn(2, { code: 'html_macro_table', row: null, raw: 'Ticker / MSFT' })]);
  });

  it('does not read an html macro table written as bare markup rather than CDATA', () => {
    const table = listTable(['Ticker'], [['MSFT']]);
    for (const body of [
      `<ac:plain-text-body>${table}</ac:plain-text-body>`,
      `<ac:rich-text-body>${table}</ac:rich-text-body>`,
    ]) {
      const html = `<ac:structured-macro ac:name="html">${body}</ac:structured-macro>`;
      const { instruments, warnings } = parseOk(LIST + html);
      expect(instruments, body).toEqual([AAPL]);
      expect(codes(warnings), body).toEqual(['html_macro_table']);
    }
  });

  it('is a parse error when the only list table is inside an html macro', () => {
    const html = `<ac:structured-macro ac:name="html"><ac:plain-text-body><![CDATA[${LIST}]]></ac:plain-text-body></ac:structured-macro>`;
    const result = parseRestrictedList({ pageId: 'p', storage: html });
    expect(result.ok).toBe(false);
    expect(codes(result.warnings)).toEqual(['html_macro_table']);
  });

  it('numbers tables in page order, html macro tables included', () => {
    const unrelated = listTable(['Owner', 'Phone'], [['Compliance', '1234']]);
    const html = `<ac:structured-macro ac:name="html"><ac:plain-text-body><![CDATA[<table><tr><td>x</td></tr></table>]]></ac:plain-text-body></ac:structured-macro>`;
    const badRow = listTable(['Ticker', 'ISIN'], [['', 'XS123']]);
    const { warnings } = parseOk(unrelated + html + badRow);
    expect(warnings.map((found) => [found.code, found.table])).toEqual([
      ['html_macro_table', 2],
      ['invalid_isin', 3],
      ['row_without_identifier', 3],
    ]);
  });

  it('numbers a nested table after the table holding it', () => {
    const inner = listTable(['Ticker', 'ISIN'], [['IBM', 'bad']]);
    const outer = `<table><tbody>${tr(th('Ticker'), th('ISIN'))}${tr(td('MSFT'), `<td>${inner}</td>`)}${tr(td(''), td('bad'))}</tbody></table>`;
    const { warnings } = parseOk(outer);
    expect(warnings.map((found) => [found.code, found.table, found.row])).toEqual([
      ['invalid_isin', 1, 3],
      ['row_without_identifier', 1, 3],
      ['invalid_isin', 2, 2],
    ]);
  });

  it('treats a table with a change-log column as a change log, with a warning', () => {
    for (const column of [
      'Action',
      'Change',
      'Change type',
      'Event',
      'Changed by',
      'Modified by',
      'Version',
    ]) {
      const log = listTable(['Date', 'Ticker', column], [['1 Mar 2026', 'MSFT', 'x']]);
      const { instruments, warnings } = parseOk(LIST + log);
      expect(instruments, column).toEqual([AAPL]);
      expect(warnings, column).toEqual([
        expect.objectContaining({
          code: 'change_log_table',
          table: 2,
          row: 1,
          column,
          raw: `Date | Ticker | ${column}`,
        }),
      ]);
    }
  });

  it('ignores unrelated tables silently', () => {
    const unrelated = listTable(['Owner', 'Phone'], [['Compliance', '1234']]);
    expect(parseOk(unrelated + LIST).warnings).toEqual([]);
  });

  it('warns about a table whose header is found too low', () => {
    const titles = [1, 2, 3, 4, 5].map((n) => tr(td(`Note ${n}`))).join('');
    const low = `<table><tbody>${titles}${tr(th('Ticker'), th('Reason'))}${tr(td('MSFT'), td('x'))}</tbody></table>`;
    const { instruments, warnings } = parseOk(LIST + low);
    expect(instruments).toEqual([AAPL]);
    expect(warnings).toEqual([
      expect.objectContaining({ code: 'header_not_used', table: 2, row: 6, raw: 'Ticker | Reason' }),
    ]);
  });

  it('warns about a "Column | Meaning" legend naming the Ticker column, and never reads it as a list', () => {
    const legend = listTable(
      ['Column', 'Meaning'],
      [
        ['Ticker', 'Bloomberg ticker'],
        ['ISIN', 'ISO 6166 code'],
      ],
    );
    const { instruments, warnings } = parseOk(LIST + legend);
    expect(instruments).toEqual([AAPL]);
    expect(warnings).toEqual([expect.objectContaining({ code: 'header_not_used', table: 2, row: 2 })]);
  });
});

describe('rule 2: the header row', () => {
  it('is the first of the first five rows made of <th> that names a ticker or ISIN column', () => {
    const table = `<table><tbody>${tr(th('Restricted list — equities'))}${tr(th('Ticker'), th('Reason'))}${tr(td('MSFT'), td('Deal'))}</tbody></table>`;
    const { instruments, warnings } = parseOk(table);
    expect(instruments).toEqual([instrument({ ticker: 'MSFT', reason: 'Deal' })]);
    expect(warnings).toEqual([]);
  });

  it('may sit in <thead> with <td> cells', () => {
    const table = `<table><thead><tr><td colspan="2">Restricted list</td></tr><tr><td>Ticker</td><td>Reason</td></tr></thead><tbody>${tr(td('MSFT'), td('Deal'))}</tbody></table>`;
    const { instruments, warnings } = parseOk(table);
    expect(instruments).toEqual([instrument({ ticker: 'MSFT', reason: 'Deal' })]);
    expect(warnings).toEqual([
      expect.objectContaining({ code: 'title_row_above_header', row: 1, raw: 'Restricted list' }),
    ]);
  });

  it('is the fifth row at the latest', () => {
    const titles = [1, 2, 3, 4].map((n) => tr(th(`Heading ${n}`))).join('');
    const table = `<table><tbody>${titles}${tr(th('Ticker'))}${tr(td('MSFT'))}</tbody></table>`;
    expect(parseOk(table).instruments).toEqual([instrument({ ticker: 'MSFT' })]);
  });

  it('falls back to a first row of <td> cells naming a ticker or ISIN column', () => {
    const table = `<table><tbody>${tr(td('Ticker'), td('Reason'))}${tr(td('MSFT'), td('Deal'))}</tbody></table>`;
    expect(parseOk(table).instruments).toEqual([instrument({ ticker: 'MSFT', reason: 'Deal' })]);
  });

  it('warns about a non-empty title row of <td> cells above the header, and reads on', () => {
    const table = `<table><tbody>${tr(td('Restricted instruments — updated daily'))}${tr(th('Ticker'))}${tr(td('MSFT'))}</tbody></table>`;
    const { instruments, warnings } = parseOk(table);
    expect(instruments).toEqual([instrument({ ticker: 'MSFT' })]);
    expect(warnings).toEqual([
      warningIn(1, { code: 'title_row_above_header', row: 1, raw: 'Restricted instruments — updated daily' }),
    ]);
  });

  it('skips repeated header rows, also when they leave cells empty', () => {
    const table = listTable(
      ['Ticker', 'ISIN', 'Reason'],
      [
        ['AAPL', APPLE, 'x'],
        ['Ticker', 'ISIN', 'Reason'],
        ['Ticker', 'ISIN', ''],
        ['MSFT', MICROSOFT, 'y'],
      ],
    );
    const { instruments, warnings } = parseOk(table);
    expect(instruments.map((found) => found.ticker)).toEqual(['AAPL', 'MSFT']);
    expect(warnings).toEqual([]);
  });

  it('skips section rows: one cell spanning two or more columns', () => {
    const section = `<tr><th colspan="3"><p>Bonds</p></th></tr><tr><td colspan="2">AAPL</td></tr>`;
    const table = `<table><tbody>${tr(th('Ticker'), th('ISIN'), th('Reason'))}${section}${tr(td('MSFT'), td(MICROSOFT), td('y'))}</tbody></table>`;
    const { instruments, warnings } = parseOk(table);
    expect(instruments.map((found) => found.ticker)).toEqual(['MSFT']);
    expect(warnings).toEqual([]);
  });

  it('reads a second header-like row below the header as data, with a warning', () => {
    const table = `<table><tbody>${tr(th('Ticker'), th('Reason'))}${tr(th('ISIN'), th('Issuer'))}${tr(td('MSFT'), td('Deal'))}</tbody></table>`;
    const { instruments, warnings } = parseOk(table);
    expect(instruments.map((found) => found.ticker)).toEqual(['ISIN', 'MSFT']);
    expect(warnings).toEqual([
      expect.objectContaining({ code: 'header_like_data_row', row: 2, raw: 'ISIN | Issuer' }),
    ]);
  });

  it('reads a row of <th> cells below the header as data', () => {
    const table = `<table><tbody>${tr(th('Ticker'), th('Reason'))}${tr(th('MSFT'), td('Deal'))}</tbody></table>`;
    expect(parseOk(table).instruments).toEqual([instrument({ ticker: 'MSFT', reason: 'Deal' })]);
  });

  it('lets a colspan cell cover several columns', () => {
    const table = `<table><tbody>${tr(th('Ticker'), th('Name'), th('Reason'), th('Type'))}<tr><td>MSFT</td><td colspan="2">Microsoft</td><td>Buy only</td></tr></tbody></table>`;
    expect(parseOk(table).instruments).toEqual([
      instrument({ ticker: 'MSFT', name: 'Microsoft', reason: 'Microsoft', restriction_type: 'buy_only' }),
    ]);
  });

  it('gives a rowspan data cell value to every row it spans', () => {
    const table =
      `<table><tbody>${tr(th('Reason'), th('Ticker'), th('Type'))}` +
      `<tr><td rowspan="2">Deal</td><td>AAPL</td><td>Buy only</td></tr><tr><td>MSFT</td><td>Sell only</td></tr>${tr(td('Other'), td('IBM'), td(''))}</tbody></table>`;
    expect(parseOk(table).instruments).toEqual([
      instrument({ ticker: 'AAPL', reason: 'Deal', restriction_type: 'buy_only' }),
      instrument({ ticker: 'IBM', reason: 'Other' }),
      instrument({ ticker: 'MSFT', reason: 'Deal', restriction_type: 'sell_only' }),
    ]);
  });

  it('reads rowspan="0" to the end of its row group', () => {
    const table =
      `<table><tbody>${tr(th('Reason'), th('Ticker'))}<tr><td rowspan="0">Deal</td><td>AAPL</td></tr><tr><td>MSFT</td></tr></tbody>` +
      `<tbody><tr><td>Other</td><td>IBM</td></tr></tbody></table>`;
    expect(parseOk(table).instruments.map((found) => [found.ticker, found.reason])).toEqual([
      ['AAPL', 'Deal'],
      ['IBM', 'Other'],
      ['MSFT', 'Deal'],
    ]);
  });

  it('gives no value from a header cell that spans down into the data rows', () => {
    const table = `<table><tbody><tr><th rowspan="3">Reason</th><th>Ticker</th></tr><tr><td>AAPL</td></tr><tr><td>MSFT</td></tr></tbody></table>`;
    expect(parseOk(table).instruments).toEqual([
      instrument({ ticker: 'AAPL' }),
      instrument({ ticker: 'MSFT' }),
    ]);
  });

  it('counts every ticker of two ticker columns and the first valid ISIN, with a warning', () => {
    const { instruments, warnings } = parseOk(
      listTable(
        ['Ticker', 'Bloomberg Ticker', 'ISIN', 'ISIN code'],
        [['AAPL', 'AAPL US Equity', 'US037833100X', APPLE]],
      ),
    );
    expect(instruments).toEqual([
      instrument({ ticker: 'AAPL', isin: APPLE }),
      instrument({ ticker: 'AAPL US' }),
    ]);
    expect(codes(warnings)).toEqual(['duplicate_column', 'duplicate_column', 'invalid_isin']);
    expect(warnings[0]).toMatchObject({
      table: 1,
      row: 1,
      column: 'Bloomberg Ticker',
      raw: 'Ticker | Bloomberg Ticker',
    });
    expect(warnings[1]).toMatchObject({ column: 'ISIN code', raw: 'ISIN | ISIN code' });
  });

  it('counts the first of two different valid ISINs, with a warning about the other', () => {
    const { instruments, warnings } = parseOk(
      listTable(['Ticker', 'ISIN', 'ISIN number'], [['AAPL', APPLE, MICROSOFT]]),
    );
    expect(instruments).toEqual([instrument({ ticker: 'AAPL', isin: APPLE })]);
    expect(warnings[1]).toMatchObject({
      code: 'conflicting_isin',
      row: 2,
      column: 'ISIN number',
      raw: MICROSOFT,
    });
  });

  it('combines duplicate type and date columns the most restrictive way', () => {
    const { instruments } = parseOk(
      listTable(
        ['Ticker', 'Type', 'Side', 'Effective date', 'Start date', 'Expiry', 'End date'],
        [
          ['AAPL', 'Buy only', 'Sell only', '1 Mar 2026', '2026-02-01', '2026-06-01', '2026-09-01'],
          ['MSFT', 'Buy', '', '1 Mar 2026', '', '2026-06-01', ''],
        ],
      ),
    );
    expect(instruments).toEqual([
      instrument({ ticker: 'AAPL', effective_from: '2026-02-01', expires_at: '2026-09-01' }),
      instrument({ ticker: 'MSFT' }),
    ]);
  });
});

describe('rule 12: a page with no list table', () => {
  it('is a parse error naming the page', () => {
    const result = parseRestrictedList({
      pageId: '123456',
      title: 'Restricted List',
      storage: '<p>The list moved.</p>',
    });
    expect(result).toEqual({
      ok: false,
      error: { code: 'parse_error', message: expect.stringContaining('"Restricted List" (123456)') },
      warnings: [],
    });
  });

  it('is a parse error when the only tables are unrelated or change logs, keeping their warnings', () => {
    const log = listTable(['Date', 'Ticker', 'Action'], [['1 Mar 2026', 'MSFT', 'Added']]);
    const result = parseRestrictedList({ pageId: 'p', storage: listTable(['Owner'], [['x']]) + log });
    expect(result.ok).toBe(false);
    expect(codes(result.warnings)).toEqual(['change_log_table']);
  });

  it('is an empty list when the list table has no rows', () => {
    expect(parseRestrictedList({ pageId: 'p', storage: listTable(['Ticker', 'ISIN'], []) })).toEqual({
      ok: true,
      instruments: [],
      warnings: [],
    });
  });

  it('is an empty list when every row is struck through or empty', () => {
    const table = `<table><tbody>${tr(th('Ticker'))}${tr(td('<s>MSFT</s>'))}${tr(td(''))}</tbody></table>`;
    expect(parseOk(table)).toEqual({ instruments: [], warnings: [] });
  });
});
