import { STATUS_CODES } from 'node:http';
import {
  isAuthError,
  isForbiddenError,
  isNetworkError,
  isNotFoundError,
  isRateLimitError,
  isServerError,
} from 'confluence.js';

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

export function toConfluenceError(operation: string, username: string, error: unknown): ConfluenceError {
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
    // In words an operator reads in the status while the step is retried.
    const what =
      status === undefined
        ? `Confluence could not be reached (${(error as Error).message})`
        : `Confluence answered ${status} ${STATUS_CODES[status] ?? 'Server Error'}`;
    return new ConfluenceUnavailableError(operation, what, { cause: error });
  }
  // Anything else (a body that does not match the API's schema, a truncated body) is the server's
  // fault as far as we can tell, and may well go away: treat it as transient.
  return new ConfluenceUnavailableError(
    operation,
    `unexpected answer from Confluence: ${(error as Error).message}`,
    {
      cause: error,
    },
  );
}
