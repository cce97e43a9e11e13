import type { PageVersion } from '../domain/index.ts';
import type { ConfluencePage, ConfluenceReader, DataCenterSettings } from './client.ts';
import {
  ConfluenceAuthError,
  ConfluenceError,
  ConfluenceNotFoundError,
  ConfluenceRateLimitError,
  ConfluenceUnavailableError,
  parseRetryAfter,
  rateLimitMessage,
} from './errors.ts';
import { DEFAULT_TIMEOUT_MS, resolvePageRef } from './resolve.ts';

/** The REST v1 shapes we read (Data Center sends much more). */
interface DcUser {
  type?: string;
  username?: string;
  userKey?: string;
  displayName?: string;
}
interface DcContent {
  id?: string;
  type?: string;
  title?: string;
  version?: { number?: number; when?: string; by?: DcUser };
  body?: { storage?: { value?: string } };
  _links?: { webui?: string };
}
interface DcList<T> {
  results?: T[];
  start?: number;
  limit?: number;
  size?: number;
  _links?: { next?: string };
}

/** Data Center caps search results per request (and slows down well before its cap). */
const SEARCH_LIMIT = 100;
/** Ids per `id in (…)` search: one request for the versions of up to this many named pages. */
const VERSIONS_PER_REQUEST = 100;
const SPACE_LIST_LIMIT = 200;

/** The next `start` of a start/limit list, or null on its last page. */
function nextStart(list: DcList<unknown>, start: number): number | null {
  const next = list._links?.next;
  const count = list.results?.length ?? 0;
  if (!next || count === 0) return null;
  // The link's own start when it has one: the CQL in DC's next links is not always encoded safely,
  // so we send our own request for the next page rather than the link itself.
  const fromLink = Number(new URL(next, 'http://confluence.invalid').searchParams.get('start'));
  return Number.isInteger(fromLink) && fromLink > start ? fromLink : start + count;
}

/** A Data Center header that explains a 429: the token bucket's state. */
function rateLimitDetail(headers: Headers): string | undefined {
  const limit = headers.get('x-ratelimit-limit');
  const remaining = headers.get('x-ratelimit-remaining');
  const fillRate = headers.get('x-ratelimit-fillrate');
  const interval = headers.get('x-ratelimit-interval-seconds');
  if (limit === '0' || fillRate === '0') {
    return "this user's REST requests are blocked by a rate limit a Confluence admin set (X-RateLimit-Limit 0); ask them to allow the service's user";
  }
  if (limit === null) return undefined;
  const refill = fillRate !== null && interval !== null ? `, ${fillRate} more every ${interval} s` : '';
  return `${remaining ?? '?'} of ${limit} requests left${refill}`;
}

/**
 * Confluence Data Center / Server over REST v1 (`{base}/rest/api`: no `/wiki`, no v2), on plain
 * `fetch`: confluence.js speaks Cloud only. A personal access token goes as a bearer token, a
 * username and password as basic auth. Failures are the same typed errors as on Cloud.
 */
export function createDataCenterReader(settings: DataCenterSettings): ConfluenceReader {
  const api = `${settings.url}/rest/api`;
  const timeoutMs = settings.timeoutMs ?? DEFAULT_TIMEOUT_MS;
  const authorization =
    settings.username === null
      ? `Bearer ${settings.apiToken}`
      : `Basic ${Buffer.from(`${settings.username}:${settings.apiToken}`).toString('base64')}`;
  const who =
    settings.username === null
      ? 'the personal access token'
      : `the credentials for user ${settings.username}`;
  const fix =
    settings.username === null
      ? 'check CONFLUENCE_API_TOKEN (a Data Center personal access token that has not expired or been revoked)'
      : "check CONFLUENCE_USERNAME and CONFLUENCE_API_TOKEN (that user's password)";

  function errorFor(operation: string, response: Response, text: string): ConfluenceError {
    const { status } = response;
    if (status === 401 || status === 403) {
      // After too many failed logins Data Center wants a CAPTCHA before it takes basic auth again.
      const captcha = response.headers.get('x-seraph-loginreason') === 'AUTHENTICATION_DENIED';
      return new ConfluenceAuthError(
        operation,
        captcha
          ? `Confluence wants a CAPTCHA for user ${settings.username} after failed logins (${status}): log in once in a browser, then ${fix}`
          : `Confluence rejected ${who} (${status}): ${fix}, and that the user can read the page`,
      );
    }
    if (status === 404) {
      return new ConfluenceNotFoundError(
        operation,
        'Confluence answered 404: the page does not exist or this user cannot see it; check RESTRICTED_INSTRUMENTS_PAGE_URL',
      );
    }
    if (status === 429) {
      const retryAfterMs = parseRetryAfter(response.headers.get('retry-after'));
      return new ConfluenceRateLimitError(
        operation,
        rateLimitMessage(retryAfterMs, rateLimitDetail(response.headers)),
        retryAfterMs,
      );
    }
    if (status >= 500)
      return new ConfluenceUnavailableError(operation, `Confluence is unavailable (${status})`);
    let message = text.slice(0, 200);
    try {
      message = String((JSON.parse(text) as { message?: unknown }).message ?? message);
    } catch {
      // not JSON: the text itself says it
    }
    // As on Cloud, anything else is the server's fault as far as we can tell, and may pass.
    return new ConfluenceUnavailableError(
      operation,
      `unexpected answer from Confluence: ${status} ${message}`,
    );
  }

  /** One GET with a deadline covering the whole answer; every failure a typed ConfluenceError. */
  async function get<T>(operation: string, path: string, query: Record<string, string | number>): Promise<T> {
    const url = new URL(`${api}${path}`);
    for (const [name, value] of Object.entries(query)) url.searchParams.set(name, String(value));
    settings.onRequest?.();
    const controller = new AbortController();
    const timer = setTimeout(() => controller.abort(), timeoutMs);
    try {
      const response = await fetch(url, {
        headers: { accept: 'application/json', authorization },
        signal: controller.signal,
      });
      const text = await response.text();
      if (!response.ok) throw errorFor(operation, response, text);
      try {
        return JSON.parse(text) as T;
      } catch (error) {
        throw new ConfluenceUnavailableError(
          operation,
          `unexpected answer from Confluence: the body is not JSON (${(error as Error).message})`,
        );
      }
    } catch (error) {
      if (error instanceof ConfluenceError) throw error;
      if (controller.signal.aborted) {
        throw new ConfluenceUnavailableError(
          operation,
          `Confluence did not answer within ${timeoutMs / 1000} s`,
          { cause: error },
        );
      }
      // fetch failed: refused, reset, DNS, a body cut short.
      const cause = (error as { cause?: { code?: string; message?: string } }).cause;
      throw new ConfluenceUnavailableError(
        operation,
        `Confluence is unavailable (${cause?.code ?? cause?.message ?? (error as Error).message})`,
        { cause: error },
      );
    } finally {
      clearTimeout(timer);
    }
  }

  const versionOf = (content: DcContent): PageVersion | null =>
    content.id === undefined || content.type !== 'page' || typeof content.version?.number !== 'number'
      ? null
      : { id: content.id, title: content.title ?? '', version: content.version.number };

  /** Every result of a paged v1 list, a page of results at a time (`queryAt` places `start`). */
  async function getAll(
    operation: string,
    path: string,
    queryAt: (start: number) => Record<string, string | number>,
  ) {
    const found: DcContent[] = [];
    let start: number | null = 0;
    while (start !== null) {
      const list: DcList<DcContent> = await get<DcList<DcContent>>(operation, path, queryAt(start));
      found.push(...(list.results ?? []));
      start = nextStart(list, start);
    }
    return found;
  }

  const search = (operation: string, cql: string, expand: string[], limit: number) =>
    getAll(operation, '/content/search', (start) => ({ cql, expand: expand.join(','), start, limit }));

  async function cqlSearch(
    cql: string,
    options: { expand?: string[]; limit?: number } = {},
  ): Promise<PageVersion[]> {
    const results = await search(
      `search "${cql}"`,
      cql,
      options.expand ?? ['version'],
      Math.min(options.limit ?? SEARCH_LIMIT, SEARCH_LIMIT),
    );
    return results.flatMap((content) => versionOf(content) ?? []);
  }

  return {
    resolvePageId: (ref) => resolvePageRef(ref, cqlSearch),

    async getPage(id): Promise<ConfluencePage> {
      const operation = `get page ${id}`;
      const page = await get<DcContent>(operation, `/content/${encodeURIComponent(id)}`, {
        expand: 'body.storage,version',
      });
      const storage = page.body?.storage?.value;
      const version = page.version?.number;
      if (typeof storage !== 'string' || typeof version !== 'number') {
        throw new ConfluenceUnavailableError(operation, 'the answer has no storage body or version number');
      }
      const by = page.version?.by;
      const when = page.version?.when ? new Date(page.version.when) : null;
      return {
        id: page.id ?? id,
        title: page.title ?? `page ${id}`,
        version,
        editedBy: by?.displayName || by?.username || null,
        editedAt: when !== null && !Number.isNaN(when.getTime()) ? when.toISOString() : null,
        url: page._links?.webui ? `${settings.url}${page._links.webui}` : null,
        storage,
      };
    },

    /**
     * DC has no v2 list of pages by id: one CQL `id in (…)` search with versions answers up to 100
     * named pages. The search reads the index, so a page it misses is asked for directly before
     * it counts as gone (an index lagging behind must never read as a deleted page).
     */
    async getPageVersions(ids) {
      const versions = new Map<string, PageVersion>();
      for (let at = 0; at < ids.length; at += VERSIONS_PER_REQUEST) {
        const chunk = ids.slice(at, at + VERSIONS_PER_REQUEST);
        const operation = `get versions of pages ${chunk.join(', ')}`;
        const found = await search(operation, `id in (${chunk.join(',')})`, ['version'], chunk.length);
        for (const content of found) {
          const version = versionOf(content);
          if (version !== null && chunk.includes(version.id)) versions.set(version.id, version);
        }
        for (const id of chunk.filter((id) => !versions.has(id))) {
          try {
            const content = await get<DcContent>(`get version of page ${id}`, `/content/${id}`, {
              expand: 'version',
            });
            const version = versionOf(content);
            if (version !== null) versions.set(id, version);
          } catch (error) {
            if (!(error instanceof ConfluenceNotFoundError)) throw error;
          }
        }
      }
      return versions;
    },

    cqlSearch,

    async getSpacePageIds(spaceKey) {
      try {
        await get(`find space ${spaceKey}`, `/space/${encodeURIComponent(spaceKey)}`, {});
      } catch (error) {
        if (!(error instanceof ConfluenceNotFoundError)) throw error;
        throw new ConfluenceNotFoundError(
          `find space ${spaceKey}`,
          'no such space, or this user cannot see it',
        );
      }
      const pages = await getAll(`list pages of space ${spaceKey}`, '/content', (start) => ({
        spaceKey,
        type: 'page',
        start,
        limit: SPACE_LIST_LIMIT,
      }));
      return pages.flatMap((content) => (content.id === undefined ? [] : [content.id]));
    },
  };
}
