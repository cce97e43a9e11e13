import { STATUS_CODES } from 'node:http';
import {
  isAuthError,
  isForbiddenError,
  isNetworkError,
  isNotFoundError,
  isRateLimitError,
  isScopeError,
  isServerError,
} from 'confluence.js';
import { SERVICE_SCOPES } from './scopes.ts';

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
/**
 * A setting only Confluence could prove wrong (the site publishes no cloud id): retrying will not
 * help, the configuration must change. The message starts with the variable to set.
 */
export class ConfluenceConfigError extends ConfluenceError {
  readonly variable: string;
  constructor(variable: string, message: string, options?: ErrorOptions) {
    super(variable, message, options);
    this.variable = variable;
  }
}

/** Longer waits than this (Data Center answers a blocked user with Retry-After: Long.MAX_VALUE) are read as this. */
export const MAX_RETRY_AFTER_MS = 60 * 60 * 1000;

/** `Retry-After` in ms: delta-seconds or an HTTP date; null when absent or unreadable. */
export function parseRetryAfter(header: string | null, now = Date.now()): number | null {
  if (header === null || header.trim() === '') return null;
  const seconds = Number(header);
  const ms = Number.isFinite(seconds) ? seconds * 1000 : Date.parse(header) - now;
  if (Number.isNaN(ms)) return null;
  return Math.min(MAX_RETRY_AFTER_MS, Math.max(0, ms));
}

export function rateLimitMessage(retryAfterMs: number | null, detail?: string): string {
  const wait = retryAfterMs === null ? '' : `, retry after ${Math.ceil(retryAfterMs / 1000)} s`;
  return `Confluence is rate limiting requests (429${wait})${detail ? `: ${detail}` : ''}`;
}

/** Cloud: who is asking, and how, so that a refusal can say what to fix. */
export interface CloudErrorContext {
  username: string;
  /** The token is a scoped one, sent through the API gateway. */
  scoped: boolean;
  /** The granular scope the call needs (gateway only). */
  scope: string | null;
}

/** Whether a 401/403 from Cloud is about the token's scopes rather than the credentials. */
function namesScope(error: unknown): boolean {
  if (isScopeError(error)) return true;
  const body = (error as { body?: unknown }).body;
  return /scope/i.test(typeof body === 'string' ? body : JSON.stringify(body ?? ''));
}

/** Turns what confluence.js throws into our typed errors. */
export function toConfluenceError(
  operation: string,
  error: unknown,
  context: CloudErrorContext,
): ConfluenceError {
  const status = (error as { status?: number }).status;
  const { username } = context;
  if ((isAuthError(error) || isForbiddenError(error)) && namesScope(error)) {
    const message = context.scoped
      ? `Confluence refused the scoped API token of ${username} (${status}: scope does not match): ${context.scope ? `this call needs ${context.scope}; ` : ''}the token needs the scopes ${SERVICE_SCOPES.join(', ')}`
      : `Confluence refused the API token of ${username} (${status}: scope does not match): it is a scoped API token, which works only through the Atlassian API gateway; set CONFLUENCE_API_TOKEN_SCOPED=true`;
    return new ConfluenceAuthError(operation, message, { cause: error });
  }
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
    const given = (error as { retryAfterMs?: number }).retryAfterMs;
    const retryAfterMs = given === undefined ? null : Math.min(MAX_RETRY_AFTER_MS, given);
    return new ConfluenceRateLimitError(operation, rateLimitMessage(retryAfterMs), retryAfterMs, {
      cause: error,
    });
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
