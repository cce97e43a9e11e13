import { createHash } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { z } from 'zod';
import type { Config } from '../config.ts';
import {
  ConfluenceNotFoundError,
  confluenceSettings,
  createConfluenceReader,
  type ConfluenceReader,
} from '../confluence/client.ts';
import { discoverCloudId, onceUntilFailure } from '../confluence/cloud-id.ts';
import type { PageRef } from '../confluence/page-ref.ts';
import { isValidIsin, normaliseIsin, normaliseTicker } from '../parser/index.ts';
import type { ProbedPages } from './watch.ts';
import {
  RESTRICTION_TYPES,
  type ParsedInstrument,
  type PageVersion,
  type StoredPage,
} from '../domain/index.ts';

/** A page whose version equals the one the last successful sync stored: its body is reused, not downloaded. */
export interface UnchangedPage {
  id: string;
  title: string;
  version: number;
  unchanged: true;
}

export type FetchedPage = StoredPage | UnchangedPage;

/** Where the list comes from: Confluence in production, a JSON file with USE_MOCK_DATA. */
export interface ListSource {
  /** `stored`: page id → version whose body the last successful sync kept (may be reused). */
  fetchPages(stored: ReadonlyMap<string, number>): Promise<FetchedPage[]>;
  /**
   * The list pages' current versions, as cheaply as the source allows (no bodies): for the edit
   * watch. A failure is the source's typed error, as for fetchPages.
   */
  probe(): Promise<ProbedPages>;
}

/** Why a request to Confluence was made, for the requests-by-purpose metric. */
export type RequestPurpose = 'sync' | 'probe';

export interface ListPages {
  /** Pages named in RESTRICTED_INSTRUMENTS_PAGE_URL: one that disappears fails the sync. */
  refs: readonly PageRef[];
  /** RESTRICTED_INSTRUMENTS_CQL: pages it no longer matches simply leave the list. */
  cql: string | null;
}

/** The named pages' ids, each once, in the order they are named (a title link costs a search). */
async function resolveNamed(reader: ConfluenceReader, refs: ListPages['refs']): Promise<string[]> {
  const ids: string[] = [];
  for (const ref of refs) {
    const id = await reader.resolvePageId(ref);
    if (!ids.includes(id)) ids.push(id);
  }
  return ids;
}

/** The named pages' current versions (one request), and the ids Confluence no longer has. */
async function namedVersions(reader: ConfluenceReader, ids: readonly string[]) {
  const current = ids.length > 0 ? await reader.getPageVersions([...ids]) : new Map<string, PageVersion>();
  return { current, missing: ids.filter((id) => !current.has(id)) };
}

/** Adds the pages the CQL matches (one search) that are not named already. */
async function addCqlMatches(reader: ConfluenceReader, cql: string | null, pages: Map<string, PageVersion>) {
  if (cql === null) return;
  for (const page of await reader.cqlSearch(cql)) if (!pages.has(page.id)) pages.set(page.id, page);
}

/**
 * Asks for versions first (one request for every named page, plus the CQL search), and downloads
 * only the pages that changed since the last successful sync.
 */
export function createConfluenceListSource(
  reader: ConfluenceReader,
  list: ListPages,
  /** The reader for the watch's probes (counted apart); the sync's reader by default. */
  probeReader: ConfluenceReader = reader,
): ListSource {
  // Named pages are resolved once for the probes: a title link costs a search otherwise, every tick.
  const namedIdsForProbe = onceUntilFailure(() => resolveNamed(probeReader, list.refs));
  return {
    async probe() {
      const { current, missing } = await namedVersions(probeReader, await namedIdsForProbe());
      await addCqlMatches(probeReader, list.cql, current);
      return { versions: new Map([...current].map(([id, page]) => [id, page.version])), missing };
    },

    async fetchPages(stored) {
      const { current, missing } = await namedVersions(reader, await resolveNamed(reader, list.refs));
      if (missing.length > 0) {
        throw new ConfluenceNotFoundError(
          `get page ${missing.join(', ')}`,
          'the page named in RESTRICTED_INSTRUMENTS_PAGE_URL no longer exists or this user cannot see it; the cached list is kept',
        );
      }
      await addCqlMatches(reader, list.cql, current);

      if (current.size === 0) {
        // An empty search is far more likely a broken label or query than an intended empty list:
        // fail (keeping the cache) rather than lift every restriction.
        throw new ConfluenceNotFoundError(
          `search "${list.cql}"`,
          'RESTRICTED_INSTRUMENTS_CQL matched no pages; the cached list is kept',
        );
      }
      const pages: FetchedPage[] = [];
      for (const { id, title, version } of current.values()) {
        if (stored.get(id) === version) {
          pages.push({ id, title, version, unchanged: true });
          continue;
        }
        const page = await reader.getPage(id);
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

/**
 * The seed file as one page. Its version is the content's hash, so an edit of the file is a new
 * version: change detection and the watch treat it as they treat a page.
 */
export function createMockListSource(path: string): ListSource {
  const read = async () => {
    try {
      return await readFile(path, 'utf8');
    } catch (error) {
      throw new MockDataError(
        `cannot read the mock data file ${path} (MOCK_DATA_PATH): ${(error as Error).message}`,
      );
    }
  };
  const versionOf = (body: string) =>
    Number.parseInt(createHash('sha256').update(body).digest('hex').slice(0, 7), 16);
  return {
    async fetchPages() {
      const body = await read();
      return [
        {
          id: MOCK_PAGE_ID,
          title: path,
          version: versionOf(body),
          url: null,
          editedBy: null,
          editedAt: null,
          format: 'mock-json',
          body,
        },
      ];
    },
    async probe() {
      return { versions: new Map([[MOCK_PAGE_ID, versionOf(await read())]]), missing: [] };
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
    if (ticker === null && isin === null)
      throw new MockDataError(`${label}: entry ${index} has neither ticker nor isin`);
    // A seed file is written by hand for tests and demos: an invalid ISIN is a mistake to fix, not to skip.
    if (isin !== null && !isValidIsin(isin))
      throw new MockDataError(`${label}: entry ${index} has an invalid ISIN "${entry.isin}"`);
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

/** The source the configuration names: the seed file with USE_MOCK_DATA, else Confluence. */
export function createListSource(
  config: Config,
  options: {
    onConfluenceRequest?: (purpose: RequestPurpose) => void;
    /** Per Confluence request (default 30 s). */
    timeoutMs?: number;
  } = {},
): ListSource {
  if (config.useMockData) return createMockListSource(config.mockDataPath);
  const { url } = config.confluence;
  // One cloud id for both readers: it is discovered once per process, by whichever asks first.
  const cloudId =
    config.confluence.scopedToken && config.confluence.cloudId === null && url !== null
      ? onceUntilFailure(() =>
          discoverCloudId(url, {
            ...(options.timeoutMs === undefined ? {} : { timeoutMs: options.timeoutMs }),
            onRequest: () => options.onConfluenceRequest?.('sync'),
          }),
        )
      : null;
  const reader = (purpose: RequestPurpose) =>
    createConfluenceReader({
      ...confluenceSettings(config.confluence, { cloudId }),
      ...(options.timeoutMs === undefined ? {} : { timeoutMs: options.timeoutMs }),
      onRequest: () => options.onConfluenceRequest?.(purpose),
    });
  return createConfluenceListSource(reader('sync'), { refs: config.pages, cql: config.cql }, reader('probe'));
}
