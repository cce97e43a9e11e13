import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { restrictsOn } from '../../src/api/check.ts';
import { snapshotBuilder } from '../../src/api/list-snapshot.ts';
import { matchSchema } from '../../src/api/schemas.ts';
import { RESTRICTION_TYPES, type StoredInstrument } from '../../src/domain/index.ts';

const KEYS = [
  'AAPL',
  'AAPL US',
  'MSFT',
  'BRK/B',
  'ÉDF FP',
  'E\u0301DF FP',
  '日本',
  'A',
  '',
  'US0378331005',
  'GB0002634946',
];
const DAYS = [null, '2026-01-01', '2026-06-30', '2026-12-31'];

const rows = fc
  .array(
    fc.record({
      ticker: fc.oneof(fc.constantFrom(...KEYS, null), fc.string({ maxLength: 5 })),
      isin: fc.oneof(fc.constantFrom(...KEYS, null), fc.string({ maxLength: 5 })),
      name: fc.oneof(
        fc.constant(null),
        fc.string({ maxLength: 12 }),
        fc.constant('Caf\u00e9 "Zürich" \\ plc\n'),
      ),
      restriction_type: fc.constantFrom(...RESTRICTION_TYPES),
      reason: fc.oneof(
        fc.constant(null),
        fc.constantFrom('Inside information', 'Research blackout'),
        fc.string(),
      ),
      effective_from: fc.constantFrom(...DAYS),
      expires_at: fc.constantFrom(...DAYS),
    }),
    { maxLength: 60 },
  )
  .map((fields) =>
    fields.map((row, index): StoredInstrument => ({
      ...row,
      id: index + 1,
      is_active: true,
      source_page_id: '1',
    })),
  );

/** A snapshot of `list`, handed over in pages of `pageSize`. */
async function snapshotOf(list: StoredInstrument[], pageSize: number) {
  const builder = snapshotBuilder();
  for (let start = 0; start < list.length; start += pageSize)
    builder.add(list.slice(start, start + pageSize));
  return builder.finish(
    { listVersion: 3, asOf: new Date('2026-11-21T10:00:00Z') },
    () => new Date(),
    async () => {},
  );
}

// A row's match as the response schema reads it: its fields, in the schema's order.
const matchOf = (row: StoredInstrument) => matchSchema.parse(row);

describe('a list snapshot', () => {
  it('finds exactly the instruments with a ticker or an ISIN, in id order, and answers for each as its row would', async () => {
    await fc.assert(
      fc.asyncProperty(
        rows,
        fc.integer({ min: 1, max: 7 }),
        fc.array(fc.oneof(fc.constantFrom(...KEYS), fc.string({ maxLength: 5 })), { maxLength: 10 }),
        async (list, pageSize, asked) => {
          const snapshot = await snapshotOf(list, pageSize);
          expect(snapshot).toMatchObject({ size: list.length, listVersion: 3 });
          for (const key of [...asked, ...list.flatMap((row) => [row.ticker ?? '', row.isin ?? ''])]) {
            const indices = (field: 'ticker' | 'isin') =>
              list.flatMap((row, i) => (row[field] === key ? [i] : []));
            expect(snapshot.byTicker(key), `ticker ${JSON.stringify(key)}`).toEqual(indices('ticker'));
            expect(snapshot.byIsin(key), `isin ${JSON.stringify(key)}`).toEqual(indices('isin'));
          }
          for (const [i, row] of list.entries()) {
            expect(snapshot.match(i)).toEqual(matchOf(row));
            expect(snapshot.matchBytes(i).toString('utf8')).toBe(JSON.stringify(matchOf(row)));
            for (const side of ['buy', 'sell', null] as const)
              for (const day of ['2025-12-31', '2026-01-01', '2026-07-01', '2026-12-31', '2027-01-01'])
                expect(snapshot.restricts(i, side, day)).toBe(restrictsOn(row, side, day));
          }
        },
      ),
      { numRuns: 300 },
    );
  });

  it('holds a long list', async () => {
    const list = Array.from({ length: 50_000 }, (_, i): StoredInstrument => ({
      id: i + 1,
      ticker: `T${i % 40_000} US`,
      isin: `US${String(i).padStart(10, '0')}`,
      name: `Name ${i}`,
      restriction_type: RESTRICTION_TYPES[i % 3]!,
      reason: 'Inside information',
      effective_from: null,
      expires_at: null,
      is_active: true,
      source_page_id: '1',
    }));
    const snapshot = await snapshotOf(list, 1000);
    expect(snapshot.byTicker('T123 US')).toEqual([123, 40_123]);
    expect(snapshot.byIsin('US0000049999')).toEqual([49_999]);
    expect(snapshot.byTicker('T40000 US')).toEqual([]);
    expect(snapshot.match(49_999)).toMatchObject({ ticker: 'T9999 US', name: 'Name 49999' });
  });
});
