import {
  createV2Client,
  isAuthError,
  isForbiddenError,
  isNetworkError,
  isNotFoundError,
  isRateLimitError,
  isServerError,
  type V2Client,
} from 'confluence.js';
import type { PageRef } from './page-ref.ts';

/** A page as the sync needs it. */
export interface ConfluencePage {
  id: string;
  title: string;
  version: number;
  /** Who saved this version (account id until display names are looked up). */
  editedBy: string | null;
  editedAt: string | null;
  url: string | null;
  /** Storage format (XHTML with ac:/ri: elements). */
  storage: string;
}

/** The narrow interface the activities depend on. */
export interface ConfluenceReader {
  resolvePageId(ref: PageRef): Promise<string>;
  getPage(id: string): Promise<ConfluencePage>;
}

export interface ConfluenceSettings {
  url: string;
  username: string;
  apiToken: string;
}

/** Base for every failure the client raises; messages name the operation and the page, never the token. */
export class ConfluenceError extends Error {
  readonly operation: string;
  constructor(operation: string, message: string, options?: ErrorOptions) {
    super(`${operation}: ${message}`, options);
    this.name = new.target.name;
    this.operation = operation;
  }
}
/** 401/403: the credentials are wrong, revoked, or lack access. Retrying will not help. */
export class ConfluenceAuthError extends ConfluenceError {}
/** 404: the page does not exist or is not visible to this user. */
export class ConfluenceNotFoundError extends ConfluenceError {}
/** 429: retry after the server's delay. */
export class ConfluenceRateLimitError extends ConfluenceError {
  readonly retryAfterMs: number | null;
  constructor(operation: string, message: string, retryAfterMs: number | null, options?: ErrorOptions) {
    super(operation, message, options);
    this.retryAfterMs = retryAfterMs;
  }
}
/** 5xx, timeouts, resets, truncated or malformed bodies: transient. */
export class ConfluenceUnavailableError extends ConfluenceError {}

function toConfluenceError(operation: string, username: string, error: unknown): ConfluenceError {
  const status = (error as { status?: number }).status;
  if (isAuthError(error) || isForbiddenError(error)) {
    return new ConfluenceAuthError(
      operation,
      `Confluence rejected the credentials for user ${username} (${status}): check CONFLUENCE_USERNAME and CONFLUENCE_API_TOKEN, and that the user can read the page`,
      { cause: error },
    );
  }
  if (isNotFoundError(error)) {
    return new ConfluenceNotFoundError(
      operation,
      'Confluence answered 404: the page does not exist or this user cannot see it; check RESTRICTED_INSTRUMENTS_PAGE_URL',
      { cause: error },
    );
  }
  if (isRateLimitError(error)) {
    const retryAfterMs = (error as { retryAfterMs?: number }).retryAfterMs ?? null;
    return new ConfluenceRateLimitError(
      operation,
      `Confluence is rate limiting requests (429${retryAfterMs === null ? '' : `, retry after ${Math.ceil(retryAfterMs / 1000)} s`})`,
      retryAfterMs,
      { cause: error },
    );
  }
  if (isServerError(error) || isNetworkError(error)) {
    return new ConfluenceUnavailableError(
      operation,
      `Confluence is unavailable (${status ?? (error as Error).message})`,
      { cause: error },
    );
  }
  // Anything else (a body that does not match the API's schema, a truncated body) is the server's
  // fault as far as we can tell, and may well go away: treat it as transient.
  return new ConfluenceUnavailableError(operation, `unexpected answer from Confluence: ${(error as Error).message}`, {
    cause: error,
  });
}

export function createConfluenceReader(settings: ConfluenceSettings): ConfluenceReader {
  const client: V2Client = createV2Client({
    host: settings.url,
    auth: { type: 'basic', email: settings.username, apiToken: settings.apiToken },
  });

  async function call<T>(operation: string, request: () => Promise<T>): Promise<T> {
    try {
      return await request();
    } catch (error) {
      throw toConfluenceError(operation, settings.username, error);
    }
  }

  return {
    async resolvePageId(ref) {
      if (ref.kind === 'id') return ref.id;
      // Resolving /display/KEY/Title links needs a title search; it arrives with the full client.
      throw new ConfluenceNotFoundError(
        `resolve page "${ref.title}" in space ${ref.spaceKey}`,
        'links of the form /display/KEY/Title are not supported yet; use the page link that contains the page id',
      );
    },

    async getPage(id) {
      const operation = `get page ${id}`;
      const page = await call(operation, () => client.page.getPageById({ id: Number(id), bodyFormat: 'storage' }));
      const storage = page.body?.storage?.value;
      const version = page.version?.number;
      if (typeof storage !== 'string' || typeof version !== 'number') {
        throw new ConfluenceUnavailableError(operation, 'the answer has no storage body or version number');
      }
      const webui = (page._links as { webui?: string } | null | undefined)?.webui;
      return {
        id: page.id ?? id,
        title: page.title ?? `page ${id}`,
        version,
        editedBy: page.version?.authorId ?? null,
        editedAt: page.version?.createdAt ? new Date(page.version.createdAt).toISOString() : null,
        url: webui ? `${settings.url}/wiki${webui}` : null,
        storage,
      };
    },
  };
}
