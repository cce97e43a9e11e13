import { readFile } from 'node:fs/promises';
import { z } from 'zod';
import type { ConfluenceReader } from '../confluence/client.ts';
import type { PageRef } from '../confluence/page-ref.ts';
import type { StoredPage } from '../db/sync-runs.ts';
import { isValidIsin, normaliseIsin, normaliseTicker } from '../parser/index.ts';
import { RESTRICTION_TYPES, type ParsedInstrument } from '../parser/types.ts';

/** Where the list comes from: Confluence in production, a JSON file with USE_MOCK_DATA. */
export interface ListSource {
  fetchPages(): Promise<StoredPage[]>;
}

export function createConfluenceListSource(reader: ConfluenceReader, refs: readonly PageRef[]): ListSource {
  return {
    async fetchPages() {
      const pages: StoredPage[] = [];
      for (const ref of refs) {
        const page = await reader.getPage(await reader.resolvePageId(ref));
        pages.push({
          id: page.id,
          title: page.title,
          version: page.version,
          url: page.url,
          editedBy: page.editedBy,
          editedAt: page.editedAt,
          format: 'storage',
          body: page.storage,
        });
      }
      return pages;
    },
  };
}

export const MOCK_PAGE_ID = 'mock';

/** The seed format: an array of `{ticker, isin, reason, restriction_type}`. */
const mockEntrySchema = z.object({
  ticker: z.string().trim().min(1).nullish(),
  isin: z.string().trim().min(1).nullish(),
  name: z.string().trim().min(1).nullish(),
  reason: z.string().trim().min(1).nullish(),
  restriction_type: z.enum(RESTRICTION_TYPES).nullish(),
  effective_from: z.iso.date().nullish(),
  expires_at: z.iso.date().nullish(),
});
const mockFileSchema = z.array(mockEntrySchema);

export class MockDataError extends Error {
  override name = 'MockDataError';
}

export function createMockListSource(path: string): ListSource {
  return {
    async fetchPages() {
      let body: string;
      try {
        body = await readFile(path, 'utf8');
      } catch (error) {
        throw new MockDataError(`cannot read the mock data file ${path} (MOCK_DATA_PATH): ${(error as Error).message}`);
      }
      return [
        { id: MOCK_PAGE_ID, title: path, version: 1, url: null, editedBy: null, editedAt: null, format: 'mock-json', body },
      ];
    },
  };
}

/** Reads the seed format; the entries then go through the same normalisation as page rows. */
export function parseMockData(body: string, label: string): ParsedInstrument[] {
  let json: unknown;
  try {
    json = JSON.parse(body);
  } catch (error) {
    throw new MockDataError(`${label} is not valid JSON: ${(error as Error).message}`);
  }
  const parsed = mockFileSchema.safeParse(json);
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    throw new MockDataError(`${label}: entry ${issue?.path.join('.')} ${issue?.message}`);
  }
  return parsed.data.map((entry, index) => {
    const ticker = entry.ticker ? normaliseTicker(entry.ticker) || null : null;
    const isin = entry.isin ? normaliseIsin(entry.isin) : null;
    if (ticker === null && isin === null) throw new MockDataError(`${label}: entry ${index} has neither ticker nor isin`);
    // A seed file is written by hand for tests and demos: an invalid ISIN is a mistake to fix, not to skip.
    if (isin !== null && !isValidIsin(isin)) throw new MockDataError(`${label}: entry ${index} has an invalid ISIN "${entry.isin}"`);
    return {
      ticker,
      isin,
      name: entry.name ?? null,
      restriction_type: entry.restriction_type ?? 'full',
      reason: entry.reason ?? null,
      effective_from: entry.effective_from ?? null,
      expires_at: entry.expires_at ?? null,
    };
  });
}
