/** HTTP errors with the contract's JSON shape: `{"error":{"code","message"}}`. */
export class HttpError extends Error {
  readonly status: number;
  readonly code: string;
  constructor(status: number, code: string, message: string) {
    super(message);
    this.name = 'HttpError';
    this.status = status;
    this.code = code;
  }
  toJSON() {
    return { error: { code: this.code, message: this.message } };
  }
}

export const badRequest = (code: string, message: string) => new HttpError(400, code, message);
export const listUnavailable = () =>
  new HttpError(
    503,
    'list_unavailable',
    'no restricted list has been loaded yet (no sync has succeeded): the service cannot say an instrument is not restricted',
  );
export const notFound = () => new HttpError(404, 'not_found', 'no such endpoint');
