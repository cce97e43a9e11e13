/** The three restriction types of the contract: which side of a trade is restricted. */
export const RESTRICTION_TYPES = ['full', 'buy_only', 'sell_only'] as const;
export type RestrictionType = (typeof RESTRICTION_TYPES)[number];

/** One instrument as the page(s) list it; field names are the contract's output names. */
export interface ParsedInstrument {
  ticker: string | null;
  isin: string | null;
  name: string | null;
  restriction_type: RestrictionType;
  reason: string | null;
  /** `YYYY-MM-DD`, inclusive, 00:00 UTC. */
  effective_from: string | null;
  /** `YYYY-MM-DD`, exclusive: the restriction ends at 00:00 UTC that day. */
  expires_at: string | null;
}

/** An instrument as the sync wants it in the cache: what the page says, and which page said it. */
export interface DesiredInstrument extends ParsedInstrument {
  source_page_id: string | null;
}

/** A row of the cache. Instruments are never deleted: one that leaves the page is inactive. */
export interface StoredInstrument extends DesiredInstrument {
  id: number;
  is_active: boolean;
}

/** The fields whose edit is a modification (contract, "Sync semantics"). */
export const COMPARED_FIELDS = [
  'ticker',
  'isin',
  'name',
  'restriction_type',
  'reason',
  'effective_from',
  'expires_at',
] as const satisfies readonly (keyof ParsedInstrument)[];

export type InstrumentFields = Pick<ParsedInstrument, (typeof COMPARED_FIELDS)[number]>;

export function instrumentFields(instrument: ParsedInstrument): InstrumentFields {
  return {
    ticker: instrument.ticker,
    isin: instrument.isin,
    name: instrument.name,
    restriction_type: instrument.restriction_type,
    reason: instrument.reason,
    effective_from: instrument.effective_from,
    expires_at: instrument.expires_at,
  };
}

/** What a check asks about: a ticker, an ISIN or both, normalised like the page. */
export interface CheckQuery {
  ticker: string | null;
  isin: string | null;
}

export const SIDES = ['buy', 'sell'] as const;
export type Side = (typeof SIDES)[number];

/** One check as the API was asked it: identifiers normalised, and the side (none: either side). */
export interface CheckItem extends CheckQuery {
  side: Side | null;
}
