/** Rule 11 (the same instrument listed twice) and the output order, within a page and across pages. */
import { describe, expect, it } from 'vitest';
import { compareInstruments, mergeInstrumentLists } from '../../src/parser/index.ts';
import { APPLE, BAE, codes, instrument, MICROSOFT, NESTLE, parseTable, SAP, warningIn } from './helpers.ts';

describe('rule 11: the same instrument listed twice', () => {
  it('merges equal ISINs: most restrictive type, earliest effective, latest expiry, reasons in page order', () => {
    const { instruments, warnings } = parseTable(
      ['Ticker', 'ISIN', 'Name', 'Reason', 'Type', 'Effective', 'Expiry'],
      [
        ['AAPL', APPLE, '', 'Deal', 'Buy only', '2026-03-01', '2026-06-01'],
        ['', APPLE, 'Apple Inc.', 'Research', 'Sell only', '2026-02-01', '2026-09-01'],
        ['AAPL', APPLE, 'Apple', 'Deal', 'Buy', '2026-04-01', '2026-07-01'],
      ],
    );
    expect(instruments).toEqual([
      instrument({
        ticker: 'AAPL',
        isin: APPLE,
        name: 'Apple Inc.',
        reason: 'Deal; Research',
        restriction_type: 'full',
        effective_from: '2026-02-01',
        expires_at: '2026-09-01',
      }),
    ]);
    expect(warnings).toEqual([
      warningIn(1, { code: 'duplicate_instrument', row: 3, raw: APPLE }),
      warningIn(1, { code: 'duplicate_instrument', row: 4, raw: `AAPL / ${APPLE}` }),
    ]);
    expect(warnings[0]?.problem).toContain('table 1 row 2');
  });

  it('merges equal tickers when one has no ISIN, keeping the ISIN', () => {
    const { instruments } = parseTable(
      ['Ticker', 'ISIN', 'Type'],
      [
        ['AAPL', '', 'Buy only'],
        ['AAPL', APPLE, 'Buy only'],
      ],
    );
    expect(instruments).toEqual([instrument({ ticker: 'AAPL', isin: APPLE, restriction_type: 'buy_only' })]);
  });

  it('keeps the same ticker with different ISINs as two instruments', () => {
    const { instruments, warnings } = parseTable(
      ['Ticker', 'ISIN'],
      [
        ['ABC', APPLE],
        ['ABC', MICROSOFT],
      ],
    );
    expect(instruments).toEqual([
      instrument({ ticker: 'ABC', isin: APPLE }),
      instrument({ ticker: 'ABC', isin: MICROSOFT }),
    ]);
    expect(warnings).toEqual([]);
  });

  it('applies an entry without ISIN to every instrument listed with its ticker', () => {
    const { instruments } = parseTable(
      ['Ticker', 'ISIN', 'Type', 'Reason'],
      [
        ['ABC', APPLE, 'Buy only', 'a'],
        ['ABC', MICROSOFT, 'Buy only', 'b'],
        ['ABC', '', 'Sell only', 'c'],
      ],
    );
    expect(instruments).toEqual([
      instrument({ ticker: 'ABC', isin: APPLE, restriction_type: 'full', reason: 'a; c' }),
      instrument({ ticker: 'ABC', isin: MICROSOFT, restriction_type: 'full', reason: 'b; c' }),
    ]);
  });

  it('has no effective date or expiry when one listing has none', () => {
    const { instruments } = parseTable(
      ['Ticker', 'Effective', 'Expiry'],
      [
        ['A', '2026-03-01', '2026-06-01'],
        ['A', '', ''],
      ],
    );
    expect(instruments).toEqual([instrument({ ticker: 'A' })]);
  });

  it('keeps each ticker of one ISIN restricted: the first on the entry, the others on their own', () => {
    const { instruments, warnings } = parseTable(
      ['Ticker', 'ISIN', 'Reason'],
      [
        ['AAPL', APPLE, 'Deal'],
        ['AAPL US', APPLE, 'Research'],
      ],
    );
    expect(instruments).toEqual([
      instrument({ ticker: 'AAPL', isin: APPLE, reason: 'Deal; Research' }),
      instrument({ ticker: 'AAPL US', reason: 'Deal; Research' }),
    ]);
    expect(codes(warnings)).toEqual(['duplicate_instrument', 'ticker_sharing_isin']);
  });

  it('merges across pages, naming the pages', () => {
    const first = [instrument({ ticker: 'AAPL', isin: APPLE, reason: 'Deal', restriction_type: 'buy_only' })];
    const second = [
      instrument({ ticker: 'AAPL', isin: null, reason: 'Research', restriction_type: 'sell_only' }),
      instrument({ ticker: 'SAP GR', isin: SAP }),
    ];
    const merged = mergeInstrumentLists([first, second], ['111', '222']);
    expect(merged.instruments).toEqual([
      instrument({ ticker: 'AAPL', isin: APPLE, reason: 'Deal; Research', restriction_type: 'full' }),
      instrument({ ticker: 'SAP GR', isin: SAP }),
    ]);
    expect(merged.warnings).toEqual([
      expect.objectContaining({
        code: 'duplicate_instrument',
        page: '222',
        table: null,
        row: null,
        raw: 'AAPL',
      }),
    ]);
    expect(merged.warnings[0]?.problem).toContain('page 111');
  });

  it('changes nothing when merging its own output again', () => {
    const lists = [
      [
        instrument({ ticker: 'AAPL', isin: APPLE, reason: 'Deal' }),
        instrument({ ticker: 'AAPL US', isin: APPLE, reason: 'Research' }),
      ],
      [instrument({ ticker: 'AAPL', reason: 'Deal; Wall' }), instrument({ ticker: 'BA/ LN', isin: BAE })],
    ];
    const once = mergeInstrumentLists(lists).instruments;
    expect(mergeInstrumentLists([once]).instruments).toEqual(once);
    expect(mergeInstrumentLists([once, once]).instruments).toEqual(once);
  });
});

describe('output order', () => {
  it('sorts by ticker, entries without ticker last, then by ISIN', () => {
    const { instruments } = parseTable(
      ['Ticker', 'ISIN'],
      [
        ['', BAE],
        ['MSFT', ''],
        ['ABC', MICROSOFT],
        ['', NESTLE],
        ['ABC', APPLE],
        ['AB', ''],
      ],
    );
    expect(instruments.map((found) => [found.ticker, found.isin])).toEqual([
      ['AB', null],
      ['ABC', APPLE],
      ['ABC', MICROSOFT],
      ['MSFT', null],
      [null, NESTLE],
      [null, BAE],
    ]);
  });

  it('is the order of compareInstruments also for tickers that differ past their first characters', () => {
    // Prefixes, code units above the Latin ones and surrogate halves, each with several ISINs.
    const pieces = ['', 'A', 'B', 'a', ' ', 'Ä', '\ud83d\ude00', '\uffff'];
    const tickers = pieces.flatMap((first) => pieces.map((second) => first + second)).filter(Boolean);
    const listed = [...tickers, null].flatMap((ticker, index) =>
      [APPLE, MICROSOFT, null].map((isin) => instrument({ ticker, isin, reason: String(index) })),
    );
    const { instruments } = mergeInstrumentLists([listed.reverse()]);
    expect(instruments).toEqual([...instruments].sort(compareInstruments));
    expect(instruments[0]?.ticker).toBe(' ');
    expect(instruments.at(-1)?.ticker).toBeNull();
  });
});
