import { describe, expect, it } from 'vitest';
import * as parser from '../../src/parser/index.ts';

describe('normaliseColumnName (rule 3)', () => {
  it.each([
    ['Effective-From', 'effective from'],
    ['Comment(s)', 'comment'],
    ['Ticker (Bloomberg)', 'ticker'],
    ['  ISIN\u00a0Code ', 'isin code'],
    ['Reason for\nrestriction', 'reason for restriction'],
    ['RESTRICTION_TYPE', 'restriction type'],
    ['Name (legal (full))', 'name'],
    ['Ticker\u200b', 'ticker'],
  ])('%j → %j', (raw, expected) => {
    expect(parser.normaliseColumnName(raw)).toBe(expected);
  });
});

describe('column synonyms match exactly, never by substring (rule 3)', () => {
  it.each([
    ['Ticker', 'ticker'],
    ['Ticker Symbol', 'ticker'],
    ['Symbol', 'ticker'],
    ['Bloomberg Ticker', 'ticker'],
    ['BBG ticker', 'ticker'],
    ['Bloomberg Code', 'ticker'],
    ['RIC', 'ticker'],
    ['ISIN', 'isin'],
    ['ISIN code', 'isin'],
    ['ISIN Number', 'isin'],
    ['Name', 'name'],
    ['Security', 'name'],
    ['Security Name', 'name'],
    ['Instrument', 'name'],
    ['Instrument name', 'name'],
    ['Issuer', 'name'],
    ['Company', 'name'],
    ['Reason', 'reason'],
    ['Reason for restriction', 'reason'],
    ['Comment', 'reason'],
    ['Comments', 'reason'],
    ['Comment(s)', 'reason'],
    ['Notes', 'reason'],
    ['Rationale', 'reason'],
    ['Description', 'reason'],
    ['Restriction', 'restriction_type'],
    ['Restriction Type', 'restriction_type'],
    ['Type', 'restriction_type'],
    ['Side', 'restriction_type'],
    ['Restricted side', 'restriction_type'],
    ['Trading restriction', 'restriction_type'],
    ['Date added', 'effective_from'],
    ['Added', 'effective_from'],
    ['Effective', 'effective_from'],
    ['Effective Date', 'effective_from'],
    ['Effective-From', 'effective_from'],
    ['From', 'effective_from'],
    ['Start date', 'effective_from'],
    ['Expiry', 'expires_at'],
    ['Expiry date', 'expires_at'],
    ['Expires', 'expires_at'],
    ['Until', 'expires_at'],
    ['End date', 'expires_at'],
    ['Restricted until', 'expires_at'],
  ])('%j names %s', (header, field) => {
    expect(parser.fieldForColumn(header)).toBe(field);
  });

  it.each([
    'Tickers',
    'Ticker code',
    'ISINs',
    'Reasons',
    'Restriction types',
    'Date',
    'Ticker / ISIN',
    'Sector',
    '',
  ])('%j names no field', (header) => {
    expect(parser.fieldForColumn(header)).toBeNull();
  });

  it('knows the change-log columns (rule 1)', () => {
    for (const header of [
      'Action',
      'Change',
      'Change type',
      'Event',
      'Changed by',
      'Modified-by',
      'Version',
      'Change(s)',
    ]) {
      expect(parser.isChangeLogColumn(header), header).toBe(true);
    }
    for (const header of ['Changes', 'Reason', 'Date added'])
      expect(parser.isChangeLogColumn(header), header).toBe(false);
  });
});

describe('restriction type (rule 8)', () => {
  it('normalises values keeping the words in parentheses', () => {
    expect(parser.normaliseRestrictionValue('Buy-only')).toBe('buy only');
    expect(parser.normaliseRestrictionValue('Buy only (sell also restricted)')).toBe(
      'buy only sell also restricted',
    );
  });

  it.each([
    ['', 'full'],
    ['Full', 'full'],
    ['Full restriction', 'full'],
    ['ALL', 'full'],
    ['No trading', 'full'],
    ['Restricted', 'full'],
    ['Both', 'full'],
    ['Buy only', 'buy_only'],
    ['Buy-only', 'buy_only'],
    ['buy', 'buy_only'],
    ['No buy', 'buy_only'],
    ['No buying', 'buy_only'],
    ['Buy restricted', 'buy_only'],
    ['No purchase', 'buy_only'],
    ['Sell only', 'sell_only'],
    ['SELL', 'sell_only'],
    ['No sell', 'sell_only'],
    ['No selling', 'sell_only'],
    ['Sell restricted', 'sell_only'],
    ['No sale', 'sell_only'],
  ])('%j → %s', (value, type) => {
    expect(parser.restrictionTypeFor(value)).toBe(type);
  });

  it.each(['Buy only (sell also restricted)', 'Long only', 'buy/sell', 'Partial', 'Buys only'])(
    '%j is unknown (the caller restricts fully)',
    (value) => {
      expect(parser.restrictionTypeFor(value)).toBeNull();
    },
  );

  it('combines buy_only and sell_only into full (rule 11)', () => {
    expect(parser.mostRestrictive('buy_only', 'sell_only')).toBe('full');
    expect(parser.mostRestrictive('buy_only', 'buy_only')).toBe('buy_only');
    expect(parser.mostRestrictive('sell_only', 'full')).toBe('full');
  });
});

describe('normaliseTicker (rule 6)', () => {
  it.each([
    ['aapl us equity', 'AAPL US'],
    ['AAPL', 'AAPL'],
    ['  vod   ln  ', 'VOD LN'],
    ['BRK/B', 'BRK/B'],
    ['T 2 1/2 05/15/24 Govt', 'T 2 1/2 05/15/24'],
    ['IBM 3.45 02/19/26 Corp', 'IBM 3.45 02/19/26'],
    ['CLA Comdty', 'CLA'],
    ['SPX Index', 'SPX'],
    ['EURUSD Curncy', 'EURUSD'],
    ['FNCL Mtge', 'FNCL'],
    ['NYC Muni', 'NYC'],
    ['WFC-L Pfd', 'WFC-L'],
    ['Equity', 'EQUITY'],
    ['INDEX', 'INDEX'],
    ['EQUITY US', 'EQUITY US'],
    ['aapl\u00a0us\u200b equity', 'AAPL US'],
  ])('%j → %j', (raw, expected) => {
    expect(parser.normaliseTicker(raw)).toBe(expected);
  });

  it('is a fixed point, so a query normalised again still matches', () => {
    for (const raw of ['x equity equity', 'aapl us equity', 'SPX INDEX']) {
      expect(parser.normaliseTicker(parser.normaliseTicker(raw))).toBe(parser.normaliseTicker(raw));
    }
  });
});

describe('ISIN (rule 7)', () => {
  it.each([
    'US0378331005',
    'US5949181045',
    'GB0002634946',
    'DE0007164600',
    'CH0038863350',
    'AU0000XVGZA3',
    'JP3435000009',
  ])('accepts %s', (isin) => {
    expect(parser.isValidIsin(isin)).toBe(true);
  });

  it.each([
    ['wrong check digit', 'US0378331006'],
    ['lower case (validation is exact; normalise first)', 'us0378331005'],
    ['too short', 'US037833100'],
    ['too long', 'US03783310055'],
    ['digit in the country code', 'U10378331005'],
    ['letter as check digit', 'US037833100A'],
    ['space inside', 'US 0378331005'],
    ['empty', ''],
  ])('rejects %s: %j', (_why, isin) => {
    expect(parser.isValidIsin(isin)).toBe(false);
  });

  it('computes the ISO 6166 check digit over letters converted to numbers', () => {
    expect(parser.isinCheckDigit('US037833100')).toBe(5);
    expect(parser.isinCheckDigit('AU0000XVGZA')).toBe(3);
    expect(parser.isinCheckDigit('GB000263494')).toBe(6);
  });

  it('normalises by upper-casing and removing spaces and invisible characters', () => {
    expect(parser.normaliseIsin(' us0378331005 ')).toBe('US0378331005');
    expect(parser.normaliseIsin('US 0378 3310 05')).toBe('US0378331005');
    expect(parser.normaliseIsin('US0378331005\u200b')).toBe('US0378331005');
  });
});

describe('parseDate (rule 9)', () => {
  it.each([
    ['2026-03-01', '2026-03-01'],
    ['1 Mar 2026', '2026-03-01'],
    ['01-Mar-2026', '2026-03-01'],
    ['1 March 2026', '2026-03-01'],
    ['1 MARCH 2026', '2026-03-01'],
    ['01-mar-2026', '2026-03-01'],
    ['29 Feb 2028', '2028-02-29'],
    ['31 dec 2026', '2026-12-31'],
    ['7 Sep 2026', '2026-09-07'],
    ['7 September 2026', '2026-09-07'],
    [' 1\u00a0Mar 2026 ', '2026-03-01'],
  ])('%j → %s', (text, expected) => {
    expect(parser.parseDate(text)).toBe(expected);
  });

  it.each([
    '03/04/2026',
    '01-Mar-26',
    'TBC',
    '2026-02-30',
    '29 Feb 2026',
    '2026-3-1',
    '1 Mar, 2026',
    'March 1 2026',
    '1-Mar 2026',
    '1 Sept 2026',
    '1st March 2026',
    '2026-03-01T00:00:00Z',
    '',
  ])('ignores %j', (text) => {
    expect(parser.parseDate(text)).toBeNull();
  });
});

describe('normaliseText (rule 4)', () => {
  it('removes Cf characters, composes NFC, turns no-break spaces into spaces and collapses whitespace', () => {
    expect(parser.normaliseText('\ufeff  Caf\u0065\u0301\u00a0\u200bAG \u200e ')).toBe('Café AG');
    expect(parser.normaliseText('a\t\n b')).toBe('a b');
  });

  it('composes a letter and its accent once an invisible character between them is gone', () => {
    expect(parser.normaliseText('e\u200b\u0301')).toBe('é');
  });
});
