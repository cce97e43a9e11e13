import type { DesiredInstrument, ParsedInstrument, ParseWarning, StoredPage } from '../domain/index.ts';
import { mergeInstrumentLists, parseRestrictedList } from '../parser/index.ts';
import { parseMockData } from './sources.ts';

export type ReadListResult =
  | { ok: true; instruments: DesiredInstrument[]; warnings: ParseWarning[] }
  | { ok: false; code: 'ParseError' | 'InvalidMockData'; message: string; warnings: ParseWarning[] };

/** Tags each merged instrument with the first page that lists it (for the change log). */
function attachSourcePages(
  merged: ParsedInstrument[],
  perPage: { pageId: string; instruments: ParsedInstrument[] }[],
): DesiredInstrument[] {
  const pageOf = new Map<string, string>();
  for (const { pageId, instruments } of perPage) {
    for (const instrument of instruments) {
      for (const key of [
        instrument.isin && `i:${instrument.isin}`,
        instrument.ticker && `t:${instrument.ticker}`,
      ]) {
        if (key && !pageOf.has(key)) pageOf.set(key, pageId);
      }
    }
  }
  return merged.map((instrument) => ({
    ...instrument,
    source_page_id:
      (instrument.isin ? pageOf.get(`i:${instrument.isin}`) : undefined) ??
      (instrument.ticker ? pageOf.get(`t:${instrument.ticker}`) : undefined) ??
      null,
  }));
}

/**
 * Every page parsed and the results merged into one list (the union; rule 11 across pages).
 * One page that cannot be read fails the whole list: a partial list would lift restrictions.
 */
export function readList(pages: readonly StoredPage[]): ReadListResult {
  const perPage: { pageId: string; instruments: ParsedInstrument[] }[] = [];
  const warnings: ParseWarning[] = [];
  for (const page of pages) {
    if (page.format === 'mock-json') {
      try {
        perPage.push({ pageId: page.id, instruments: parseMockData(page.body, page.title) });
      } catch (error) {
        return { ok: false, code: 'InvalidMockData', message: (error as Error).message, warnings };
      }
      continue;
    }
    const result = parseRestrictedList({ pageId: page.id, title: page.title, storage: page.body });
    warnings.push(...result.warnings);
    if (!result.ok) {
      return {
        ok: false,
        code: 'ParseError',
        message: `page ${page.id} "${page.title}" v${page.version}: ${result.error.message}`,
        warnings,
      };
    }
    perPage.push({ pageId: page.id, instruments: result.instruments });
  }
  const merged = mergeInstrumentLists(
    perPage.map((p) => p.instruments),
    perPage.map((p) => p.pageId),
  );
  warnings.push(...merged.warnings);
  return { ok: true, instruments: attachSourcePages(merged.instruments, perPage), warnings };
}
