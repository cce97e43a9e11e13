import { createV1Client, createV2Client, type V1Client, type V2Client } from 'confluence.js';
import type { PageVersion } from '../domain/index.ts';
import type { CloudSettings, ConfluenceReader } from './client.ts';
import { discoverCloudId, onceUntilFailure } from './cloud-id.ts';
import { ConfluenceNotFoundError, ConfluenceUnavailableError, toConfluenceError } from './errors.ts';
import { DEFAULT_TIMEOUT_MS, resolvePageRef } from './resolve.ts';
import { CALL_SCOPES } from './scopes.ts';

/** Confluence caps v2 list endpoints at 250 results per request. */
const V2_PAGE_LIMIT = 250;

/** The `cursor` of a `_links.next` URL, or null on the last page. */
function nextCursor(links: { next?: string | undefined } | null | undefined): string | null {
  if (!links?.next) return null;
  return new URL(links.next, 'http://confluence.invalid').searchParams.get('cursor');
}

/**
 * Atlassian Cloud on confluence.js: v2 for pages, v1 for CQL. With a scoped token every call goes
 * to `{gateway}/ex/confluence/{cloudId}` (confluence.js adds `/wiki/…`), while the links people
 * open stay on the site.
 */
export function createCloudReader(settings: CloudSettings): ConfluenceReader {
  const auth = { type: 'basic' as const, email: settings.username, apiToken: settings.apiToken };
  const timeoutMs = settings.timeoutMs ?? DEFAULT_TIMEOUT_MS;
  const displayNames = new Map<string, string>();
  const { scoped } = settings;
  // A scoped token's cloud id: configured, shared by the caller, or discovered from the site (the
  // clients built on it are kept, so it is asked for once, again only after a failure).
  const cloudIdOf = (gateway: NonNullable<typeof scoped>): Promise<string> =>
    typeof gateway.cloudId === 'string'
      ? Promise.resolve(gateway.cloudId)
      : (gateway.cloudId?.() ??
        discoverCloudId(settings.url, {
          timeoutMs,
          ...(settings.onRequest ? { onRequest: settings.onRequest } : {}),
        }));

  const clientsFor = onceUntilFailure(async () => {
    const host =
      scoped === undefined ? settings.url : `${scoped.gatewayUrl}/ex/confluence/${await cloudIdOf(scoped)}`;
    return { v1: createV1Client({ host, auth }), v2: createV2Client({ host, auth }) };
  });

  /** Runs one request with a deadline and turns every failure into a typed ConfluenceError. */
  async function call<T>(
    operation: string,
    scope: string,
    request: (api: { v1: V1Client; v2: V2Client }) => Promise<T>,
  ): Promise<T> {
    // The cloud id comes first (once), with its own timeout and errors.
    const api = await clientsFor();
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
      return await Promise.race([request(api), deadline]);
    } catch (error) {
      if (error instanceof ConfluenceUnavailableError) throw error;
      throw toConfluenceError(operation, error, {
        username: settings.username,
        scoped: scoped !== undefined,
        scope: scoped === undefined ? null : scope,
      });
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
      const users = await call(`look up user ${accountId}`, CALL_SCOPES.users, ({ v2 }) =>
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
      const page = await call(`search "${cql}"`, CALL_SCOPES.search, ({ v1 }) =>
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
    resolvePageId: (ref) => resolvePageRef(ref, cqlSearch),

    async getPage(id) {
      const operation = `get page ${id}`;
      const page = await call(operation, CALL_SCOPES.pages, ({ v2 }) =>
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
          const page = await call(`get versions of pages ${chunk.join(', ')}`, CALL_SCOPES.pages, ({ v2 }) =>
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
      const spaces = await call(`find space ${spaceKey}`, CALL_SCOPES.spaces, ({ v2 }) =>
        v2.space.getSpaces({ keys: [spaceKey] }),
      );
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
        const page = await call(`list pages of space ${spaceKey}`, CALL_SCOPES.pages, ({ v2 }) =>
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
