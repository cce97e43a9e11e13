import type {
  DesiredInstrument,
  PageChecksum,
  PageChecksumReading,
  ParsedInstrument,
  ParseWarning,
  StoredPage,
} from '../domain/index.ts';
import { mergeInstrumentLists, parseRestrictedList } from '../parser/index.ts';
import { parseMockData } from './sources.ts';

export type ReadListResult =
  | { ok: true; instruments: DesiredInstrument[]; warnings: ParseWarning[]; checksums: PageChecksumReading[] }
  | {
      ok: false;
      code: 'ParseError' | 'InvalidMockData' | 'ChecksumMismatch';
      message: string;
      warnings: ParseWarning[];
      checksums: PageChecksumReading[];
      /** With ChecksumMismatch: the list the pages yield, which the sync refuses to apply. */
      instruments?: DesiredInstrument[];
    };

/** "page 163841 "Restricted Instruments List" v8 says it lists 42 instruments ("Instrument count: 42", in a paragraph) but 41 were read from it". */
export function describeMismatch(
  page: Pick<StoredPage, 'id' | 'title' | 'version'>,
  checksum: PageChecksum,
): string {
  return `page ${page.id} "${page.title}" v${page.version} says it lists ${checksum.expected} instrument${checksum.expected === 1 ? '' : 's'} ("${checksum.text}", in ${checksum.where}) but ${checksum.found} ${checksum.found === 1 ? 'was' : 'were'} read from it`;
}

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
  const checksums: PageChecksumReading[] = [];
  const mismatches: string[] = [];
  for (const page of pages) {
    if (page.format === 'mock-json') {
      try {
        perPage.push({ pageId: page.id, instruments: parseMockData(page.body, page.title) });
      } catch (error) {
        return { ok: false, code: 'InvalidMockData', message: (error as Error).message, warnings, checksums };
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
        checksums,
      };
    }
    if (result.checksum) {
      checksums.push({ pageId: page.id, ...result.checksum });
      if (!result.checksum.holds) mismatches.push(describeMismatch(page, result.checksum));
    }
    perPage.push({ pageId: page.id, instruments: result.instruments });
  }
  const merged = mergeInstrumentLists(
    perPage.map((p) => p.instruments),
    perPage.map((p) => p.pageId),
  );
  warnings.push(...merged.warnings);
  const instruments = attachSourcePages(merged.instruments, perPage);
  if (mismatches.length > 0) {
    // The page says what it lists, and the parse read something else: a deleted or misread row
    // must never pass unnoticed, so nothing is applied.
    return {
      ok: false,
      code: 'ChecksumMismatch',
      message: `${mismatches.join('; ')}; nothing applied`,
      warnings,
      checksums,
      instruments,
    };
  }
  return { ok: true, instruments, warnings, checksums };
}
