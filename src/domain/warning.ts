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
  'checksum_unreadable',
] as const;
export type ParseWarningCode = (typeof PARSE_WARNING_CODES)[number];

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
