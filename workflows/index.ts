import {
  ActivityFailure,
  ApplicationFailure,
  TimeoutFailure,
  condition,
  log,
  proxyActivities,
  setCurrentDetails,
  setHandler,
  upsertSearchAttributes,
  workflowInfo,
} from '@temporalio/workflow';
import type { SyncActivities } from '../activities/index.ts';
import type { Decision } from '../src/domain/index.ts';
import {
  approveSignal,
  rejectSignal,
  stageQuery,
  type SyncWorkflowInput,
  type SyncWorkflowResult,
} from '../src/temporal/contract.ts';

const DEFAULT_APPROVAL_TIMEOUT_MS = 24 * 60 * 60 * 1000;

/** The failure's type and words, from the activity failure that ended the run. */
function describeFailure(error: unknown): { code: string; message: string } {
  const cause = error instanceof ActivityFailure ? error.cause : error;
  if (cause instanceof ApplicationFailure) return { code: cause.type ?? 'Error', message: cause.message };
  if (cause instanceof TimeoutFailure)
    return { code: 'Timeout', message: `gave up after retrying: ${cause.message}` };
  return { code: 'Error', message: cause instanceof Error ? cause.message : String(cause) };
}

/**
 * One sync: fetch → parse → diff → (removal guard) → apply. Payloads carry ids, counts and
 * short summaries; page bodies and lists stay in Postgres, so the history is small at any size.
 */
export async function syncRestrictedList(input: SyncWorkflowInput): Promise<SyncWorkflowResult> {
  const { workflowId, runId } = workflowInfo();
  const run = { workflowId, runId };

  // Transient failures (Confluence 5xx and timeouts, network, database) are retried with
  // exponential backoff (1 s, 2 s, 4 s … capped at 1 min); after 10 minutes the run gives up,
  // says why, and the next scheduled run tries again.
  const retry = { initialInterval: '1s', backoffCoefficient: 2, maximumInterval: '1m' } as const;
  const { fetchPages, parsePages, diffList, applyDiff } = proxyActivities<SyncActivities>({
    startToCloseTimeout: input.activityStartToCloseMs ?? 2 * 60 * 1000,
    scheduleToCloseTimeout: '10m',
    retry,
  });
  const { markRunFailed, holdForApproval } = proxyActivities<SyncActivities>({
    startToCloseTimeout: '30s',
    scheduleToCloseTimeout: '30m',
    retry,
  });

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
  };
  setHandler(approveSignal, decide(true));
  setHandler(rejectSignal, decide(false));

  try {
    setStage('Fetching the list page(s) from Confluence');
    const fetched = await fetchPages({
      ...run,
      trigger: input.trigger,
      ...(input.requestedBy ? { requestedBy: input.requestedBy } : {}),
    });
    upsertSearchAttributes({
      RestrictedListPageVersions: fetched.pages.map((page) => `${page.id}:v${page.version}`),
    });

    setStage(`${fetched.summary}; parsing`);
    const parsed = await parsePages(run);
    setStage(`${parsed.summary}; comparing with the cached list`);
    const diff = await diffList(run);
    log.info(diff.summary);

    let approvedBy: string | null = null;
    if (diff.held !== null) {
      const timeoutMs = input.approvalTimeoutMs ?? DEFAULT_APPROVAL_TIMEOUT_MS;
      setStage(
        `Waiting for an operator: ${diff.held}. Approve or reject through the API; checks keep using the current list.`,
      );
      held = true;
      await holdForApproval({ ...run, reason: diff.held });
      const answered = await condition(() => decision !== null, timeoutMs);
      const outcome = decision as { approved: boolean; by: string } | null;
      if (!answered || outcome === null) {
        const message = `nobody approved within ${Math.round(timeoutMs / 60_000)} min: ${diff.held}; nothing applied`;
        setStage(`Ended: ${message}. The cached list is unchanged.`);
        await markRunFailed({
          ...run,
          trigger: input.trigger,
          code: 'ApprovalTimedOut',
          message,
          decision: { decision: 'expired', by: null },
        });
        throw ApplicationFailure.create({ type: 'ApprovalTimedOut', message, nonRetryable: true });
      }
      if (!outcome.approved) {
        const message = `rejected by ${outcome.by}: ${diff.held}; nothing applied`;
        setStage(`Ended: ${message}. The cached list is unchanged.`);
        await markRunFailed({
          ...run,
          trigger: input.trigger,
          code: 'RemovalRejected',
          message,
          decision: { decision: 'rejected', by: outcome.by },
        });
        throw ApplicationFailure.create({ type: 'RemovalRejected', message, nonRetryable: true });
      }
      approvedBy = outcome.by;
      held = false;
    }

    setStage(`${diff.summary}; applying`);
    const applied = await applyDiff({ ...run, approvedBy });
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
    if (error instanceof ApplicationFailure) throw error; // already recorded (guard decisions)
    const failure = describeFailure(error);
    setStage(`Failed (${failure.code}): ${failure.message}. The cached list is unchanged.`);
    log.warn('sync failed; the cached list is unchanged', failure);
    await markRunFailed({ ...run, trigger: input.trigger, ...failure });
    throw error;
  }
}
