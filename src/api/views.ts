import type { Config } from '../config.ts';
import type { CheckItem, CheckQuery, StoredInstrument, SyncRun } from '../domain/index.ts';
import type { HistoryStore, InstrumentStore, RunStore } from '../stores/types.ts';
import type { RetryingStep, RunProgress, SyncControl, WatchView } from '../temporal/sync-control.ts';
import type { Principal } from './auth.ts';
import { evaluateCheck } from './check.ts';
import { createCheckAnswers } from './check-answers.ts';
import type { CheckIndex } from './check-index.ts';
import { ConflictError, listUnavailable, NotFoundError, ServiceUnavailableError } from './errors.ts';
import type {
  CheckAnswer,
  DecisionAnswer,
  ListAnswer,
  ListChange,
  ListedInstrument,
  ReadinessAnswer,
  RunAnswer,
  RunDetailAnswer,
  RunReading,
  StatusAnswer,
} from './schemas.ts';
import { closedRunFailure, type TriggeredRun } from '../temporal/run-start.ts';

/** Failed probes in a row before the status says edits are not being watched (contract). */
const WATCH_FAILURES_BEFORE_ERROR = 3;

export interface ViewDeps {
  config: Config;
  runs: RunStore;
  instruments: InstrumentStore;
  history: HistoryStore;
  /** The in-memory list checks answer from now. */
  checkIndex: CheckIndex;
  /** Needed to start or decide runs; absent, those answer 503. */
  syncControl?: SyncControl;
  clock?: () => Date;
}

const matchesQuery = (row: StoredInstrument, item: CheckQuery) =>
  (item.ticker !== null && row.ticker === item.ticker) || (item.isin !== null && row.isin === item.isin);

export function presentInstrument(row: StoredInstrument): ListedInstrument {
  return {
    ticker: row.ticker,
    isin: row.isin,
    name: row.name,
    reason: row.reason,
    restriction_type: row.restriction_type,
    effective_from: row.effective_from,
    expires_at: row.expires_at,
    is_active: row.is_active,
    source_page_id: row.source_page_id,
  };
}

function readingOf(run: SyncRun): RunReading {
  return {
    warnings: run.warnings.map((w) => ({
      page: w.page,
      table: w.table,
      row: w.row,
      column: w.column,
      problem: w.problem,
      raw: w.raw,
      code: w.code ?? null,
    })),
    checksums: run.checksums.map(({ pageId, ...checksum }) => ({ page_id: pageId, ...checksum })),
  };
}

/**
 * What the API and the dashboard show, computed in one place: the JSON endpoints serialise these
 * answers and the dashboard renders them. Each is typed by its response schema (schemas.ts).
 */
export function createViews(deps: ViewDeps) {
  const { config, runs, instruments, history } = deps;
  const clock = deps.clock ?? (() => new Date());
  const checkAnswers = createCheckAnswers({
    checkIndex: deps.checkIndex,
    staleAfterMinutes: config.staleAfterMinutes,
    ...(deps.clock ? { clock: deps.clock } : {}),
  });
  const isStale = (lastSuccess: Date | null, now: Date) =>
    lastSuccess === null || now.getTime() - lastSuccess.getTime() > config.staleAfterMinutes * 60_000;
  const temporalUiUrl = (run: SyncRun) =>
    `${config.temporal.uiUrl}/namespaces/${encodeURIComponent(config.temporal.namespace)}/workflows/${encodeURIComponent(run.workflow_id)}/${encodeURIComponent(run.id)}/history`;
  const control = () => {
    if (!deps.syncControl)
      throw new ServiceUnavailableError(
        'temporal_unavailable',
        'this API process has no Temporal connection',
      );
    return deps.syncControl;
  };
  /** Answers checks now (from the cache) or at a past instant (rebuilt from the change log). */
  async function check(items: CheckItem[], at: Date | null): Promise<CheckAnswer[]> {
    if (at === null) {
      const answers = checkAnswers.answers(items);
      if (answers === null) throw listUnavailable();
      return answers;
    }
    const applied = await history.listVersionAt(at);
    if (applied === null) throw listUnavailable();
    // Each item's own candidates: the instruments that ever had its ticker or ISIN, as they were then.
    const states = await Promise.all(items.map((item) => history.stateAt(at, item)));
    const asOf = applied.appliedAt.toISOString();
    const stale = isStale(applied.appliedAt, at);
    return items.map((item, index) => ({
      ...evaluateCheck(
        states[index]!.filter((row) => matchesQuery(row, item)),
        item.side,
        at,
      ),
      as_of: asOf,
      stale,
      list_version: applied.listVersion,
    }));
  }

  const presentRun = (run: SyncRun): RunAnswer => ({
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
    decision:
      run.decision === null
        ? null
        : { decision: run.decision, by: run.decided_by, at: run.decided_at?.toISOString() ?? null },
    list_version: run.list_version,
    pages: run.pages,
    temporal_ui_url: temporalUiUrl(run),
  });

  /**
   * A run still marked running or held in the database, as Temporal sees it: one Temporal has
   * closed (terminated, timed out) is reported as failed, with what Temporal says; one whose step
   * is being retried after a failure carries that failure.
   */
  async function reconcile(run: SyncRun): Promise<{ run: SyncRun; retrying: RetryingStep | null }> {
    if ((run.status !== 'running' && run.status !== 'awaiting_approval') || !deps.syncControl)
      return { run, retrying: null };
    let progress: RunProgress;
    try {
      progress = await deps.syncControl.progress(run.workflow_id, run.id);
    } catch {
      return { run, retrying: null };
    }
    if (progress.state === 'RUNNING') return { run, retrying: progress.retrying };
    if (progress.state === 'COMPLETED' || progress.state === 'FAILED') return { run, retrying: null };
    const failure = closedRunFailure(progress.state);
    return {
      run: { ...run, status: 'failed', error_code: failure.code, error: failure.message },
      retrying: null,
    };
  }

  /** The edit watch as status reports it; `error` says when (and why) edits are not being watched. */
  async function watchStatus(): Promise<StatusAnswer['watch']> {
    const everySeconds = config.watchSeconds;
    const lag = await history.editsOf().then(
      (edits) =>
        edits?.earliestEditedAt
          ? Math.round((edits.appliedAt.getTime() - edits.earliestEditedAt.getTime()) / 100) / 10
          : null,
      () => null,
    );
    const base = {
      enabled: everySeconds > 0,
      every_seconds: everySeconds,
      last_enforcement_lag_seconds: lag,
    };
    if (everySeconds === 0) return { ...base, last_probe_at: null, last_change_seen_at: null, error: null };
    let view: WatchView;
    try {
      view = await control().watch();
    } catch (error) {
      return {
        ...base,
        last_probe_at: null,
        last_change_seen_at: null,
        error: `cannot tell whether edits are watched: Temporal did not answer (${(error as Error).message})`,
      };
    }
    const state = view.state;
    const seen = {
      last_probe_at: state?.lastProbeAt ?? null,
      last_change_seen_at: state?.lastChangeSeenAt ?? null,
    };
    if (!view.running)
      return {
        ...base,
        ...seen,
        error:
          'edits are not being watched: the watch is not running (no worker has started it); edits wait for the next scheduled sync',
      };
    if (state !== null && state.failuresInRow >= WATCH_FAILURES_BEFORE_ERROR)
      return {
        ...base,
        ...seen,
        error: `edits are not being watched: the last ${state.failuresInRow} probes of Confluence failed (${state.lastError ?? 'no reason given'}); edits wait for the next scheduled sync`,
      };
    return { ...base, ...seen, error: null };
  }

  return {
    check,
    /** Checks now, from the index: answers, and the bytes of a single one (GET /v1/check). */
    checkAnswers,
    presentRun,
    temporalUiUrl,

    /** The sync status a person reads: the contract's words for each state. */
    async status(): Promise<StatusAnswer> {
      const [latestRow, lastSuccess, instrumentCount] = await Promise.all([
        runs.latest(),
        runs.latestSuccess(),
        instruments.countActive(),
      ]);
      const [reconciled, watch] = await Promise.all([
        latestRow === undefined ? undefined : reconcile(latestRow),
        watchStatus(),
      ]);
      const latest = reconciled?.run;
      const retrying = reconciled?.retrying ?? null;
      const now = clock();
      const lastSuccessAt = lastSuccess?.finished_at ?? null;
      const stale = isStale(lastSuccessAt, now);
      const status = latest === undefined ? 'never' : latest.status === 'succeeded' ? 'ok' : latest.status;
      const cached =
        lastSuccessAt === null
          ? 'no list has been loaded yet'
          : `using cached data from ${lastSuccessAt.toISOString()}`;
      const message =
        status === 'never'
          ? 'No sync has run yet'
          : status === 'failed'
            ? `Sync failed - ${cached}`
            : status === 'awaiting_approval'
              ? `Sync awaiting approval - ${latest?.held_reason ?? 'held by the removal guard'}; checks keep ${cached}`
              : status === 'running'
                ? retrying !== null
                  ? `Sync retrying - ${retrying.message} (attempt ${retrying.attempt}); checks keep ${cached}`
                  : `Sync in progress - checks keep ${cached}`
                : stale
                  ? `List is stale: last successful sync at ${lastSuccessAt?.toISOString()}`
                  : `Synced ${instrumentCount} ${instrumentCount === 1 ? 'instrument' : 'instruments'}`;
      return {
        status,
        last_attempt_at: latest?.started_at.toISOString() ?? null,
        last_success_at: lastSuccessAt?.toISOString() ?? null,
        instrument_count: instrumentCount,
        stale,
        message,
        last_error:
          status === 'failed'
            ? {
                code: latest?.error_code ?? null,
                message: latest?.error ?? null,
              }
            : retrying !== null
              ? {
                  code: retrying.code,
                  message: retrying.message,
                  attempt: retrying.attempt,
                  next_retry_at: retrying.nextRetryAt?.toISOString() ?? null,
                }
              : null,
        pages: lastSuccess?.pages ?? [],
        ...(latest && status !== 'ok' && status !== 'never' ? { current_run: presentRun(latest) } : {}),
        watch,
      };
    },

    /** One run (the latest of that workflow id) with its parse warnings and page checksums. */
    async runDetail(workflowId: string): Promise<RunDetailAnswer> {
      const [row] = await runs.byWorkflowId(workflowId);
      if (!row) throw new NotFoundError('run_not_found', `no sync run has workflow id ${workflowId}`);
      const { run } = await reconcile(row);
      return { run: presentRun(run), ...readingOf(run) };
    },

    /**
     * What the latest run read besides the list (the dashboard's card): its parse warnings and page
     * checksums. Neither changes with the run's state, so Temporal is not asked; null without runs.
     */
    async latestReading(): Promise<RunReading | null> {
      const [run] = await runs.recent(1);
      return run ? readingOf(run) : null;
    },

    async runs(limit: number): Promise<RunAnswer[]> {
      const rows = await Promise.all(
        (await runs.recent(limit)).map(async (run) => (await reconcile(run)).run),
      );
      return rows.map(presentRun);
    },

    async changes(options: { since: Date | null; limit: number }): Promise<ListChange[]> {
      const changes = await history.changes(options);
      return changes.map((c) => ({
        at: c.at.toISOString(),
        change: c.change,
        ticker: c.ticker,
        isin: c.isin,
        before: c.before,
        after: c.after,
        page_id: c.page_id,
        page_version: c.page_version,
        edited_by: c.edited_by,
        edited_at: c.edited_at?.toISOString() ?? null,
        run_id: c.run_id,
        list_version: c.list_version,
      }));
    },

    /** The list now (the cache) or at a past instant (rebuilt); 503 before the first successful sync. */
    async list(options: { at: Date | null; includeInactive: boolean }): Promise<ListAnswer> {
      let rows: StoredInstrument[];
      let asOf: Date;
      if (options.at === null) {
        const lastSuccess = await runs.latestSuccess();
        if (!lastSuccess?.finished_at) throw listUnavailable();
        rows = await instruments.listAll();
        asOf = lastSuccess.finished_at;
      } else {
        const applied = await history.listVersionAt(options.at);
        if (applied === null) throw listUnavailable();
        rows = await history.stateAt(options.at);
        asOf = applied.appliedAt;
      }
      const listed = rows
        .filter((row) => options.includeInactive || row.is_active)
        .sort(
          (a, b) =>
            (a.ticker ?? '\uffff').localeCompare(b.ticker ?? '\uffff') ||
            (a.isin ?? '').localeCompare(b.isin ?? ''),
        )
        .map(presentInstrument);
      return { instruments: listed, count: listed.length, as_of: asOf.toISOString() };
    },

    /** Starts a sync now, or returns the one in progress; with `wait`, the finished run. */
    async trigger(
      principal: Principal,
      wait: boolean,
    ): Promise<{ finished: RunAnswer | null; triggered: TriggeredRun }> {
      const syncControl = control();
      const triggered = await syncControl.trigger(principal.name);
      if (!wait) return { finished: null, triggered };
      // Until the run ends — or is held for an operator, which may take a day: the caller gets the
      // held run (status awaiting_approval) rather than a request open for hours.
      const ended = syncControl.ended(triggered.workflowId, triggered.runId);
      let settled = false;
      void ended.then(() => (settled = true));
      for (;;) {
        const run = await runs.get(triggered.runId);
        if (run && (settled || run.status === 'awaiting_approval'))
          return { finished: presentRun(run), triggered };
        await Promise.race([ended, new Promise((resolve) => setTimeout(resolve, 250))]);
      }
    },

    /** Ready when the database answers and a list is loaded (before that, checks answer 503). */
    async readiness(): Promise<ReadinessAnswer> {
      const database = await runs.currentListVersion().then(
        (version) => ({ ok: true, listVersion: version }),
        (error: unknown) => ({ ok: false, listVersion: null, error: (error as Error).message }),
      );
      const snapshot = deps.checkIndex.snapshot();
      const listVersion = snapshot?.listVersion ?? null;
      const ready = database.ok && listVersion !== null;
      return {
        ready,
        database: database.ok ? 'ok' : 'unreachable',
        list_version: listVersion,
        instrument_count: snapshot?.size ?? null,
      };
    },

    /** Approves or rejects a run held by the removal guard (a signal to its workflow). */
    async decide(workflowId: string, approve: boolean, principal: Principal): Promise<DecisionAnswer> {
      const [run] = await runs.byWorkflowId(workflowId);
      if (!run) throw new NotFoundError('run_not_found', `no sync run has workflow id ${workflowId}`);
      if (run.status !== 'awaiting_approval') {
        throw new ConflictError(
          'not_awaiting_approval',
          `run ${workflowId} is ${run.status}, not awaiting approval`,
        );
      }
      await control().decide(run.workflow_id, run.id, approve, principal.name);
      return {
        workflow_id: run.workflow_id,
        run_id: run.id,
        decision: approve ? 'approved' : 'rejected',
        by: principal.name,
      };
    },
  };
}

export type Views = ReturnType<typeof createViews>;
