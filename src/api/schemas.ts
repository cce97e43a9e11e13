import { z } from 'zod';
import { RESTRICTION_TYPES } from '../domain/index.ts';

/**
 * One schema per request and response of the HTTP API (contract, "HTTP API"). The OpenAPI
 * document at /openapi.json is generated from these, the query schemas check requests' shape
 * in the handlers, and the tests hold every real response to its schema, so the spec cannot
 * drift from the code. The response types are `z.infer` of these: the views return them, the
 * CLI and the dashboard read them.
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

const singleValue = z.string().meta({ description: 'given once' });

export const checkQuerySchema = z.object({
  ticker: singleValue
    .optional()
    .meta({ description: 'normalised like the page: upper case, Bloomberg yellow key dropped' }),
  isin: singleValue.optional().meta({ description: 'ISO 6166, check digit verified' }),
  side: z.enum(['buy', 'sell']).optional(),
  at: singleValue
    .optional()
    .meta({ description: 'ISO 8601: answer as the service would have at that instant' }),
});

export const checkItemSchema = z.object({
  ticker: z.string().optional(),
  isin: z.string().optional(),
  side: z.enum(['buy', 'sell']).optional(),
});

export const batchCheckBodySchema = z.object({
  items: z.array(checkItemSchema).min(1).max(1000),
  at: z.string().optional(),
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

export const listQuerySchema = z.object({
  at: singleValue.optional(),
  include_inactive: z.enum(['true', 'false']).optional(),
});

export const listSchema = z.object({
  instruments: z.array(instrumentSchema),
  count: z.number().int(),
  as_of: instant,
});

const fieldsSchema = matchSchema.nullable();

export const changesQuerySchema = z.object({
  since: singleValue.optional(),
  limit: z.string().regex(/^\d+$/).optional().meta({ description: '1 to 1000, default 100' }),
});

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
  trigger: z.enum(['schedule', 'manual']),
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

export const runsQuerySchema = z.object({
  limit: z.string().regex(/^\d+$/).optional().meta({ description: '1 to 200, default 20' }),
});
export const runsSchema = z.object({ runs: z.array(runSchema) });

export const statusSchema = z.object({
  status: z.enum(['ok', 'failed', 'awaiting_approval', 'running', 'never']),
  last_attempt_at: instant.nullable(),
  last_success_at: instant.nullable(),
  instrument_count: z.number().int(),
  stale: z.boolean(),
  message: z.string().meta({ description: 'e.g. "Sync failed - using cached data from {timestamp}"' }),
  last_error: z.object({ code: z.string().nullable(), message: z.string().nullable() }).nullable(),
  pages: z.array(pageSchema),
  current_run: runSchema.optional(),
});

export const triggerQuerySchema = z.object({ wait: z.enum(['true', 'false']).optional() });
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
export type ErrorAnswer = z.infer<typeof errorSchema>;
export type CheckMatch = z.infer<typeof matchSchema>;
export type CheckAnswer = z.infer<typeof checkResultSchema>;
export type BatchCheckAnswer = z.infer<typeof batchCheckResultSchema>;
export type ListedInstrument = z.infer<typeof instrumentSchema>;
export type ListAnswer = z.infer<typeof listSchema>;
export type ListChange = z.infer<typeof changeSchema>;
export type ChangesAnswer = z.infer<typeof changesSchema>;
export type RunAnswer = z.infer<typeof runSchema>;
export type RunsAnswer = z.infer<typeof runsSchema>;
export type StatusAnswer = z.infer<typeof statusSchema>;
export type TriggerAnswer = z.infer<typeof triggeredSchema>;
export type DecisionAnswer = z.infer<typeof decisionSchema>;
export type HealthAnswer = z.infer<typeof healthSchema>;
export type ReadinessAnswer = z.infer<typeof readinessSchema>;
