import { describe, expect, it } from 'vitest';
import type { DesiredInstrument, StoredInstrument } from '../../src/domain/index.ts';
import { countDiff, describeDiffCounts, diffInstruments } from '../../src/sync/diff.ts';
import { instrument } from '../helpers/instruments.ts';

function want(
  ticker: string | null,
  isin: string | null,
  extra: Partial<DesiredInstrument> = {},
): DesiredInstrument {
  return { ...instrument({ ticker, isin }), source_page_id: '1', ...extra };
}
let nextId = 1;
function row(
  ticker: string | null,
  isin: string | null,
  extra: Partial<StoredInstrument> = {},
): StoredInstrument {
  return { ...want(ticker, isin), id: nextId++, is_active: true, ...extra };
}

describe('diffInstruments', () => {
  it('sees nothing to do when the page equals the cache', () => {
    const stored = [row('AAPL', 'US0378331005'), row('MSFT', null)];
    const diff = diffInstruments(stored, [want('AAPL', 'US0378331005'), want('MSFT', null)]);
    expect(countDiff(diff)).toEqual({ added: 0, removed: 0, modified: 0, unchanged: 2 });
  });

  it('adds new instruments and removes those no longer on the page', () => {
    const aapl = row('AAPL', null);
    const diff = diffInstruments([aapl], [want('MSFT', null)]);
    expect(diff.added.map((a) => a.after.ticker)).toEqual(['MSFT']);
    expect(diff.removed).toEqual([
      { id: aapl.id, before: expect.objectContaining({ ticker: 'AAPL' }), sourcePageId: '1' },
    ]);
  });

  it.each([
    ['reason', { reason: 'New reason' }],
    ['type', { restriction_type: 'buy_only' as const }],
    ['name', { name: 'Apple' }],
    ['effective date', { effective_from: '2026-03-01' }],
    ['expiry', { expires_at: '2026-12-31' }],
  ])('an edit of the %s is a modification, not a removal plus an addition', (_label, change) => {
    const stored = row('AAPL', 'US0378331005');
    const diff = diffInstruments([stored], [want('AAPL', 'US0378331005', change)]);
    expect(countDiff(diff)).toEqual({ added: 0, removed: 0, modified: 1, unchanged: 0 });
    expect(diff.modified[0]?.id).toBe(stored.id);
  });

  it('matches by ISIN when the ticker changed, and by ticker when an ISIN is added', () => {
    const byIsin = row('FB', 'US30303M1027');
    const byTicker = row('AAPL', null);
    const diff = diffInstruments(
      [byIsin, byTicker],
      [want('META', 'US30303M1027'), want('AAPL', 'US0378331005')],
    );
    expect(diff.modified.map((m) => m.id).sort()).toEqual([byIsin.id, byTicker.id].sort());
    expect(countDiff(diff).added + countDiff(diff).removed).toBe(0);
  });

  it('treats the same ticker with different ISINs as two instruments', () => {
    const stored = row('XYZ', 'US0378331005');
    const diff = diffInstruments([stored], [want('XYZ', 'US5949181045')]);
    expect(countDiff(diff)).toEqual({ added: 1, removed: 1, modified: 0, unchanged: 0 });
  });

  it('reuses the row of an instrument that comes back to the page', () => {
    const gone = row('NVDA', null, { is_active: false });
    const diff = diffInstruments([gone], [want('NVDA', null)]);
    expect(diff.added).toEqual([expect.objectContaining({ reactivateId: gone.id })]);
  });

  it('deactivates every active row when the page lists nothing', () => {
    const diff = diffInstruments([row('A', null), row('B', null), row('C', null, { is_active: false })], []);
    expect(diff.removed).toHaveLength(2);
  });

  it('describes counts the way the Temporal UI shows them', () => {
    expect(describeDiffCounts({ added: 2, removed: 1, modified: 1, unchanged: 38 })).toBe('+2 −1 ~1 =38');
  });
});
