import { timingSafeEqual } from 'node:crypto';
import express, { type NextFunction, type Request, type Response } from 'express';
import { z } from 'zod';
import type { Config } from '../config.ts';
import type { InstrumentStore } from '../db/instruments.ts';
import type { SyncRunStore } from '../db/sync-runs.ts';
import { isValidIsin, normaliseIsin, normaliseTicker } from '../parser/index.ts';
import { evaluateCheck } from './check.ts';
import { badRequest, HttpError, listUnavailable, notFound } from './errors.ts';

export interface AppDeps {
  config: Config;
  runs: SyncRunStore;
  instruments: InstrumentStore;
  clock?: () => Date;
  logger?: { warn(message: string): void };
}

function tokenMatches(presented: string, expected: string): boolean {
  const a = Buffer.from(presented);
  const b = Buffer.from(expected);
  return a.length === b.length && timingSafeEqual(a, b);
}

const checkQuerySchema = z.object({
  ticker: z.string().optional(),
  isin: z.string().optional(),
  side: z.string().optional(),
  at: z.string().optional(),
});

/** Builds the Express app without listening (tests use it on port 0). */
export function createApp(deps: AppDeps) {
  const { config, runs, instruments } = deps;
  const clock = deps.clock ?? (() => new Date());
  const readTokens = [...config.readTokens, ...config.adminTokens].map((t) => t.token);
  if (readTokens.length === 0) {
    deps.logger?.warn('API_READ_TOKENS and API_ADMIN_TOKENS are not set: read endpoints are open to anyone who can reach the port');
  }

  const app = express();
  app.disable('x-powered-by');
  app.set('query parser', 'simple');

  app.get('/healthz', (_req, res) => {
    res.json({ status: 'ok' });
  });

  const requireRead = (req: Request, _res: Response, next: NextFunction) => {
    if (readTokens.length === 0) return next();
    const header = req.get('authorization') ?? '';
    const presented = /^Bearer (.+)$/i.exec(header)?.[1]?.trim();
    if (presented === undefined) return next(new HttpError(401, 'unauthorized', 'a bearer token is required'));
    if (!readTokens.some((token) => tokenMatches(presented, token))) {
      return next(new HttpError(401, 'unauthorized', 'the bearer token is not valid'));
    }
    next();
  };

  app.get('/v1/check', requireRead, async (req, res) => {
    const query = checkQuerySchema.safeParse(req.query);
    if (!query.success) throw badRequest('invalid_query', 'query parameters must be single values');
    const ticker = query.data.ticker?.trim() ? normaliseTicker(query.data.ticker) : null;
    const isinRaw = query.data.isin?.trim() ? normaliseIsin(query.data.isin) : null;
    if (ticker === null && isinRaw === null) throw badRequest('missing_identifier', 'give ticker or isin (or both)');
    if (isinRaw !== null && !isValidIsin(isinRaw)) {
      throw badRequest('invalid_isin', `"${isinRaw}" is not a valid ISIN (2 letters, 9 alphanumerics, a check digit)`);
    }
    const side = query.data.side?.trim().toLowerCase() || null;
    if (side !== null && side !== 'buy' && side !== 'sell') throw badRequest('invalid_side', 'side must be buy or sell');
    if (query.data.at !== undefined) {
      throw new HttpError(501, 'not_implemented', 'checks at a past instant (at=) are not available yet');
    }

    const listVersion = await runs.currentListVersion();
    if (listVersion === null) throw listUnavailable();
    const [candidates, lastSuccess] = await Promise.all([
      instruments.findActiveMatches({ ticker, isin: isinRaw }),
      runs.latestSuccess(),
    ]);
    const now = clock();
    const verdict = evaluateCheck(candidates, side, now);
    const asOf = lastSuccess?.finished_at ?? null;
    res.json({
      ...verdict,
      as_of: asOf?.toISOString() ?? null,
      stale: asOf === null || now.getTime() - asOf.getTime() > config.staleAfterMinutes * 60_000,
      list_version: listVersion,
    });
  });

  app.get('/v1/sync/status', requireRead, async (_req, res) => {
    const [latest, lastSuccess, instrumentCount] = await Promise.all([
      runs.latestRun(),
      runs.latestSuccess(),
      instruments.countActive(),
    ]);
    const now = clock();
    const lastSuccessAt = lastSuccess?.finished_at ?? null;
    const stale = lastSuccessAt === null || now.getTime() - lastSuccessAt.getTime() > config.staleAfterMinutes * 60_000;
    const status = latest === undefined ? 'never' : latest.status === 'succeeded' ? 'ok' : latest.status;
    const message =
      status === 'never'
        ? 'No sync has run yet'
        : status === 'failed'
          ? lastSuccessAt === null
            ? 'Sync failed - no list has been loaded yet'
            : `Sync failed - using cached data from ${lastSuccessAt.toISOString()}`
          : status === 'running'
            ? 'Sync in progress'
            : stale
              ? `List is stale: last successful sync at ${lastSuccessAt?.toISOString()}`
              : `Synced ${instrumentCount} instruments`;
    res.json({
      status,
      last_attempt_at: latest?.started_at.toISOString() ?? null,
      last_success_at: lastSuccessAt?.toISOString() ?? null,
      instrument_count: instrumentCount,
      stale,
      message,
      last_error: status === 'failed' ? { code: latest?.error_code ?? null, message: latest?.error ?? null } : null,
      pages: lastSuccess?.pages ?? [],
    });
  });

  app.use((_req, _res, next) => next(notFound()));

  // One place maps errors to the contract's shape; anything unexpected is a 500 without internals.
  app.use((error: unknown, _req: Request, res: Response, _next: NextFunction) => {
    if (error instanceof HttpError) {
      res.status(error.status).json(error.toJSON());
      return;
    }
    const status = (error as { status?: number; type?: string }).status;
    if (status === 400 || (error as { type?: string }).type === 'entity.parse.failed') {
      res.status(400).json({ error: { code: 'bad_request', message: 'the request could not be read' } });
      return;
    }
    deps.logger?.warn(`unhandled API error: ${(error as Error)?.message}`);
    res.status(500).json({ error: { code: 'internal', message: 'internal error' } });
  });

  return app;
}
