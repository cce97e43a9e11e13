import { createV1Client, createV2Client, type V1Client, type V2Client } from 'confluence.js';
import { ConfluenceNotFoundError, ConfluenceUnavailableError, toConfluenceError } from './errors.ts';
import type { PageVersion } from '../domain/index.ts';
import { parsePageRef, type PageRef } from './page-ref.ts';

export {
  ConfluenceAuthError,
  ConfluenceError,
  ConfluenceNotFoundError,
  ConfluenceRateLimitError,
  ConfluenceUnavailableError,
} from './errors.ts';

/** A page as the sync needs it. */
export interface ConfluencePage {
  id: string;
  title: string;
  version: number;
  /** Display name of who saved this version (their account id if the name cannot be looked up). */
  editedBy: string | null;
  editedAt: string | null;
  url: string | null;
  /** Storage format (XHTML with ac:/ri: elements). */
  storage: string;
}

/** The narrow interface the activities and the CLI depend on. */
export interface ConfluenceReader {
  /** Any link form of the contract, or a bare id. */
  resolvePageId(ref: string | PageRef): Promise<string>;
  getPage(id: string): Promise<ConfluencePage>;
  /** Current versions of many pages, bodies not included; pages that are gone are absent. */
  getPageVersions(ids: readonly string[]): Promise<Map<string, PageVersion>>;
  /** Every page the CQL matches (all result pages followed). */
  cqlSearch(cql: string, options?: { expand?: string[]; limit?: number }): Promise<PageVersion[]>;
  /** Ids of every page in a space (ids only, for deletion detection in large spaces). */
  getSpacePageIds(spaceKey: string): Promise<string[]>;
}

export interface ConfluenceSettings {
  url: string;
  username: string;
  apiToken: string;
  /** Per request; a request that takes longer is a ConfluenceUnavailableError. */
  timeoutMs?: number;
  /** Called once per HTTP request sent (for the requests-by-purpose metric). */
  onRequest?: () => void;
}

const DEFAULT_TIMEOUT_MS = 30_000;
/** Confluence caps v2 list endpoints at 250 results per request. */
const V2_PAGE_LIMIT = 250;

/** The `cursor` of a `_links.next` URL, or null on the last page. */
function nextCursor(links: { next?: string | undefined } | null | undefined): string | null {
  if (!links?.next) return null;
  return new URL(links.next, 'http://confluence.invalid').searchParams.get('cursor');
}

function cqlString(value: string): string {
  return `"${value.replaceAll('\\', '\\\\').replaceAll('"', '\\"')}"`;
}

export function createConfluenceReader(settings: ConfluenceSettings): ConfluenceReader {
  const auth = { type: 'basic' as const, email: settings.username, apiToken: settings.apiToken };
  const v2: V2Client = createV2Client({ host: settings.url, auth });
  const v1: V1Client = createV1Client({ host: settings.url, auth });
  const timeoutMs = settings.timeoutMs ?? DEFAULT_TIMEOUT_MS;
  const displayNames = new Map<string, string>();

  /** Runs one request with a deadline and turns every failure into a typed ConfluenceError. */
  async function call<T>(operation: string, request: () => Promise<T>): Promise<T> {
    settings.onRequest?.();
    let timer: NodeJS.Timeout | undefined;
    const deadline = new Promise<never>((_, reject) => {
      timer = setTimeout(
        () =>
          reject(
            new ConfluenceUnavailableError(
              operation,
              `Confluence did not answer within ${timeoutMs / 1000} s`,
            ),
          ),
        timeoutMs,
      );
    });
    try {
      return await Promise.race([request(), deadline]);
    } catch (error) {
      if (error instanceof ConfluenceUnavailableError) throw error;
      throw toConfluenceError(operation, settings.username, error);
    } finally {
      clearTimeout(timer);
    }
  }

  /** Display names for the change log; an account id stands in when the lookup is not allowed. */
  async function displayName(accountId: string | undefined): Promise<string | null> {
    if (!accountId) return null;
    const known = displayNames.get(accountId);
    if (known) return known;
    try {
      const users = await call(`look up user ${accountId}`, () =>
        v2.user.createBulkUserLookup({ body: { accountIds: [accountId] } }),
      );
      const name = users.results?.find((user) => user.accountId === accountId)?.displayName;
      if (name) displayNames.set(accountId, name);
      return name ?? accountId;
    } catch {
      return accountId;
    }
  }

  async function cqlSearch(
    cql: string,
    options: { expand?: string[]; limit?: number } = {},
  ): Promise<PageVersion[]> {
    const found: PageVersion[] = [];
    let cursor: string | null = null;
    do {
      const page = await call(`search "${cql}"`, () =>
        v1.content.searchContentByCQL({
          cql,
          limit: options.limit ?? 100,
          expand: options.expand ?? ['version'],
          ...(cursor === null ? {} : { cursor }),
        }),
      );
      for (const content of page.results) {
        if (content.id === undefined || content.type !== 'page') continue;
        found.push({ id: content.id, title: content.title ?? '', version: content.version?.number ?? 0 });
      }
      cursor = nextCursor(page._links);
    } while (cursor !== null);
    return found;
  }

  return {
    async resolvePageId(ref) {
      const parsed = typeof ref === 'string' ? parsePageRef(ref) : ref;
      if (parsed.kind === 'id') return parsed.id;
      const operation = `resolve page "${parsed.title}" in space ${parsed.spaceKey}`;
      const matches = await cqlSearch(
        `type = page and space = ${cqlString(parsed.spaceKey)} and title = ${cqlString(parsed.title)}`,
      );
      const exact = matches.filter((page) => page.title === parsed.title);
      const match = exact[0] ?? matches[0];
      if (match === undefined) {
        throw new ConfluenceNotFoundError(
          operation,
          'no page has that title in that space (or this user cannot see it); check RESTRICTED_INSTRUMENTS_PAGE_URL',
        );
      }
      return match.id;
    },

    async getPage(id) {
      const operation = `get page ${id}`;
      const page = await call(operation, () =>
        v2.page.getPageById({ id: Number(id), bodyFormat: 'storage' }),
      );
      const storage = page.body?.storage?.value;
      const version = page.version?.number;
      if (typeof storage !== 'string' || typeof version !== 'number') {
        throw new ConfluenceUnavailableError(operation, 'the answer has no storage body or version number');
      }
      return {
        id: page.id ?? id,
        title: page.title ?? `page ${id}`,
        version,
        editedBy: await displayName(page.version?.authorId),
        editedAt: page.version?.createdAt ? new Date(page.version.createdAt).toISOString() : null,
        url: page._links?.webui ? `${settings.url}/wiki${page._links.webui}` : null,
        storage,
      };
    },

    async getPageVersions(ids) {
      const versions = new Map<string, PageVersion>();
      for (let start = 0; start < ids.length; start += V2_PAGE_LIMIT) {
        const chunk = ids.slice(start, start + V2_PAGE_LIMIT);
        let cursor: string | null = null;
        do {
          const page = await call(`get versions of pages ${chunk.join(', ')}`, () =>
            v2.page.getPages({
              id: chunk.map(Number),
              limit: V2_PAGE_LIMIT,
              ...(cursor === null ? {} : { cursor }),
            }),
          );
          for (const summary of page.results ?? []) {
            if (summary.id === undefined || typeof summary.version?.number !== 'number') continue;
            versions.set(summary.id, {
              id: summary.id,
              title: summary.title ?? '',
              version: summary.version.number,
            });
          }
          cursor = nextCursor(page._links);
        } while (cursor !== null);
      }
      return versions;
    },

    cqlSearch,

    async getSpacePageIds(spaceKey) {
      const spaces = await call(`find space ${spaceKey}`, () => v2.space.getSpaces({ keys: [spaceKey] }));
      const spaceId = spaces.results?.find((space) => space.key === spaceKey)?.id;
      if (spaceId === undefined) {
        throw new ConfluenceNotFoundError(
          `find space ${spaceKey}`,
          'no such space, or this user cannot see it',
        );
      }
      const ids: string[] = [];
      let cursor: string | null = null;
      do {
        const page = await call(`list pages of space ${spaceKey}`, () =>
          v2.page.getPagesInSpace({
            id: Number(spaceId),
            limit: V2_PAGE_LIMIT,
            ...(cursor === null ? {} : { cursor }),
          }),
        );
        for (const summary of page.results ?? []) if (summary.id !== undefined) ids.push(summary.id);
        cursor = nextCursor(page._links);
      } while (cursor !== null);
      return ids;
    },
  };
}
