/**
 * HTTP errors with the contract's JSON shape, `{"error":{"code","message"}}`. Handlers, guards and
 * request validation throw these; the error middleware answers them with their status and words,
 * as JSON on API routes and as the dashboard's error page on HTML routes. Anything else is a 500
 * without internals.
 */
export class HttpError extends Error {
  readonly status: number;
  readonly code: string;
  constructor(status: number, code: string, message: string) {
    super(message);
    this.name = new.target.name;
    this.status = status;
    this.code = code;
  }
  toJSON(): { error: { code: string; message: string } } {
    return { error: { code: this.code, message: this.message } };
  }
}

export class BadRequestError extends HttpError {
  constructor(code: string, message: string) {
    super(400, code, message);
  }
}

export class UnauthorizedError extends HttpError {
  constructor(message: string) {
    super(401, 'unauthorized', message);
  }
}

export class ForbiddenError extends HttpError {
  constructor(code: 'forbidden' | 'cross_site' | 'invalid_csrf', message: string) {
    super(403, code, message);
  }
}

export class NotFoundError extends HttpError {
  constructor(code = 'not_found', message = 'no such endpoint') {
    super(404, code, message);
  }
}

/** A path the API knows, asked with a method it does not answer; `allow` goes in the Allow header. */
export class MethodNotAllowedError extends HttpError {
  readonly allow: readonly string[];
  constructor(method: string, allow: readonly string[]) {
    super(405, 'method_not_allowed', `${method} is not allowed here; use ${allow.join(' or ')}`);
    this.allow = allow;
  }
}

export class ConflictError extends HttpError {
  constructor(code: string, message: string) {
    super(409, code, message);
  }
}

export class PayloadTooLargeError extends HttpError {
  constructor(message: string) {
    super(413, 'body_too_large', message);
  }
}

export class ServiceUnavailableError extends HttpError {
  constructor(code: string, message: string) {
    super(503, code, message);
  }
}

export const listUnavailable = () =>
  new ServiceUnavailableError(
    'list_unavailable',
    'no restricted list has been loaded yet (no sync has succeeded): the service cannot say an instrument is not restricted',
  );

/**
 * A body parser's refusal (express.json, express.urlencoded) as an HttpError; null for anything
 * else. Dashboard forms get their own words (the page shows the message).
 */
export function bodyParserError(error: unknown, form: boolean): HttpError | null {
  const type = (error as { type?: unknown } | null)?.type;
  if (type === 'entity.too.large')
    return new PayloadTooLargeError(form ? 'the form is too large' : 'the request body is too large');
  if (form && (type === 'entity.parse.failed' || type === 'parameters.too.many'))
    return new BadRequestError('invalid_form', 'the form could not be read');
  if (type === 'entity.parse.failed')
    return new BadRequestError('invalid_json', 'the request body is not valid JSON');
  return null;
}
