import { describe, expect, it } from 'vitest';
import { evaluateCheck, isInForce, restrictsSide } from '../../src/api/check.ts';
import type { StoredInstrument } from '../../src/domain/index.ts';

const entry = (extra: Partial<StoredInstrument> = {}): StoredInstrument => ({
  id: 1,
  ticker: 'AAPL',
  isin: 'US0378331005',
  name: 'Apple Inc.',
  restriction_type: 'full',
  reason: 'Inside information',
  effective_from: null,
  expires_at: null,
  source_page_id: '1',
  is_active: true,
  ...extra,
});

describe('restriction dates', () => {
  it('start at 00:00 UTC on the effective date (inclusive)', () => {
    const e = entry({ effective_from: '2026-03-01' });
    expect(isInForce(e, new Date('2026-02-28T23:59:59.999Z'))).toBe(false);
    expect(isInForce(e, new Date('2026-03-01T00:00:00Z'))).toBe(true);
  });
  it('end at 00:00 UTC on the expiry date (exclusive)', () => {
    const e = entry({ expires_at: '2026-03-01' });
    expect(isInForce(e, new Date('2026-02-28T23:59:59.999Z'))).toBe(true);
    expect(isInForce(e, new Date('2026-03-01T00:00:00Z'))).toBe(false);
  });
});

describe('sides', () => {
  it.each([
    ['full', null, true],
    ['full', 'buy', true],
    ['full', 'sell', true],
    ['buy_only', 'buy', true],
    ['buy_only', 'sell', false],
    ['buy_only', null, true],
    ['sell_only', 'sell', true],
    ['sell_only', 'buy', false],
    ['sell_only', null, true],
  ] as const)('%s restricts side=%s: %s', (type, side, expected) => {
    expect(restrictsSide(type, side)).toBe(expected);
  });
});

describe('evaluateCheck', () => {
  const now = new Date('2026-11-22T10:00:00Z');
  it('is CRITICAL with the matching entries when restricted', () => {
    const verdict = evaluateCheck([entry()], null, now);
    expect(verdict.restricted).toBe(true);
    expect(verdict.severity).toBe('CRITICAL');
    // The entry as published: its fields, without the cache's own (id, activity, source page).
    const { id: _id, is_active: _active, source_page_id: _page, ...published } = entry();
    expect(verdict.matches).toEqual([published]);
  });
  it('is NONE with no matches for inactive, expired, future or other-side entries', () => {
    const candidates = [
      entry({ is_active: false }),
      entry({ expires_at: '2026-11-22' }),
      entry({ effective_from: '2026-11-23' }),
      entry({ restriction_type: 'buy_only' }),
    ];
    expect(evaluateCheck(candidates, 'sell', now)).toEqual({
      restricted: false,
      severity: 'NONE',
      matches: [],
    });
  });
});
