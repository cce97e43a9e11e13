/** Rules 5–10: what a data row becomes. */
import { describe, expect, it } from 'vitest';
import { APPLE, codes, instrument, MICROSOFT, parseOk, parseTable, th, tr, warningIn } from './helpers.ts';

describe('rule 5: several tickers in one cell', () => {
  it('gives one instrument per ticker, split on , ; and line breaks, with the same details', () => {
    const page = `<table><tbody>${tr(th('Ticker'), th('Name'), th('Reason'), th('Type'), th('Expiry'))}<tr><td><p>GOOGL, GOOG; alphabet us equity</p><p>ABEA GR</p></td><td>Alphabet</td><td>Deal</td><td>Sell only</td><td>1 Mar 2027</td></tr></tbody></table>`;
    const terms = {
      name: 'Alphabet',
      reason: 'Deal',
      restriction_type: 'sell_only',
      expires_at: '2027-03-01',
    } as const;
    expect(parseOk(page)).toEqual({
      instruments: [
        instrument({ ticker: 'ABEA GR', ...terms }),
        instrument({ ticker: 'ALPHABET US', ...terms }),
        instrument({ ticker: 'GOOG', ...terms }),
        instrument({ ticker: 'GOOGL', ...terms }),
      ],
      warnings: [],
    });
  });

  it('ignores empty pieces and keeps / inside a ticker', () => {
    expect(parseTable(['Ticker'], [['BRK/B, ,;BRK/A,']]).instruments.map((found) => found.ticker)).toEqual([
      'BRK/A',
      'BRK/B',
    ]);
  });

  it('drops the ISIN of a row whose ticker cell holds several tickers, with a warning', () => {
    const { instruments, warnings } = parseTable(
      ['Ticker', 'ISIN', 'Reason'],
      [['GOOGL, GOOG', APPLE, 'Deal']],
    );
    expect(instruments).toEqual([
      instrument({ ticker: 'GOOG', reason: 'Deal' }),
      instrument({ ticker: 'GOOGL', reason: 'Deal' }),
    ]);
    expect(warnings).toEqual([
      warningIn(1, { code: 'several_tickers_with_isin', row: 2, column: 'Ticker', raw: 'GOOGL, GOOG' }),
    ]);
  });

  it('reads a ticker of dashes as no ticker', () => {
    const { instruments, warnings } = parseTable(
      ['Ticker', 'ISIN'],
      [
        ['—', APPLE],
        ['-', ''],
      ],
    );
    expect(instruments).toEqual([instrument({ isin: APPLE })]);
    expect(codes(warnings)).toEqual(['row_without_identifier']);
  });
});

describe('rule 6: tickers are normalised', () => {
  it('upper-cases, collapses whitespace and drops a trailing Bloomberg yellow key', () => {
    expect(
      parseTable(['Ticker'], [['aapl  us equity'], ['vod ln'], ['Equity']]).instruments.map(
        (found) => found.ticker,
      ),
    ).toEqual(['AAPL US', 'EQUITY', 'VOD LN']);
  });
});

describe('rule 7: ISINs', () => {
  it('upper-cases a valid ISIN', () => {
    expect(parseTable(['ISIN'], [['us0378331005']]).instruments).toEqual([instrument({ isin: APPLE })]);
  });

  it('drops an invalid ISIN with a warning and keeps the row for its ticker', () => {
    const { instruments, warnings } = parseTable(['Ticker', 'ISIN'], [['AAPL', 'US0378331006']]);
    expect(instruments).toEqual([instrument({ ticker: 'AAPL' })]);
    expect(warnings).toEqual([
      warningIn(1, { code: 'invalid_isin', row: 2, column: 'ISIN', raw: 'US0378331006' }),
    ]);
  });

  it('skips a row whose only identifier is an invalid ISIN, with both warnings', () => {
    const { instruments, warnings } = parseTable(['ISIN', 'Reason'], [['XS12345', 'Deal']]);
    expect(instruments).toEqual([]);
    expect(codes(warnings)).toEqual(['invalid_isin', 'row_without_identifier']);
  });
});

describe('rule 8: restriction type', () => {
  it('maps synonyms and reads an empty cell as full', () => {
    const { instruments, warnings } = parseTable(
      ['Ticker', 'Restriction type'],
      [
        ['A', 'Buy-only'],
        ['B', 'No sale'],
        ['C', ''],
        ['D', 'Both'],
      ],
    );
    expect(instruments.map((found) => found.restriction_type)).toEqual([
      'buy_only',
      'sell_only',
      'full',
      'full',
    ]);
    expect(warnings).toEqual([]);
  });

  it('reads a table without a type column as full', () => {
    expect(parseTable(['Ticker'], [['A']]).instruments[0]?.restriction_type).toBe('full');
  });

  it('reads anything else as full, with a warning', () => {
    const { instruments, warnings } = parseTable(
      ['Ticker', 'Type'],
      [['A', 'Buy only (sell also restricted)']],
    );
    expect(instruments[0]?.restriction_type).toBe('full');
    expect(warnings).toEqual([
      expect.objectContaining({
        code: 'unknown_restriction_type',
        row: 2,
        column: 'Type',
        raw: 'Buy only (sell also restricted)',
      }),
    ]);
  });
});

describe('rule 9: dates', () => {
  it('reads the date macro, ISO and day month-name year dates', () => {
    const page = `<table><tbody>${tr(th('Ticker'), th('Effective from'), th('Expires'))}<tr><td>A</td><td><time datetime="2026-03-01"/></td><td>01-Apr-2027</td></tr><tr><td>B</td><td>2026-03-02</td><td>1 april 2027</td></tr></tbody></table>`;
    expect(parseOk(page).instruments.map((found) => [found.effective_from, found.expires_at])).toEqual([
      ['2026-03-01', '2027-04-01'],
      ['2026-03-02', '2027-04-01'],
    ]);
  });

  it('ignores any other date with a warning, and the restriction stays in force', () => {
    const { instruments, warnings } = parseTable(
      ['Ticker', 'Date added', 'Expiry'],
      [['A', '03/04/2026', 'TBC']],
    );
    expect(instruments).toEqual([instrument({ ticker: 'A' })]);
    expect(warnings).toEqual([
      expect.objectContaining({ code: 'invalid_date', row: 2, column: 'Date added', raw: '03/04/2026' }),
      expect.objectContaining({ code: 'invalid_date', row: 2, column: 'Expiry', raw: 'TBC' }),
    ]);
  });

  it('ignores an expiry that is not after the effective date, keeping the restriction in force', () => {
    const { instruments, warnings } = parseTable(
      ['Ticker', 'Effective', 'Until'],
      [
        ['A', '2026-06-01', '2026-03-01'],
        ['B', '2026-03-01', '2026-03-01'],
      ],
    );
    expect(instruments.map((found) => [found.effective_from, found.expires_at])).toEqual([
      [null, null],
      [null, null],
    ]);
    expect(codes(warnings)).toEqual(['expiry_not_after_effective', 'expiry_not_after_effective']);
  });
});

describe('rule 10: rows that are not instruments', () => {
  it('skips rows whose cells are all empty, after struck text is removed, silently', () => {
    const page = `<table><tbody>${tr(th('Ticker'), th('Reason'))}<tr><td><p>&nbsp;</p></td><td></td></tr><tr><td><s>MSFT</s></td><td><del>Deal</del></td></tr><tr style="text-decoration: line-through;"><td>IBM</td><td>Old</td></tr><tr><td>AAPL</td><td/></tr></tbody></table>`;
    expect(parseOk(page)).toEqual({ instruments: [instrument({ ticker: 'AAPL' })], warnings: [] });
  });

  it('skips a row with neither ticker nor valid ISIN, naming the table and row', () => {
    const { instruments, warnings } = parseTable(
      ['Ticker', 'ISIN', 'Name', 'Reason'],
      [
        ['', '', 'Acme Corp', 'Deal'],
        ['MSFT', MICROSOFT, '', ''],
      ],
    );
    expect(instruments).toEqual([instrument({ ticker: 'MSFT', isin: MICROSOFT })]);
    expect(warnings).toEqual([
      {
        code: 'row_without_identifier',
        page: 'page-1',
        table: 1,
        row: 2,
        column: null,
        problem: expect.stringContaining('neither a ticker nor a valid ISIN'),
        raw: 'Acme Corp | Deal',
      },
    ]);
  });
});

describe('output', () => {
  it('gives absent values as null, never ""', () => {
    const [found] = parseTable(
      ['Ticker', 'ISIN', 'Name', 'Reason', 'Type', 'Effective', 'Expiry'],
      [['A', ' ', '&nbsp;', '', '', '', '']],
    ).instruments;
    // instrument() gives every field but the ticker as null (the type as full): none is "".
    expect(found).toEqual(instrument({ ticker: 'A' }));
  });
});
