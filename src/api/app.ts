import { randomUUID } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { createRequire } from 'node:module';
import express, { type NextFunction, type Request, type Response } from 'express';
import { pinoHttp } from 'pino-http';
import type { z } from 'zod';
import type { Logger } from '../logger.ts';
import { isValidIsin, normaliseIsin, normaliseTicker } from '../parser/index.ts';
import { createAuth, type Principal } from './auth.ts';
import { createDashboardRouter } from './dashboard.ts';
import { BadRequestError, bodyParserError, HttpError, NotFoundError } from './errors.ts';
import type { CheckResult, Metrics } from './metrics.ts';
import { buildOpenApiDocument } from './openapi.ts';
import {
  changesQuerySchema,
  checkQuerySchema,
  listQuerySchema,
  runsQuerySchema,
  triggerQuerySchema,
} from './schemas.ts';
import { createViews, type CheckItem, type ViewDeps } from './views.ts';

export interface AppDeps extends ViewDeps {
  /** Request logs (with request ids) and warnings; none in tests that do not need them. */
  logger?: Logger;
  metrics?: Metrics;
}

const MAX_BATCH = 1000;
const VERSION = (createRequire(import.meta.url)('../../package.json') as { version: string }).version;

/** The request's shape, by its schema (the one /openapi.json documents); the issue names the field. */
function validateQuery<T extends z.ZodObject>(schema: T, query: unknown): z.infer<T> {
  for (const [name, value] of Object.entries((query ?? {}) as Record<string, unknown>)) {
    if (typeof value !== 'string') throw new BadRequestError('invalid_query', `${name} must be given once`);
  }
  const result = schema.safeParse(query);
  if (result.success) return result.data;
  const field = String(result.error.issues[0]?.path[0] ?? 'query');
  throw new BadRequestError(`invalid_${field}`, `${field}: ${result.error.issues[0]?.message ?? 'invalid'}`);
}

function single(value: unknown, name: string): string | undefined {
  if (value === undefined) return undefined;
  if (typeof value !== 'string') throw new BadRequestError('invalid_query', `${name} must be given once`);
  return value;
}

/** ISO 8601 with a date and a time (`2026-03-03T10:15:00Z`), or a bare date (midnight UTC). */
function parseInstant(raw: string | undefined, name: string): Date | null {
  if (raw === undefined || raw.trim() === '') return null;
  const value = raw.trim();
  const iso = /^\d{4}-\d{2}-\d{2}(T\d{2}:\d{2}(:\d{2}(\.\d+)?)?(Z|[+-]\d{2}:?\d{2})?)?$/;
  const instant = iso.test(value)
    ? new Date(value.length === 10 ? `${value}T00:00:00Z` : value)
    : new Date(NaN);
  if (Number.isNaN(instant.getTime()))
    throw new BadRequestError(
      `invalid_${name}`,
      `${name} must be an ISO 8601 instant such as 2026-03-03T10:15:00Z`,
    );
  return instant;
}

function parseLimit(raw: string | undefined, fallback: number, max: number): number {
  if (raw === undefined) return fallback;
  if (!/^\d+$/.test(raw) || Number(raw) < 1 || Number(raw) > max)
    throw new BadRequestError('invalid_limit', `limit must be a whole number from 1 to ${max}`);
  return Number(raw);
}

/** A check's identifiers and side, normalised like the page (ticker rule 6, ISIN upper-case). */
function parseCheckItem(raw: { ticker?: unknown; isin?: unknown; side?: unknown }, where = ''): CheckItem {
  const tickerRaw = single(raw.ticker, `${where}ticker`);
  const isinRaw = single(raw.isin, `${where}isin`);
  const sideRaw = single(raw.side, `${where}side`);
  const ticker = tickerRaw?.trim() ? normaliseTicker(tickerRaw) || null : null;
  const isin = isinRaw?.trim() ? normaliseIsin(isinRaw) : null;
  if (ticker === null && isin === null)
    throw new BadRequestError('missing_identifier', `${where}give ticker or isin (or both)`);
  if (isin !== null && !isValidIsin(isin)) {
    throw new BadRequestError(
      'invalid_isin',
      `${where}"${isinRaw}" is not a valid ISIN (2 letters, 9 letters or digits, a check digit)`,
    );
  }
  const side = sideRaw?.trim().toLowerCase() || null;
  if (side !== null && side !== 'buy' && side !== 'sell')
    throw new BadRequestError('invalid_side', `${where}side must be buy or sell`);
  return { ticker, isin, side };
}

/** Builds the Express app without listening (tests use it on port 0). */
export function createApp(deps: AppDeps) {
  const auth = createAuth(deps.config);
  if (auth.open) {
    deps.logger?.warn(
      'API_READ_TOKENS and API_ADMIN_TOKENS are not set: read endpoints are open to anyone who can reach the port',
    );
  }
  const views = createViews(deps);
  const openApi = buildOpenApiDocument(VERSION);

  /** Answers checks and counts them by result, with the time taken, for /metrics. */
  async function answerChecks(items: () => CheckItem[], at: Date | null) {
    const started = performance.now();
    const record = (results: CheckResult[]) =>
      deps.metrics?.recordChecks(results, (performance.now() - started) / 1000);
    try {
      const answers = await views.check(items(), at);
      record(answers.map((answer) => (answer.restricted ? 'restricted' : 'not_restricted')));
      return answers;
    } catch (error) {
      const status = error instanceof HttpError ? error.status : 500;
      record([status === 503 ? 'unavailable' : status === 400 ? 'invalid' : 'error']);
      throw error;
    }
  }

  const app = express();
  app.disable('x-powered-by');
  // Answers change with every sync and are not cached by clients: no ETag hashing per response.
  app.set('etag', false);
  app.set('query parser', 'simple');
  // Behind a TLS-terminating proxy on the same host or private network, req.secure and the
  // dashboard's same-origin check follow X-Forwarded-Proto (session cookies are then Secure).
  app.set('trust proxy', 'loopback, uniquelocal');
  /** A caller's request id (a load balancer's, the trading service's) is kept, else one is made. */
  const requestId = (req: IncomingMessage, res: ServerResponse) => {
    const given = req.headers['x-request-id'];
    const id = typeof given === 'string' && /^[\w.:-]{1,128}$/.test(given) ? given : randomUUID();
    res.setHeader('x-request-id', id);
    return id;
  };
  if (deps.logger) {
    const httpLogger = pinoHttp({
      logger: deps.logger,
      genReqId: requestId,
      redact: ['req.headers.authorization', 'req.headers.cookie', 'res.headers["set-cookie"]'],
      customLogLevel: (_req, res, error) =>
        error || res.statusCode >= 500 ? 'error' : res.statusCode >= 400 ? 'warn' : 'info',
      autoLogging: {
        ignore: (req) => req.url === '/healthz' || req.url === '/readyz' || req.url === '/metrics',
      },
    });
    app.use((req, res, next) => {
      // The trading service's checks are the hot path: they get a request id but no per-request
      // log line (metrics count them; unexpected errors are logged by the error handler).
      if (req.path === '/v1/check') {
        requestId(req, res);
        next();
        return;
      }
      httpLogger(req, res, next);
    });
  }
  app.use(express.json({ limit: '256kb' }));

  app.get('/healthz', (_req, res) => {
    res.json({ status: 'ok' });
  });

  app.get('/metrics', async (_req, res) => {
    if (!deps.metrics) throw new NotFoundError();
    res.type(deps.metrics.registry.contentType).send(await deps.metrics.registry.metrics());
  });

  app.get('/readyz', async (_req, res) => {
    const readiness = await views.readiness();
    res.status(readiness.ready ? 200 : 503).json(readiness);
  });

  app.get('/openapi.json', (_req, res) => {
    res.json(openApi);
  });

  app.get('/v1/check', auth.requireRead, async (req, res) => {
    validateQuery(checkQuerySchema, req.query);
    const at = parseInstant(single(req.query.at, 'at'), 'at');
    const [result] = await answerChecks(() => [parseCheckItem(req.query)], at);
    res.json(result);
  });

  app.post('/v1/check', auth.requireRead, async (req, res) => {
    const body = req.body as { items?: unknown; at?: unknown } | undefined;
    const items = body?.items;
    if (!Array.isArray(items) || items.length === 0 || items.length > MAX_BATCH) {
      throw new BadRequestError('invalid_items', `items must be an array of 1 to ${MAX_BATCH} checks`);
    }
    const at = parseInstant(typeof body?.at === 'string' ? body.at : undefined, 'at');
    const parse = () =>
      items.map((item: unknown, index) => {
        if (typeof item !== 'object' || item === null)
          throw new BadRequestError('invalid_items', `items[${index}] must be an object`);
        return parseCheckItem(item as Record<string, unknown>, `items[${index}].`);
      });
    res.json({ results: await answerChecks(parse, at) });
  });

  app.get('/v1/restricted', auth.requireRead, async (req, res) => {
    const query = validateQuery(listQuerySchema, req.query);
    const at = parseInstant(query.at, 'at');
    const includeInactive = query.include_inactive === 'true';
    res.json(await views.list({ at, includeInactive }));
  });

  app.get('/v1/restricted/changes', auth.requireRead, async (req, res) => {
    const query = validateQuery(changesQuerySchema, req.query);
    const since = parseInstant(query.since, 'since');
    const limit = parseLimit(query.limit, 100, 1000);
    res.json({ changes: await views.changes({ since, limit }) });
  });

  app.get('/v1/sync/status', auth.requireRead, async (_req, res) => {
    res.json(await views.status());
  });

  app.get('/v1/sync/runs', auth.requireRead, async (req, res) => {
    const limit = parseLimit(validateQuery(runsQuerySchema, req.query).limit, 20, 200);
    res.json({ runs: await views.runs(limit) });
  });

  app.post('/v1/sync', auth.requireAdmin, async (req, res) => {
    const wait = validateQuery(triggerQuerySchema, req.query).wait === 'true';
    const { finished, triggered } = await views.trigger(res.locals.principal as Principal, wait);
    if (finished !== null) {
      res.status(200).json(finished);
      return;
    }
    res.status(202).json({
      workflow_id: triggered.workflowId,
      run_id: triggered.runId,
      already_running: triggered.alreadyRunning,
    });
  });

  const decide = (approve: boolean) => async (req: Request, res: Response) => {
    res
      .status(202)
      .json(await views.decide(String(req.params.workflowId), approve, res.locals.principal as Principal));
  };
  app.post('/v1/sync/runs/:workflowId/approve', auth.requireAdmin, decide(true));
  app.post('/v1/sync/runs/:workflowId/reject', auth.requireAdmin, decide(false));

  app.use(
    createDashboardRouter({
      config: deps.config,
      auth,
      views,
      ...(deps.logger ? { logger: deps.logger } : {}),
    }),
  );

  app.use((_req, _res, next) => next(new NotFoundError()));

  // One place maps errors to the contract's shape; anything unexpected is a 500 without internals.
  app.use((error: unknown, _req: Request, res: Response, _next: NextFunction) => {
    const known = error instanceof HttpError ? error : bodyParserError(error, false);
    if (known !== null) {
      res.status(known.status).json(known.toJSON());
      return;
    }
    deps.logger?.error({ err: error }, 'unhandled API error');
    res.status(500).json({ error: { code: 'internal', message: 'internal error' } });
  });

  return app;
}
