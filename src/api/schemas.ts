import { z } from 'zod';
import { RESTRICTION_TYPES, SIDES, SYNC_TRIGGERS, type CheckItem } from '../domain/index.ts';
import { isValidIsin, normaliseIsin, normaliseTicker } from '../parser/index.ts';
import { refuse, type Refusal } from './validation.ts';

/**
 * One schema per request and response of the HTTP API (contract, "HTTP API"), used by the route
 * table (routes.ts): request schemas validate and normalise what a caller sent, response schemas
 * are what handlers return (their types are `z.infer` of these, imported by the views, the CLI and
 * the dashboard), and /openapi.json is generated from both, so the spec cannot drift from the code.
 *
 * Request schemas check the shape in their fields (strings, enums, patterns) and the meaning after
 * (instants, limits, identifiers), so a request with several problems is told the one it always
 * was told. The API's error codes and words are those of `refuse`.
 */

const date = z
  .string()
  .regex(/^\d{4}-\d{2}-\d{2}$/)
  .nullable()
  .meta({ description: 'YYYY-MM-DD (UTC day)' });
const instant = z.string().meta({ description: 'ISO 8601 instant', format: 'date-time' });

export const errorSchema = z.object({
  error: z.object({
    code: z.string().meta({ description: 'machine-readable, e.g. list_unavailable' }),
    message: z.string(),
  }),
});

export const matchSchema = z.object({
  ticker: z.string().nullable(),
  isin: z.string().nullable(),
  name: z.string().nullable(),
  restriction_type: z.enum(RESTRICTION_TYPES),
  reason: z.string().nullable(),
  effective_from: date,
  expires_at: date,
});

export const checkResultSchema = z.object({
  restricted: z.boolean(),
  severity: z.enum(['CRITICAL', 'NONE']),
  matches: z.array(matchSchema),
  as_of: instant.meta({ description: 'when the list answered from was last confirmed by a successful sync' }),
  stale: z.boolean(),
  list_version: z
    .number()
    .int()
    .meta({ description: 'the applied list state the answer came from; re-prove it with at=' }),
});

export const batchCheckResultSchema = z.object({ results: z.array(checkResultSchema) });

export const instrumentSchema = z.object({
  ticker: z.string().nullable(),
  isin: z.string().nullable(),
  name: z.string().nullable(),
  reason: z.string().nullable(),
  restriction_type: z.enum(RESTRICTION_TYPES),
  effective_from: date,
  expires_at: date,
  is_active: z.boolean(),
  source_page_id: z.string().nullable(),
});

export const listSchema = z.object({
  instruments: z.array(instrumentSchema),
  count: z.number().int(),
  as_of: instant,
});

const fieldsSchema = matchSchema.nullable();

export const changeSchema = z.object({
  at: instant,
  change: z.enum(['added', 'removed', 'modified']),
  ticker: z.string().nullable(),
  isin: z.string().nullable(),
  before: fieldsSchema,
  after: fieldsSchema,
  page_id: z.string().nullable(),
  page_version: z.number().int().nullable(),
  edited_by: z.string().nullable().meta({ description: 'the Confluence user who saved that page version' }),
  edited_at: instant.nullable().meta({ description: 'when that page version was saved in Confluence' }),
  run_id: z.string(),
  list_version: z.number().int(),
});

export const changesSchema = z.object({ changes: z.array(changeSchema) });

const pageSchema = z.object({
  id: z.string(),
  title: z.string(),
  version: z.number().int(),
  url: z.string().nullable(),
});

export const runSchema = z.object({
  workflow_id: z.string(),
  run_id: z.string(),
  status: z.enum(['running', 'awaiting_approval', 'succeeded', 'failed']),
  trigger: z.enum(SYNC_TRIGGERS),
  requested_by: z.string().nullable(),
  started_at: instant,
  finished_at: instant.nullable(),
  added: z.number().int().nullable(),
  removed: z.number().int().nullable(),
  modified: z.number().int().nullable(),
  unchanged: z.number().int().nullable(),
  warnings: z.number().int(),
  error: z.object({ code: z.string().nullable(), message: z.string() }).nullable(),
  held_reason: z.string().nullable(),
  decision: z
    .object({
      decision: z.enum(['approved', 'rejected', 'expired']),
      by: z.string().nullable(),
      at: instant.nullable(),
    })
    .nullable(),
  list_version: z.number().int().nullable(),
  pages: z.array(pageSchema),
  temporal_ui_url: z.string(),
});

export const runsSchema = z.object({ runs: z.array(runSchema) });

export const warningSchema = z.object({
  page: z.string().nullable().meta({ description: 'page id (or label) the warning is about' }),
  table: z.number().int().nullable().meta({ description: '1-based, among all tables of the page' }),
  row: z.number().int().nullable().meta({ description: '1-based row of that table, header rows counted' }),
  column: z.string().nullable().meta({ description: 'the column header as written' }),
  problem: z.string(),
  raw: z.string().nullable().meta({ description: 'the offending cell text' }),
  code: z.string().nullable().meta({ description: 'the kind of problem, e.g. invalid_isin' }),
});

export const runDetailSchema = z.object({
  run: runSchema,
  warnings: z.array(warningSchema).meta({ description: "the run's parse warnings, in page order" }),
  checksums: z
    .array(
      z.object({
        page_id: z.string(),
        expected: z.number().int(),
        found: z.number().int(),
        holds: z.boolean(),
        text: z.string(),
        where: z.string(),
      }),
    )
    .meta({ description: "each page's own instrument count (its checksum) and what was read" }),
});

export const statusSchema = z.object({
  status: z.enum(['ok', 'failed', 'awaiting_approval', 'running', 'never']),
  last_attempt_at: instant.nullable(),
  last_success_at: instant.nullable(),
  instrument_count: z.number().int(),
  stale: z.boolean(),
  message: z.string().meta({ description: 'e.g. "Sync failed - using cached data from {timestamp}"' }),
  last_error: z
    .object({
      code: z.string().nullable(),
      message: z.string().nullable(),
      attempt: z
        .number()
        .int()
        .optional()
        .meta({ description: 'while a step is retried: the attempt Temporal runs next' }),
      next_retry_at: instant
        .nullable()
        .optional()
        .meta({ description: 'while a step is retried: when its next attempt starts' }),
    })
    .nullable()
    .meta({
      description: "the failed run's error, or the failure of a step being retried while the run goes on",
    }),
  pages: z.array(pageSchema),
  current_run: runSchema.optional(),
  watch: z
    .object({
      enabled: z.boolean(),
      every_seconds: z.number().int(),
      last_probe_at: instant.nullable(),
      last_change_seen_at: instant.nullable(),
      last_enforcement_lag_seconds: z
        .number()
        .nullable()
        .meta({ description: 'from the latest applied edit being saved in Confluence to it being applied' }),
      error: z.string().nullable().meta({ description: 'set when edits are not being watched, and why' }),
    })
    .meta({ description: 'the edit watch (RESTRICTED_LIST_WATCH_SECONDS)' }),
});

export const triggeredSchema = z.object({
  workflow_id: z.string(),
  run_id: z.string(),
  already_running: z.boolean(),
});
export const decisionSchema = z.object({
  workflow_id: z.string(),
  run_id: z.string(),
  decision: z.enum(['approved', 'rejected']),
  by: z.string(),
});

export const healthSchema = z.object({ status: z.literal('ok') });
export const readinessSchema = z.object({
  ready: z.boolean(),
  database: z.enum(['ok', 'unreachable']),
  list_version: z.number().int().nullable(),
  instrument_count: z.number().int().nullable(),
});

// What the API answers, as its clients (the CLI, the dashboard) and the views that build it see it.
export type CheckMatch = z.infer<typeof matchSchema>;
export type CheckAnswer = z.infer<typeof checkResultSchema>;
export type ListedInstrument = z.infer<typeof instrumentSchema>;
export type ListAnswer = z.infer<typeof listSchema>;
export type ListChange = z.infer<typeof changeSchema>;
export type RunAnswer = z.infer<typeof runSchema>;
export type RunsAnswer = z.infer<typeof runsSchema>;
export type RunDetailAnswer = z.infer<typeof runDetailSchema>;
/** A run's parse warnings and page checksums, as the run's detail shows them. */
export type RunReading = Pick<RunDetailAnswer, 'warnings' | 'checksums'>;
export type StatusAnswer = z.infer<typeof statusSchema>;
export type TriggerAnswer = z.infer<typeof triggeredSchema>;
export type DecisionAnswer = z.infer<typeof decisionSchema>;
export type ReadinessAnswer = z.infer<typeof readinessSchema>;

// Requests.

const MAX_BATCH = 1000;
const ISO_INSTANT = /^\d{4}-\d{2}-\d{2}(T\d{2}:\d{2}(:\d{2}(\.\d+)?)?(Z|[+-]\d{2}:?\d{2})?)?$/;
const singleValue = z.string().meta({ description: 'given once' });
const wholeNumber = z.string().regex(/^\d+$/);
const flag = z.enum(['true', 'false']);

/** ISO 8601 with a date and a time (`2026-03-03T10:15:00Z`), or a bare date (midnight UTC); blank is none. */
function toInstant(
  raw: string | undefined,
  name: string,
  ctx: z.core.$RefinementCtx,
  path: PropertyKey[] = [name],
): Date | null {
  if (raw === undefined || raw.trim() === '') return null;
  const value = raw.trim();
  const instant = ISO_INSTANT.test(value)
    ? new Date(value.length === 10 ? `${value}T00:00:00Z` : value)
    : new Date(NaN);
  if (Number.isNaN(instant.getTime())) {
    refuse(ctx, {
      code: `invalid_${name}`,
      message: 'must be an ISO 8601 instant such as 2026-03-03T10:15:00Z',
      path,
    });
    return null;
  }
  return instant;
}

function toLimit(raw: string | undefined, fallback: number, max: number, ctx: z.core.$RefinementCtx): number {
  if (raw === undefined) return fallback;
  const limit = Number(raw);
  if (limit < 1 || limit > max)
    refuse(ctx, {
      code: 'invalid_limit',
      message: `must be a whole number from 1 to ${max}`,
      path: ['limit'],
    });
  return limit;
}

type RawCheck = { ticker?: string | undefined; isin?: string | undefined; side?: string | undefined };

/**
 * A check's identifiers and side, normalised like the page (ticker rule 6, ISIN upper-case), or
 * the refusal of them. The query schema, the batch's item schema and the check path's fast path
 * (fast-check.ts) all judge a check with this one function.
 */
export function checkItemOf(raw: RawCheck): CheckItem | Refusal {
  const ticker = raw.ticker?.trim() ? normaliseTicker(raw.ticker) || null : null;
  const isin = raw.isin?.trim() ? normaliseIsin(raw.isin) : null;
  if (ticker === null && isin === null)
    return { code: 'missing_identifier', message: 'give ticker or isin (or both)', about: 'check' };
  if (isin !== null && !isValidIsin(isin)) {
    return {
      code: 'invalid_isin',
      message: `"${raw.isin}" is not a valid ISIN (2 letters, 9 letters or digits, a check digit)`,
      about: 'check',
    };
  }
  const side = raw.side?.trim().toLowerCase() || null;
  if (side !== null && side !== 'buy' && side !== 'sell')
    return { code: 'invalid_side', message: 'must be buy or sell', path: ['side'] };
  return { ticker, isin, side };
}

export const isRefusal = (judged: CheckItem | Refusal): judged is Refusal => 'code' in judged;

function toCheckItem(raw: RawCheck, ctx: z.core.$RefinementCtx): CheckItem {
  const judged = checkItemOf(raw);
  if (!isRefusal(judged)) return judged;
  refuse(ctx, judged);
  return z.NEVER;
}

export const checkQuerySchema = z
  .object({
    ticker: singleValue
      .optional()
      .meta({ description: 'normalised like the page: upper case, Bloomberg yellow key dropped' }),
    isin: singleValue.optional().meta({ description: 'ISO 6166, check digit verified' }),
    side: z.enum(SIDES).optional(),
    at: singleValue
      .optional()
      .meta({ description: 'ISO 8601: answer as the service would have at that instant' }),
  })
  .transform((query, ctx) => ({ at: toInstant(query.at, 'at', ctx), item: toCheckItem(query, ctx) }));

const objectOrEmpty = (value: unknown) =>
  typeof value === 'object' && value !== null && !Array.isArray(value) ? value : {};

const CHECK_FIELDS = ['ticker', 'isin', 'side'] as const;

/** One item of a batch: an object of strings (the codes for anything else are the API's own). */
const batchItemSchema = z.preprocess(
  (item, ctx) => {
    if (typeof item !== 'object' || item === null) {
      refuse(ctx, { code: 'invalid_items', message: 'must be an object' });
      return z.NEVER;
    }
    for (const field of CHECK_FIELDS) {
      const value = (item as Record<string, unknown>)[field];
      if (value !== undefined && typeof value !== 'string') {
        refuse(ctx, { code: 'invalid_query', message: 'must be given once', path: [field] });
        return z.NEVER;
      }
    }
    // An array is an object to the batch (it has no ticker or ISIN), as it always was.
    return Array.isArray(item) ? { ...item } : item;
  },
  z
    .object({
      ticker: z.string().optional(),
      isin: z.string().optional(),
      side: z
        .string()
        .optional()
        .meta({ enum: [...SIDES], description: 'buy or sell; case and surrounding spaces are ignored' }),
    })
    .transform((item, ctx) => toCheckItem(item, ctx)),
);

export const batchCheckBodySchema = z.preprocess(
  objectOrEmpty,
  z.object({
    items: z.preprocess((items, ctx) => {
      if (Array.isArray(items) && items.length >= 1 && items.length <= MAX_BATCH) return items;
      refuse(ctx, { code: 'invalid_items', message: `must be an array of 1 to ${MAX_BATCH} checks` });
      return z.NEVER;
    }, z.array(batchItemSchema).min(1).max(MAX_BATCH)),
    // Checked here rather than after the items, so that a bad `at` is told before a bad item.
    at: z.preprocess(
      (at) => (typeof at === 'string' ? at : undefined),
      singleValue
        .optional()
        .meta({ description: 'ISO 8601: answer as the service would have at that instant' })
        .transform((at, ctx) => toInstant(at, 'at', ctx, [])),
    ),
  }),
);

/**
 * The batch body as batchCheckBodySchema reads it, the usual way round, in a fraction of the time
 * zod takes over 1,000 items: an object with no `at` whose `items` are 1 to 1000 objects of string
 * `ticker` / `isin` / `side`, each a check that checkItemOf (the schema's own judge) accepts. Null
 * for anything else, which the schema then reads, and refuses in its own words.
 */
export function readBatchBody(body: unknown): z.output<typeof batchCheckBodySchema> | null {
  if (typeof body !== 'object' || body === null || Array.isArray(body)) return null;
  const { items, at } = body as { items?: unknown; at?: unknown };
  if (at !== undefined || !Array.isArray(items) || items.length < 1 || items.length > MAX_BATCH) return null;
  const checks: CheckItem[] = [];
  for (const item of items as unknown[]) {
    if (typeof item !== 'object' || item === null || Array.isArray(item)) return null;
    const { ticker, isin, side } = item as Record<string, unknown>;
    if (!isStringOrAbsent(ticker) || !isStringOrAbsent(isin) || !isStringOrAbsent(side)) return null;
    const judged = checkItemOf({ ticker, isin, side });
    if (isRefusal(judged)) return null;
    checks.push(judged);
  }
  return { items: checks, at: null };
}

const isStringOrAbsent = (value: unknown): value is string | undefined =>
  value === undefined || typeof value === 'string';

export const listQuerySchema = z
  .object({ at: singleValue.optional(), include_inactive: flag.optional() })
  .transform((query, ctx) => ({
    at: toInstant(query.at, 'at', ctx),
    includeInactive: query.include_inactive === 'true',
  }));

export const changesQuerySchema = z
  .object({
    since: singleValue.optional(),
    limit: wholeNumber.optional().meta({ description: '1 to 1000, default 100' }),
  })
  .transform((query, ctx) => ({
    since: toInstant(query.since, 'since', ctx),
    limit: toLimit(query.limit, 100, 1000, ctx),
  }));

export const runsQuerySchema = z
  .object({ limit: wholeNumber.optional().meta({ description: '1 to 200, default 20' }) })
  .transform((query, ctx) => ({ limit: toLimit(query.limit, 20, 200, ctx) }));

export const triggerQuerySchema = z
  .object({
    wait: flag
      .optional()
      .meta({ description: 'true: answer with the finished run, or the run held for approval' }),
  })
  .transform((query) => ({ wait: query.wait === 'true' }));

export const workflowParamsSchema = z.object({
  workflow_id: z.string().meta({ description: 'the Temporal workflow id of the run' }),
});

// The dashboard's forms and search are read leniently, as a browser sends them: a field given
// twice, or not a string, counts as not given.

export const dashboardQuerySchema = z
  .object({
    q: z.preprocess(
      (q) => (Array.isArray(q) ? String(q[0] ?? '') : q),
      z.string().optional().catch(undefined).meta({ description: 'search by ticker, ISIN or name' }),
    ),
  })
  .transform((query) => ({ q: (query.q ?? '').trim().slice(0, 100) }));

const formField = z.string().optional().catch(undefined);

export const signInFormSchema = z.preprocess(
  objectOrEmpty,
  z.object({
    csrf: formField.meta({ description: 'the sign-in form’s CSRF token' }),
    token: formField.meta({ description: 'a token from API_READ_TOKENS or API_ADMIN_TOKENS' }),
  }),
);

export const csrfFormSchema = z.preprocess(
  objectOrEmpty,
  z.object({ csrf: formField.meta({ description: 'the page’s CSRF token (a session’s forms)' }) }),
);
