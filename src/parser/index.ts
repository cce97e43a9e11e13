/**
 * The restricted-list parser: Confluence storage format in, instruments and warnings out.
 * Pure: no I/O, no clock, no globals. See CONTRACT.md, "Page format and parsing rules".
 */
import { mergeSourced, type MergedList } from './merge.ts';
import { readPage } from './page.ts';
export { inspectTables } from './page.ts';
import type { PageSource, ParsedInstrument, ParseResult } from './types.ts';

export type * from './types.ts';
export { fieldForColumn, isChangeLogColumn } from './columns.ts';
export { compareInstruments } from './merge.ts';
export {
  isinCheckDigit,
  isValidIsin,
  mostRestrictive,
  normaliseColumnName,
  normaliseIsin,
  normaliseRestrictionValue,
  normaliseText,
  normaliseTicker,
  parseDate,
  restrictionTypeFor,
} from './normalise.ts';

function parseError(message: string): ParseResult {
  return { ok: false, error: { code: 'parse_error', message }, warnings: [] };
}

/**
 * One page's storage-format body → its instruments (merged within the page, sorted) and
 * warnings, or a parse error when the page has no list table (rule 12). Never throws: input it
 * cannot make sense of is a parse error, so the sync fails and the cached list is kept.
 */
export function parseRestrictedList(page: PageSource): ParseResult {
  try {
    if (page === null || typeof page !== 'object' || typeof page.storage !== 'string') {
      return parseError('The page has no storage-format body to parse.');
    }
    return readPage(page);
  } catch (error) {
    const reason = error instanceof Error ? error.message : String(error);
    return parseError(`The page could not be parsed (${reason}); nothing was read from it.`);
  }
}

/**
 * Rule 11 across pages: the union of several pages' lists, each instrument once, sorted.
 * `pageIds[i]` labels the warnings about `lists[i]`.
 */
export function mergeInstrumentLists(
  lists: readonly ParsedInstrument[][],
  pageIds?: readonly string[],
): MergedList {
  const entries = lists.flatMap((list, index) =>
    list.map((instrument) => ({
      instrument,
      origin: { page: pageIds?.[index] ?? null, table: null, row: null },
    })),
  );
  return mergeSourced(entries);
}
