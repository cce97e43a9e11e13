import type { Side, StoredInstrument } from '../domain/index.ts';
import type { CheckAnswer } from './schemas.ts';

/** What a check says of the candidates, before the list's version and freshness are added. */
export type CheckVerdict = Pick<CheckAnswer, 'restricted' | 'severity' | 'matches'>;

/** In force from effective_from (inclusive, 00:00 UTC) until expires_at (exclusive, 00:00 UTC). */
export function isInForce(
  instrument: Pick<StoredInstrument, 'effective_from' | 'expires_at'>,
  at: Date,
): boolean {
  const day = at.toISOString().slice(0, 10);
  if (instrument.effective_from !== null && day < instrument.effective_from) return false;
  if (instrument.expires_at !== null && day >= instrument.expires_at) return false;
  return true;
}

/** Whether the restriction applies to the side asked about (no side: any restriction counts). */
export function restrictsSide(type: StoredInstrument['restriction_type'], side: Side | null): boolean {
  if (side === null || type === 'full') return true;
  return type === (side === 'buy' ? 'buy_only' : 'sell_only');
}

/** The verdict for active candidate rows (those whose ticker or ISIN equals the query's). */
export function evaluateCheck(
  candidates: readonly StoredInstrument[],
  side: Side | null,
  at: Date,
): CheckVerdict {
  const matches = candidates
    .filter((row) => row.is_active && isInForce(row, at) && restrictsSide(row.restriction_type, side))
    .map(({ ticker, isin, name, restriction_type, reason, effective_from, expires_at }) => ({
      ticker,
      isin,
      name,
      restriction_type,
      reason,
      effective_from,
      expires_at,
    }));
  return { restricted: matches.length > 0, severity: matches.length > 0 ? 'CRITICAL' : 'NONE', matches };
}
