import type { Side, StoredInstrument } from '../domain/index.ts';
import type { CheckAnswer, CheckMatch } from './schemas.ts';

/** What a check says of the candidates, before the list's version and freshness are added. */
export type CheckVerdict = Pick<CheckAnswer, 'restricted' | 'severity' | 'matches'>;

type Dated = Pick<StoredInstrument, 'effective_from' | 'expires_at'>;

/** The UTC day of an instant, `YYYY-MM-DD`: the day restriction dates are judged on. */
export const utcDay = (at: Date): string => at.toISOString().slice(0, 10);

/** In force on a UTC day (`YYYY-MM-DD`): from `from` (inclusive) until `until` (exclusive); null: no bound. */
export function inForceBetween(from: string | null, until: string | null, day: string): boolean {
  if (from !== null && day < from) return false;
  if (until !== null && day >= until) return false;
  return true;
}

/** In force on a UTC day: from effective_from (inclusive) until expires_at (exclusive). */
function inForceOn(instrument: Dated, day: string): boolean {
  return inForceBetween(instrument.effective_from, instrument.expires_at, day);
}

/** In force from effective_from (inclusive, 00:00 UTC) until expires_at (exclusive, 00:00 UTC). */
export function isInForce(instrument: Dated, at: Date): boolean {
  return inForceOn(instrument, utcDay(at));
}

/** Whether the restriction applies to the side asked about (no side: any restriction counts). */
export function restrictsSide(type: StoredInstrument['restriction_type'], side: Side | null): boolean {
  if (side === null || type === 'full') return true;
  return type === (side === 'buy' ? 'buy_only' : 'sell_only');
}

/** Whether an active entry found by a check's ticker or ISIN restricts that check on `day`. */
export function restrictsOn(
  entry: Dated & Pick<StoredInstrument, 'restriction_type'>,
  side: Side | null,
  day: string,
): boolean {
  return inForceOn(entry, day) && restrictsSide(entry.restriction_type, side);
}

/** The verdict for candidate rows (those whose ticker or ISIN equals the query's), active or not. */
/** An entry as a check's answer shows it: its published fields, in the response schema's order. */
export function matchOf(row: StoredInstrument): CheckMatch {
  return {
    ticker: row.ticker,
    isin: row.isin,
    name: row.name,
    restriction_type: row.restriction_type,
    reason: row.reason,
    effective_from: row.effective_from,
    expires_at: row.expires_at,
  };
}

export function evaluateCheck(
  candidates: readonly StoredInstrument[],
  side: Side | null,
  at: Date,
): CheckVerdict {
  const day = utcDay(at);
  const matches = candidates.filter((row) => row.is_active && restrictsOn(row, side, day)).map(matchOf);
  return { restricted: matches.length > 0, severity: matches.length > 0 ? 'CRITICAL' : 'NONE', matches };
}
