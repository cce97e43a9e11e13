/**
 * The CLI's HTTP client for the service's API: where it is (RLS_API_URL), which token to send
 * (RLS_API_TOKEN or RLS_API_TOKEN_FILE), and every failure as one line that says what to do.
 * The token goes in the Authorization header and nowhere else: no message ever contains it.
 */
import { readFile } from 'node:fs/promises';
import { EXIT } from './usage.ts';

export type Env = Readonly<Record<string, string | undefined>>;

export interface ApiTarget {
  baseUrl: string;
  token: string | null;
  /** Where the token came from, for messages (never the token itself). */
  tokenSource: 'RLS_API_TOKEN' | 'RLS_API_TOKEN_FILE' | null;
}

export interface ApiResponse {
  status: number;
  /** The body as the API sent it, for `--json`. */
  text: string;
  body: unknown;
}

/** A failure to show in one line; `response` is set when the API answered with its error JSON. */
export class CliError extends Error {
  readonly exitCode: number;
  readonly response: ApiResponse | null;
  constructor(message: string, exitCode: number = EXIT.failure, response: ApiResponse | null = null) {
    super(message);
    this.name = 'CliError';
    this.exitCode = exitCode;
    this.response = response;
  }
}

const DEFAULT_TIMEOUT_MS = 30_000;
// Visible ASCII only: anything else cannot go in a header, and fetch's own error would quote it.
const TOKEN_SHAPE = /^[\x21-\x7e]+$/;

function baseUrlFrom(env: Env): string {
  const raw = env.RLS_API_URL?.trim() || `http://localhost:${env.PORT?.trim() || '3000'}`;
  let url: URL;
  try {
    url = new URL(raw);
  } catch {
    throw new CliError(
      `RLS_API_URL: "${raw}" is not a URL; give the API's base URL, e.g. http://localhost:3000`,
    );
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') {
    throw new CliError(`RLS_API_URL: "${raw}" is not an http:// or https:// URL`);
  }
  if (url.username !== '' || url.password !== '') {
    throw new CliError(
      'RLS_API_URL must not contain a user name or password: put the API token in RLS_API_TOKEN',
    );
  }
  if (url.search !== '' || url.hash !== '')
    throw new CliError(`RLS_API_URL: "${raw}" has a query or fragment; give the API's base URL only`);
  // A path prefix (behind a reverse proxy) is kept; the trailing slash is not.
  return url.href.replace(/\/+$/, '');
}

/** Reads RLS_API_URL, PORT, RLS_API_TOKEN and RLS_API_TOKEN_FILE (the variable wins over the file). */
export async function resolveTarget(env: Env): Promise<ApiTarget> {
  const baseUrl = baseUrlFrom(env);
  let token: string | null = env.RLS_API_TOKEN?.trim() || null;
  let tokenSource: ApiTarget['tokenSource'] = token === null ? null : 'RLS_API_TOKEN';
  const file = env.RLS_API_TOKEN_FILE?.trim();
  if (token === null && file) {
    try {
      token = (await readFile(file, 'utf8')).trim() || null;
    } catch (error) {
      throw new CliError(
        `RLS_API_TOKEN_FILE: cannot read ${file}: ${(error as NodeJS.ErrnoException).code ?? (error as Error).message}`,
      );
    }
    if (token === null)
      throw new CliError(`RLS_API_TOKEN_FILE: ${file} is empty; it should hold the API token`);
    tokenSource = 'RLS_API_TOKEN_FILE';
  }
  if (token !== null && !TOKEN_SHAPE.test(token)) {
    throw new CliError(
      `${tokenSource}: the token has spaces or control characters; it should be the token alone`,
    );
  }
  return { baseUrl, token, tokenSource };
}

function networkProblem(error: unknown, timeoutMs: number): string {
  if ((error as Error).name === 'TimeoutError') return `no answer within ${timeoutMs / 1000} s`;
  const cause = (error as { cause?: { code?: string; message?: string; errors?: { code?: string }[] } })
    .cause;
  // With both an IPv4 and an IPv6 address (localhost), the cause is an AggregateError of both attempts.
  const code = cause?.code ?? cause?.errors?.[0]?.code;
  switch (code) {
    case 'ECONNREFUSED':
      return 'connection refused';
    case 'ENOTFOUND':
    case 'EAI_AGAIN':
      return 'host not found';
    case 'ECONNRESET':
    case 'UND_ERR_SOCKET':
      return 'the connection was closed';
    case 'ETIMEDOUT':
    case 'UND_ERR_CONNECT_TIMEOUT':
      return 'the connection timed out';
    case 'EHOSTUNREACH':
    case 'ENETUNREACH':
      return 'host unreachable';
    default:
      return cause?.message ?? (error as Error).message;
  }
}

function errorOf(body: unknown): { code: string; message: string } | null {
  const error = (body as { error?: { code?: unknown; message?: unknown } } | null)?.error;
  return typeof error?.code === 'string' && typeof error.message === 'string'
    ? { code: error.code, message: error.message }
    : null;
}

/** The one line for an API answer that is not a success. */
function refusal(target: ApiTarget, response: ApiResponse): CliError {
  const { status } = response;
  const tokenVariable = target.tokenSource ?? 'RLS_API_TOKEN';
  if (status === 401) {
    const message =
      target.token === null
        ? 'the API needs a token (401): set RLS_API_TOKEN (or RLS_API_TOKEN_FILE) to a read token'
        : `the API refused the token (401): set ${tokenVariable} to a read token`;
    return new CliError(message, EXIT.failure, response);
  }
  if (status === 403) {
    const message =
      target.token === null
        ? 'this needs an admin token (403): set RLS_API_TOKEN (or RLS_API_TOKEN_FILE) to an admin token'
        : `this needs an admin token (403): the token in ${tokenVariable} is not one of the API's admin tokens`;
    return new CliError(message, EXIT.failure, response);
  }
  const error = errorOf(response.body);
  if (error === null) {
    return new CliError(
      `the API at ${target.baseUrl} answered ${status} without the API's error JSON: is RLS_API_URL the restricted-list-sync API?`,
      EXIT.failure,
      response,
    );
  }
  if (error.code === 'not_found') {
    return new CliError(
      `${error.message} (${status} ${error.code}): is RLS_API_URL the restricted-list-sync API?`,
      EXIT.failure,
      response,
    );
  }
  // A 400 is the command's input (a bad --at, --side or ISIN): a usage error.
  return new CliError(
    `${error.message} (${status} ${error.code})`,
    status === 400 ? EXIT.usage : EXIT.failure,
    response,
  );
}

/** One request; resolves with a 2xx answer, throws a CliError for anything else. */
export async function callApi(
  target: ApiTarget,
  method: 'GET' | 'POST',
  path: string,
  options: { timeoutMs?: number } = {},
): Promise<ApiResponse> {
  const timeoutMs = options.timeoutMs ?? DEFAULT_TIMEOUT_MS;
  let response: Response;
  let text: string;
  try {
    response = await fetch(`${target.baseUrl}${path}`, {
      method,
      headers: {
        accept: 'application/json',
        ...(target.token === null ? {} : { authorization: `Bearer ${target.token}` }),
      },
      redirect: 'error',
      signal: AbortSignal.timeout(timeoutMs),
    });
    text = await response.text();
  } catch (error) {
    throw new CliError(
      `cannot reach the API at ${target.baseUrl}: ${networkProblem(error, timeoutMs)}; set RLS_API_URL`,
    );
  }
  let body: unknown = null;
  try {
    body = text === '' ? null : JSON.parse(text);
  } catch {
    // Not JSON: said below, without echoing whatever page answered.
  }
  const answer = { status: response.status, text, body };
  if (response.ok && body !== null) return answer;
  if (response.ok) {
    throw new CliError(
      `the API at ${target.baseUrl} answered ${response.status} without JSON: is RLS_API_URL the restricted-list-sync API?`,
      EXIT.failure,
      answer,
    );
  }
  throw refusal(target, answer);
}
