import {
  ActivityFailure,
  ApplicationFailure,
  TemporalFailure,
  TimeoutFailure,
  condition,
  continueAsNew,
  log,
  proxyActivities,
  setCurrentDetails,
  setHandler,
  upsertSearchAttributes,
  workflowInfo,
  type ActivityOptions,
} from '@temporalio/workflow';
import type { SyncActivities } from '../activities/index.ts';
import type { WatchActivities } from '../activities/watch.ts';
import type { Decision } from '../src/domain/index.ts';
import {
  applySummary,
  compareSummary,
  failureSummary,
  fetchSummary,
  formatDuration,
  holdSummary,
  parseSummary,
  START_SUMMARY,
  waitSummary,
  WATCH_SUMMARY,
} from '../src/sync/summaries.ts';
import {
  approveSignal,
  rejectSignal,
  stageQuery,
  type SyncWorkflowInput,
  type SyncWorkflowResult,
} from '../src/temporal/contract.ts';

const DEFAULT_APPROVAL_TIMEOUT_MS = 24 * 60 * 60 * 1000;

// Transient failures (Confluence 5xx and timeouts, network, database) are retried with
// exponential backoff (1 s, 2 s, 4 s … capped at 1 min); after 10 minutes the run gives up,
// says why, and the next scheduled run tries again.
const RETRY = { initialInterval: '1s', backoffCoefficient: 2, maximumInterval: '1m' } as const;

/** The failure's type and words, from what ended the run. */
function describeFailure(error: unknown): { code: string; message: string } {
  const cause = error instanceof ActivityFailure ? error.cause : error;
  if (cause instanceof ApplicationFailure) return { code: cause.type ?? 'Error', message: cause.message };
  if (cause instanceof TimeoutFailure)
    return { code: 'Timeout', message: `gave up after retrying: ${cause.message}` };
  return { code: 'Error', message: cause instanceof Error ? cause.message : String(cause) };
}

/**
 * A workflow fails only by throwing a TemporalFailure: anything else (a bug in this code) would
 * fail the workflow *task*, which Temporal retries forever and the run looks stuck.
 */
function asWorkflowFailure(error: unknown): TemporalFailure {
  if (error instanceof TemporalFailure) return error;
  const { message } = describeFailure(error);
  return ApplicationFailure.create({
    type: 'WorkflowError',
    message,
    nonRetryable: true,
    ...(error instanceof Error ? { cause: error } : {}),
  });
}

/**
 * One sync: start (one at a time) → fetch → parse → diff → (removal guard) → apply. Payloads carry
 * ids, counts and short summaries; page bodies and lists stay in Postgres, so the history is small
 * at any size. Every step says in words what it does (its summary in the Temporal UI).
 */
export async function syncRestrictedList(input: SyncWorkflowInput): Promise<SyncWorkflowResult> {
  const { workflowId, runId } = workflowInfo();
  const run = { workflowId, runId };
  const origin = { trigger: input.trigger, ...(input.requestedBy ? { requestedBy: input.requestedBy } : {}) };

  const stepOptions: ActivityOptions = {
    startToCloseTimeout: input.activityStartToCloseMs ?? 2 * 60 * 1000,
    scheduleToCloseTimeout: '10m',
    retry: RETRY,
  };
  const recordOptions: ActivityOptions = {
    startToCloseTimeout: '30s',
    scheduleToCloseTimeout: '30m',
    retry: RETRY,
  };
  /** The activities, each call carrying its summary (a proxy per summary is the GA way to set one). */
  const step = (summary: string) => proxyActivities<SyncActivities>({ ...stepOptions, summary });
  const record = (summary: string) => proxyActivities<SyncActivities>({ ...recordOptions, summary });

  let stage = 'starting';
  const setStage = (words: string) => {
    stage = words;
    setCurrentDetails(words);
  };
  setHandler(stageQuery, () => stage);
  let decision: { approved: boolean; by: string } | null = null;
  let held = false;
  // A decision counts only while the run is held: an early or stray signal must not pre-approve
  // a removal nobody has seen yet. (The run is marked held in Postgres, which the API checks
  // before it signals, only after `held` is set.)
  const decide = (approved: boolean) => (signal: Decision) => {
    if (!held) {
      log.warn('ignored a decision for a run that is not awaiting approval', { approved, by: signal.by });
      return;
    }
    if (decision === null) decision = { approved, by: signal.by };
    else
      log.warn('ignored a second decision; the first counts', { approved, by: signal.by, first: decision });
  };
  setHandler(approveSignal, decide(true));
  setHandler(rejectSignal, decide(false));

  /** Records why the run failed (the failure being recorded wins over a failure to record it). */
  const recordFailure = async (
    failure: { code: string; message: string },
    outcome?: { decision: 'rejected' | 'expired'; by: string | null },
  ) => {
    setStage(
      outcome
        ? `Ended: ${failure.message}. The cached list is unchanged.`
        : `Failed (${failure.code}): ${failure.message}. The cached list is unchanged.`,
    );
    try {
      await record(failureSummary(failure.code, failure.message)).markRunFailed({
        ...run,
        trigger: input.trigger,
        ...failure,
        ...(outcome ? { decision: outcome } : {}),
      });
    } catch (error) {
      log.error('could not record the failure of the run', { failure, error: describeFailure(error) });
    }
  };

  let decided: ApplicationFailure | null = null;
  try {
    setStage('Checking that no other sync is in progress');
    const started = await step(START_SUMMARY).startRun({ ...run, ...origin });
    if (started.skipped !== null) {
      setStage(
        `Skipped: sync ${started.skipped.workflowId} (started by ${started.skipped.startedBy}) is in progress; one sync runs at a time.`,
      );
      return {
        status: 'skipped',
        runId,
        inProgress: { workflowId: started.skipped.workflowId, runId: started.skipped.runId },
      };
    }
    const { baseline } = started;

    setStage('Fetching the list page(s) from Confluence');
    const fetched = await step(fetchSummary(baseline.pages)).fetchPages({ ...run, ...origin });
    upsertSearchAttributes({
      RestrictedListPageVersions: fetched.pages.map((page) => `${page.id}:v${page.version}`),
    });

    setStage(`${fetched.summary}; parsing`);
    const parsed = await step(parseSummary(fetched.pages)).parsePages(run);
    setStage(`${parsed.summary}; comparing with the cached list`);
    const diff = await step(
      compareSummary(parsed.instrumentCount, baseline.listVersion, parsed.warningCount),
    ).diffList(run);
    log.info(diff.summary);

    let approvedBy: string | null = null;
    if (diff.held !== null) {
      const timeoutMs = input.approvalTimeoutMs ?? DEFAULT_APPROVAL_TIMEOUT_MS;
      setStage(
        `Waiting for an operator: ${diff.held}. Approve or reject through the API; checks keep using the current list.`,
      );
      held = true;
      await record(holdSummary(diff.held)).holdForApproval({ ...run, reason: diff.held });
      const answered = await condition(() => decision !== null, timeoutMs, {
        summary: waitSummary(timeoutMs, diff.held),
      });
      held = false;
      const outcome = decision as { approved: boolean; by: string } | null;
      if (!answered || outcome === null) {
        const message = `nobody approved within ${formatDuration(timeoutMs)}: ${diff.held}; nothing applied`;
        await recordFailure({ code: 'ApprovalTimedOut', message }, { decision: 'expired', by: null });
        decided = ApplicationFailure.create({ type: 'ApprovalTimedOut', message, nonRetryable: true });
        throw decided;
      }
      if (!outcome.approved) {
        const message = `rejected by ${outcome.by}: ${diff.held}; nothing applied`;
        await recordFailure({ code: 'RemovalRejected', message }, { decision: 'rejected', by: outcome.by });
        decided = ApplicationFailure.create({ type: 'RemovalRejected', message, nonRetryable: true });
        throw decided;
      }
      approvedBy = outcome.by;
    }

    setStage(`${diff.summary}; applying`);
    const applied = await step(applySummary(diff, baseline.listVersion, approvedBy)).applyDiff({
      ...run,
      approvedBy,
    });
    upsertSearchAttributes({
      RestrictedListAdded: [applied.added],
      RestrictedListRemoved: [applied.removed],
      RestrictedListModified: [applied.modified],
      RestrictedListChangedInstruments: applied.changedInstruments,
    });
    setStage(`${applied.summary}; list version ${applied.listVersion}`);
    return {
      status: 'succeeded',
      runId,
      listVersion: applied.listVersion,
      added: applied.added,
      removed: applied.removed,
      modified: applied.modified,
      unchanged: applied.unchanged,
      instrumentCount: parsed.instrumentCount,
      warningCount: parsed.warningCount,
      pages: fetched.pages,
    };
  } catch (error) {
    if (error === decided) throw error; // already recorded (an operator's decision, or none)
    const failure = describeFailure(error);
    log.warn('sync failed; the cached list is unchanged', failure);
    await recordFailure(failure);
    throw asWorkflowFailure(error);
  }
}

/** An hour of watching per activity; then a fresh attempt, so the history grows by a few events an hour. */
const WATCH_REST_AFTER_MS = 60 * 60 * 1000;
/** A day of hours, then continue-as-new: the history never grows past a few hundred events. */
const WATCH_HOURS_PER_RUN = 24;

/**
 * The edit watch: one long-lived execution for the whole fleet (a fixed workflow id), keeping one
 * heartbeating activity that probes Confluence every RESTRICTED_LIST_WATCH_SECONDS and starts a
 * sync when a list page changed. A dead worker's activity times out on its heartbeat and Temporal
 * runs it on another worker, resuming from its last heartbeat.
 */
export async function watchRestrictedList(): Promise<void> {
  const { watchForEdits } = proxyActivities<WatchActivities>({
    startToCloseTimeout: WATCH_REST_AFTER_MS + 10 * 60 * 1000,
    heartbeatTimeout: '15s',
    // Never give up: a Confluence or database outage is ridden out inside the activity; this
    // retries only a dead worker or a bug, ever more slowly.
    retry: RETRY,
    summary: WATCH_SUMMARY,
  });
  for (let hour = 0; hour < WATCH_HOURS_PER_RUN; hour++) {
    const state = await watchForEdits({ restAfterMs: WATCH_REST_AFTER_MS });
    if (state.everySeconds === 0) {
      log.info('RESTRICTED_LIST_WATCH_SECONDS is 0 on the worker that ran the watch: the watch ends');
      return;
    }
  }
  await continueAsNew<typeof watchRestrictedList>();
}
