import {
  ActivityFailure,
  ApplicationFailure,
  TimeoutFailure,
  log,
  proxyActivities,
  upsertSearchAttributes,
  workflowInfo,
} from '@temporalio/workflow';
import type { SyncActivities } from '../activities/index.ts';
import type { SyncWorkflowInput, SyncWorkflowResult } from '../src/shared.ts';

// Transient failures (Confluence 5xx, network, database) are retried with exponential backoff
// (1 s, 2 s, 4 s … capped at 1 min); after 10 minutes the run gives up and the next one tries again.
const retry = { initialInterval: '1s', backoffCoefficient: 2, maximumInterval: '1m' } as const;

const { fetchPages, parsePages, diffList, applyDiff } = proxyActivities<SyncActivities>({
  startToCloseTimeout: '2m',
  scheduleToCloseTimeout: '10m',
  retry,
});

const { markRunFailed } = proxyActivities<SyncActivities>({
  startToCloseTimeout: '30s',
  scheduleToCloseTimeout: '30m',
  retry,
});

/** The failure's type and words, from the activity failure that ended the run. */
function describeFailure(error: unknown): { code: string; message: string } {
  const cause = error instanceof ActivityFailure ? error.cause : error;
  if (cause instanceof ApplicationFailure) return { code: cause.type ?? 'Error', message: cause.message };
  if (cause instanceof TimeoutFailure) return { code: 'Timeout', message: `gave up after retrying: ${cause.message}` };
  return { code: 'Error', message: cause instanceof Error ? cause.message : String(cause) };
}

/** One sync: fetch → parse → diff → apply. Payloads carry ids and counts; the data stays in Postgres. */
export async function syncRestrictedList(input: SyncWorkflowInput): Promise<SyncWorkflowResult> {
  const { workflowId, runId } = workflowInfo();
  const run = { workflowId, runId };
  try {
    const fetched = await fetchPages({ ...run, trigger: input.trigger });
    upsertSearchAttributes({
      RestrictedListPageVersions: fetched.pages.map((page) => `${page.id}:v${page.version}`),
    });
    const parsed = await parsePages(run);
    const diff = await diffList(run);
    log.info(diff.summary);
    const applied = await applyDiff(run);
    upsertSearchAttributes({
      RestrictedListAdded: [applied.added],
      RestrictedListRemoved: [applied.removed],
      RestrictedListModified: [applied.modified],
    });
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
    const failure = describeFailure(error);
    log.warn('sync failed; the cached list is unchanged', failure);
    await markRunFailed({ ...run, trigger: input.trigger, ...failure });
    throw error;
  }
}
