import { z } from 'zod';
import { BadRequestError } from './errors.ts';

/**
 * Request validation by the route table's schemas, and the API's error codes for what they refuse.
 *
 * A schema names its own code for a refusal with `refuse` (a zod custom issue carrying
 * `params.code`); zod's own issues (an enum, a pattern) become `invalid_<field>` with zod's words.
 * Messages are written relative to the issue's path, which is put in front of them: `ticker must
 * be given once`, `items[3].ticker must be given once`.
 */

type Issue = z.core.$ZodIssue;

export interface Refusal {
  /** The API's error code, e.g. `missing_identifier`. */
  code: string;
  message: string;
  /** Relative to the value being checked; the field the message is about. */
  path?: PropertyKey[];
  /**
   * `field` (the default): the message is said of the path (`at must be …`, `items[2] must be …`).
   * `check`: a sentence about one check, prefixed with the check's path (`items[2].give ticker …`),
   * as the API has always written them.
   */
  about?: 'field' | 'check';
}

/** Adds the refusal to a zod refinement or transform context. */
export function refuse(ctx: z.core.$RefinementCtx, refusal: Refusal): void {
  ctx.issues.push({
    code: 'custom',
    message: refusal.message,
    input: ctx.value,
    path: refusal.path ?? [],
    params: { code: refusal.code, about: refusal.about ?? 'field' },
  });
}

/** `items[3].ticker` */
function pathText(path: readonly PropertyKey[]): string {
  return path
    .map((part, index) =>
      typeof part === 'number' ? `[${part}]` : `${index === 0 ? '' : '.'}${String(part)}`,
    )
    .join('');
}

/**
 * The issue a caller is told about: the first one, except that a problem with the request's own
 * fields (the batch's `items` or `at`) comes before a problem inside one of its items.
 */
export function requestError(issues: readonly Issue[]): BadRequestError {
  const issue = issues.find((candidate) => candidate.path.length <= 1) ?? issues[0];
  if (issue === undefined) return new BadRequestError('invalid_request', 'the request is not valid');
  const where = pathText(issue.path);
  const params = issue.code === 'custom' ? (issue.params as Partial<Refusal> | undefined) : undefined;
  if (params?.code !== undefined) {
    const message =
      where === ''
        ? issue.message
        : params.about === 'check'
          ? `${where}.${issue.message}`
          : `${where} ${issue.message}`;
    return new BadRequestError(params.code, message);
  }
  const field = String(issue.path[0] ?? 'request');
  return new BadRequestError(`invalid_${field}`, `${field}: ${issue.message}`);
}

/** Parses `value` with `schema`; a refusal is a 400 with the API's code for it. */
export function parseRequest<S extends z.ZodType>(schema: S, value: unknown): z.output<S> {
  const result = schema.safeParse(value);
  if (!result.success) throw requestError(result.error.issues);
  return result.data;
}

/**
 * Every query parameter of the JSON API is given once (`?ticker=A&ticker=B` is refused rather than
 * one of them silently chosen); checked for every parameter, known or not, before the route's
 * schema.
 */
export const givenOnce = z.record(
  z.string(),
  z.unknown().superRefine((value, ctx) => {
    if (typeof value !== 'string') refuse(ctx, { code: 'invalid_query', message: 'must be given once' });
  }),
);
