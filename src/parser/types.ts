/** The three restriction types of the contract: which side of a trade is restricted. */
export const RESTRICTION_TYPES = ['full', 'buy_only', 'sell_only'] as const;
export type RestrictionType = (typeof RESTRICTION_TYPES)[number];

/** One instrument as read from the page(s); field names are the contract's output names. */
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

/** Something a careful reader of the page should know about; kept with the run. */
export interface ParseWarning {
  /** Page id (or a label such as a file name) the warning is about. */
  page: string | null;
  /** 1-based index of the table among all tables of the page. */
  table: number | null;
  /** 1-based row number within the table (header rows counted). */
  row: number | null;
  /** The column's header text as written on the page. */
  column: string | null;
  problem: string;
  /** The offending raw cell text, if any. */
  raw: string | null;
  /** What kind of problem, for counting and tests; `problem` says it in words. */
  code?: ParseWarningCode;
}

/** Kinds of parse warning (see `problem` for the words). */
export const PARSE_WARNING_CODES = [
  'title_row_above_header',
  'header_not_used',
  'change_log_table',
  'html_macro_table',
  'duplicate_column',
  'header_like_data_row',
  'invalid_isin',
  'conflicting_isin',
  'several_tickers_with_isin',
  'unknown_restriction_type',
  'invalid_date',
  'expiry_not_after_effective',
  'row_without_identifier',
  'duplicate_instrument',
  'ticker_sharing_isin',
] as const;
export type ParseWarningCode = (typeof PARSE_WARNING_CODES)[number];

export interface PageSource {
  /** Used to label warnings. */
  pageId: string;
  title?: string;
  /** Confluence storage format (XHTML with ac:/ri: elements). */
  storage: string;
}

export type ParseResult =
  | { ok: true; instruments: ParsedInstrument[]; warnings: ParseWarning[] }
  | { ok: false; error: { code: 'parse_error'; message: string }; warnings: ParseWarning[] };
