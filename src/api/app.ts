import type { Client, WorkflowExecutionStatusName } from '@temporalio/client';
import express, { type NextFunction, type Request, type Response } from 'express';
import type { Config } from '../config.ts';
import type { HistoryStore } from '../db/history.ts';
import type { CheckQuery, InstrumentStore } from '../db/instruments.ts';
import type { SyncRunRow, SyncRunStore } from '../db/sync-runs.ts';
import { isValidIsin, normaliseIsin, normaliseTicker } from '../parser/index.ts';
import { approveSignal, rejectSignal, SCHEDULE_ID } from '../shared.ts';
import type { StoredInstrument } from '../sync/diff.ts';
import { triggerSync } from '../temporal/trigger.ts';
import { createAuth, type Principal } from './auth.ts';
import { evaluateCheck, type Side } from './check.ts';
import { badRequest, HttpError, listUnavailable, notFound } from './errors.ts';

export interface AppDeps {
  config: Config;
  runs: SyncRunStore;
  instruments: InstrumentStore;
  history: HistoryStore;
  /** Needed by the endpoints that start or decide runs; absent, they answer 503. */
  temporal?: { client: Client; scheduleId?: string };
  clock?: () => Date;
  logger?: { warn(message: string): void; error?(message: string): void };
}

interface CheckItem extends CheckQuery {
  side: Side | null;
}

const MAX_BATCH = 1000;

function single(value: unknown, name: string): string | undefined {
  if (value === undefined) return undefined;
  if (typeof value !== 'string') throw badRequest('invalid_query', `${name} must be given once`);
  return value;
}

/** ISO 8601 with a date and a time (`2026-03-03T10:15:00Z`), or a bare date (midnight UTC). */
function parseInstant(raw: string | undefined, name: string): Date | null {
  if (raw === undefined || raw.trim() === '') return null;
  const value = raw.trim();
  const iso = /^\d{4}-\d{2}-\d{2}(T\d{2}:\d{2}(:\d{2}(\.\d+)?)?(Z|[+-]\d{2}:?\d{2})?)?$/;
  const instant = iso.test(value) ? new Date(value.length === 10 ? `${value}T00:00:00Z` : value) : new Date(NaN);
  if (Number.isNaN(instant.getTime())) throw badRequest(`invalid_${name}`, `${name} must be an ISO 8601 instant such as 2026-03-03T10:15:00Z`);
  return instant;
}

function parseLimit(raw: string | undefined, fallback: number, max: number): number {
  if (raw === undefined) return fallback;
  if (!/^\d+$/.test(raw) || Number(raw) < 1 || Number(raw) > max) throw badRequest('invalid_limit', `limit must be a whole number from 1 to ${max}`);
  return Number(raw);
}

/** A check's identifiers and side, normalised like the page (ticker rule 6, ISIN upper-case). */
function parseCheckItem(raw: { ticker?: unknown; isin?: unknown; side?: unknown }, where = ''): CheckItem {
  const tickerRaw = single(raw.ticker, `${where}ticker`);
  const isinRaw = single(raw.isin, `${where}isin`);
  const sideRaw = single(raw.side, `${where}side`);
  const ticker = tickerRaw?.trim() ? normaliseTicker(tickerRaw) || null : null;
  const isin = isinRaw?.trim() ? normaliseIsin(isinRaw) : null;
  if (ticker === null && isin === null) throw badRequest('missing_identifier', `${where}give ticker or isin (or both)`);
  if (isin !== null && !isValidIsin(isin)) {
    throw badRequest('invalid_isin', `${where}"${isinRaw}" is not a valid ISIN (2 letters, 9 letters or digits, a check digit)`);
  }
  const side = sideRaw?.trim().toLowerCase() || null;
  if (side !== null && side !== 'buy' && side !== 'sell') throw badRequest('invalid_side', `${where}side must be buy or sell`);
  return { ticker, isin, side };
}

const matchesQuery = (row: StoredInstrument, item: CheckQuery) =>
  (item.ticker !== null && row.ticker === item.ticker) || (item.isin !== null && row.isin === item.isin);

/** Builds the Express app without listening (tests use it on port 0). */
export function createApp(deps: AppDeps) {
  const { config, runs, instruments, history } = deps;
  const clock = deps.clock ?? (() => new Date());
  const auth = createAuth(config);
  if (auth.open) {
    deps.logger?.warn('API_READ_TOKENS and API_ADMIN_TOKENS are not set: read endpoints are open to anyone who can reach the port');
  }
  const isStale = (lastSuccess: Date | null, now: Date) => lastSuccess === null || now.getTime() - lastSuccess.getTime() > config.staleAfterMinutes * 60_000;
  const temporalUiUrl = (run: SyncRunRow) =>
    `${config.temporal.uiUrl}/namespaces/${encodeURIComponent(config.temporal.namespace)}/workflows/${encodeURIComponent(run.workflow_id)}/${encodeURIComponent(run.id)}/history`;
  const temporal = () => {
    if (!deps.temporal) throw new HttpError(503, 'temporal_unavailable', 'this API process has no Temporal connection');
    return { client: deps.temporal.client, scheduleId: deps.temporal.scheduleId ?? SCHEDULE_ID };
  };

  /** Answers checks now (from the cache) or at a past instant (rebuilt from the change log). */
  async function check(items: CheckItem[], at: Date | null) {
    const now = clock();
    let candidates: StoredInstrument[];
    let asOf: Date;
    let listVersion: number;
    let stale: boolean;
    if (at === null) {
      const [version, lastSuccess] = await Promise.all([runs.currentListVersion(), runs.latestSuccess()]);
      if (version === null || !lastSuccess?.finished_at) throw listUnavailable();
      candidates = await instruments.findActiveMatchesMany(items);
      listVersion = version;
      asOf = lastSuccess.finished_at;
      stale = isStale(asOf, now);
    } else {
      const applied = await history.listVersionAt(at);
      if (applied === null) throw listUnavailable();
      const states = await Promise.all(items.map((item) => history.stateAt(at, item)));
      candidates = states.flat();
      listVersion = applied.listVersion;
      asOf = applied.appliedAt;
      stale = isStale(asOf, at);
    }
    const when = at ?? now;
    return items.map((item) => ({
      ...evaluateCheck(candidates.filter((row) => matchesQuery(row, item)), item.side, when),
      as_of: asOf.toISOString(),
      stale,
      list_version: listVersion,
    }));
  }

  const presentInstrument = (row: StoredInstrument) => ({
    ticker: row.ticker,
    isin: row.isin,
    name: row.name,
    reason: row.reason,
    restriction_type: row.restriction_type,
    effective_from: row.effective_from,
    expires_at: row.expires_at,
    is_active: row.is_active,
    source_page_id: row.source_page_id,
  });

  const presentRun = (run: SyncRunRow) => ({
    workflow_id: run.workflow_id,
    run_id: run.id,
    status: run.status,
    trigger: run.trigger,
    requested_by: run.requested_by,
    started_at: run.started_at.toISOString(),
    finished_at: run.finished_at?.toISOString() ?? null,
    added: run.added ?? null,
    removed: run.removed ?? null,
    modified: run.modified ?? null,
    unchanged: run.unchanged ?? null,
    warnings: run.warnings.length,
    error: run.error === null ? null : { code: run.error_code, message: run.error },
    held_reason: run.held_reason,
    decision: run.decision === null ? null : { decision: run.decision, by: run.decided_by, at: run.decided_at?.toISOString() ?? null },
    list_version: run.list_version,
    pages: run.pages,
    temporal_ui_url: temporalUiUrl(run),
  });

  /**
   * A run still marked running or held in the database whose workflow Temporal has closed
   * (terminated, timed out) is reported as failed, with what Temporal says.
   */
  async function reconcile(run: SyncRunRow): Promise<SyncRunRow> {
    if ((run.status !== 'running' && run.status !== 'awaiting_approval') || !deps.temporal) return run;
    let status: WorkflowExecutionStatusName;
    try {
      status = (await deps.temporal.client.workflow.getHandle(run.workflow_id, run.id).describe()).status.name;
    } catch {
      return run;
    }
    if (status === 'RUNNING' || status === 'COMPLETED' || status === 'FAILED') return run;
    return { ...run, status: 'failed', error_code: `Workflow${status}`, error: `the workflow is ${status.toLowerCase().replaceAll('_', ' ')} in Temporal; nothing was applied by it` };
  }

  const app = express();
  app.disable('x-powered-by');
  app.set('query parser', 'simple');
  app.use(express.json({ limit: '256kb' }));

  app.get('/healthz', (_req, res) => {
    res.json({ status: 'ok' });
  });

  app.get('/v1/check', auth.requireRead, async (req, res) => {
    const item = parseCheckItem(req.query);
    const at = parseInstant(single(req.query.at, 'at'), 'at');
    const [result] = await check([item], at);
    res.json(result);
  });

  app.post('/v1/check', auth.requireRead, async (req, res) => {
    const body = req.body as { items?: unknown; at?: unknown } | undefined;
    const items = body?.items;
    if (!Array.isArray(items) || items.length === 0 || items.length > MAX_BATCH) {
      throw badRequest('invalid_items', `items must be an array of 1 to ${MAX_BATCH} checks`);
    }
    const parsed = items.map((item: unknown, index) => {
      if (typeof item !== 'object' || item === null) throw badRequest('invalid_items', `items[${index}] must be an object`);
      return parseCheckItem(item as Record<string, unknown>, `items[${index}].`);
    });
    const at = parseInstant(typeof body?.at === 'string' ? body.at : undefined, 'at');
    res.json({ results: await check(parsed, at) });
  });

  app.get('/v1/restricted', auth.requireRead, async (req, res) => {
    const at = parseInstant(single(req.query.at, 'at'), 'at');
    const includeInactive = single(req.query.include_inactive, 'include_inactive') === 'true';
    let rows: StoredInstrument[];
    let asOf: Date;
    if (at === null) {
      const lastSuccess = await runs.latestSuccess();
      if (!lastSuccess?.finished_at) throw listUnavailable();
      rows = await instruments.listAll();
      asOf = lastSuccess.finished_at;
    } else {
      const applied = await history.listVersionAt(at);
      if (applied === null) throw listUnavailable();
      rows = await history.stateAt(at);
      asOf = applied.appliedAt;
    }
    const listed = rows
      .filter((row) => includeInactive || row.is_active)
      .sort((a, b) => (a.ticker ?? '\uffff').localeCompare(b.ticker ?? '\uffff') || (a.isin ?? '').localeCompare(b.isin ?? ''))
      .map(presentInstrument);
    res.json({ instruments: listed, count: listed.length, as_of: asOf.toISOString() });
  });

  app.get('/v1/restricted/changes', auth.requireRead, async (req, res) => {
    const since = parseInstant(single(req.query.since, 'since'), 'since');
    const limit = parseLimit(single(req.query.limit, 'limit'), 100, 1000);
    const changes = await history.changes({ since, limit });
    res.json({
      changes: changes.map((c) => ({
        at: c.at.toISOString(),
        change: c.change,
        ticker: c.ticker,
        isin: c.isin,
        before: c.before,
        after: c.after,
        page_id: c.page_id,
        page_version: c.page_version,
        edited_by: c.edited_by,
        run_id: c.run_id,
        list_version: c.list_version,
      })),
    });
  });

  app.get('/v1/sync/status', auth.requireRead, async (_req, res) => {
    const [latestRow, lastSuccess, instrumentCount] = await Promise.all([runs.latestRun(), runs.latestSuccess(), instruments.countActive()]);
    const latest = latestRow === undefined ? undefined : await reconcile(latestRow);
    const now = clock();
    const lastSuccessAt = lastSuccess?.finished_at ?? null;
    const stale = isStale(lastSuccessAt, now);
    const status = latest === undefined ? 'never' : latest.status === 'succeeded' ? 'ok' : latest.status;
    const cached = lastSuccessAt === null ? 'no list has been loaded yet' : `using cached data from ${lastSuccessAt.toISOString()}`;
    const message =
      status === 'never'
        ? 'No sync has run yet'
        : status === 'failed'
          ? `Sync failed - ${cached}`
          : status === 'awaiting_approval'
            ? `Sync awaiting approval - ${latest?.held_reason ?? 'held by the removal guard'}; checks keep ${cached}`
            : status === 'running'
              ? `Sync in progress - checks keep ${cached}`
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
      ...(latest && status !== 'ok' && status !== 'never' ? { current_run: presentRun(latest) } : {}),
    });
  });

  app.get('/v1/sync/runs', auth.requireRead, async (req, res) => {
    const limit = parseLimit(single(req.query.limit, 'limit'), 20, 200);
    const rows = await Promise.all((await history.runs(limit)).map(reconcile));
    res.json({ runs: rows.map(presentRun) });
  });

  app.post('/v1/sync', auth.requireAdmin, async (req, res) => {
    const principal = res.locals.principal as Principal;
    const { client, scheduleId } = temporal();
    const triggered = await triggerSync(client, scheduleId);
    if (!triggered.alreadyRunning) await runs.recordManualTrigger(triggered.runId, triggered.workflowId, principal.name);
    const wait = single(req.query.wait, 'wait') === 'true';
    if (!wait) {
      res.status(202).json({ workflow_id: triggered.workflowId, run_id: triggered.runId, already_running: triggered.alreadyRunning });
      return;
    }
    await client.workflow.getHandle(triggered.workflowId, triggered.runId).result().catch(() => undefined);
    const run = await runs.getRun(triggered.runId);
    if (!run) throw new HttpError(500, 'internal', 'the run finished without a record');
    res.status(200).json(presentRun(run));
  });

  const decide = (approve: boolean) => async (req: Request, res: Response) => {
    const principal = res.locals.principal as Principal;
    const workflowId = String(req.params.workflowId);
    const [run] = await history.runsByWorkflowId(workflowId);
    if (!run) throw new HttpError(404, 'run_not_found', `no sync run has workflow id ${workflowId}`);
    if (run.status !== 'awaiting_approval') {
      throw new HttpError(409, 'not_awaiting_approval', `run ${workflowId} is ${run.status}, not awaiting approval`);
    }
    const { client } = temporal();
    await client.workflow.getHandle(run.workflow_id, run.id).signal(approve ? approveSignal : rejectSignal, { by: principal.name });
    res.status(202).json({ workflow_id: run.workflow_id, run_id: run.id, decision: approve ? 'approved' : 'rejected', by: principal.name });
  };
  app.post('/v1/sync/runs/:workflowId/approve', auth.requireAdmin, decide(true));
  app.post('/v1/sync/runs/:workflowId/reject', auth.requireAdmin, decide(false));

  app.use((_req, _res, next) => next(notFound()));

  // One place maps errors to the contract's shape; anything unexpected is a 500 without internals.
  app.use((error: unknown, _req: Request, res: Response, _next: NextFunction) => {
    if (error instanceof HttpError) {
      res.status(error.status).json(error.toJSON());
      return;
    }
    const type = (error as { type?: string }).type;
    if (type === 'entity.parse.failed') {
      res.status(400).json({ error: { code: 'invalid_json', message: 'the request body is not valid JSON' } });
      return;
    }
    if (type === 'entity.too.large') {
      res.status(413).json({ error: { code: 'body_too_large', message: 'the request body is too large' } });
      return;
    }
    deps.logger?.warn(`unhandled API error: ${(error as Error)?.message}`);
    res.status(500).json({ error: { code: 'internal', message: 'internal error' } });
  });

  return app;
}
