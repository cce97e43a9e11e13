import {
  ScheduleAlreadyRunning,
  ScheduleOverlapPolicy,
  type Client,
  type ScheduleOptions,
} from '@temporalio/client';
import type { Config } from '../config.ts';
import type { PageVersionRef } from '../domain/index.ts';
import { runDetails, runSummary } from '../sync/summaries.ts';
import { SCHEDULE_ID, WORKFLOW_ID_PREFIX, WORKFLOW_TYPE, type SyncWorkflowInput } from './contract.ts';
import { describeConfiguredPages } from './run-start.ts';

function scheduleOptions(
  config: Config,
  scheduleId: string,
  knownPages: readonly PageVersionRef[],
): ScheduleOptions {
  const input: SyncWorkflowInput = { trigger: 'schedule' };
  const origin = { trigger: 'schedule' } as const;
  return {
    scheduleId,
    spec: { intervals: [{ every: `${config.syncIntervalMinutes}m` }] },
    action: {
      type: 'startWorkflow',
      workflowType: WORKFLOW_TYPE,
      // Temporal appends the action's timestamp to this id.
      workflowId: scheduleId === SCHEDULE_ID ? WORKFLOW_ID_PREFIX : scheduleId,
      taskQueue: config.temporal.taskQueue,
      args: [input],
      // Every scheduled run carries these; the list version it starts from is known only when it runs.
      staticSummary: runSummary(origin, config.syncIntervalMinutes),
      staticDetails: runDetails({
        origin,
        pages: describeConfiguredPages(config.pages, knownPages),
        cql: config.cql,
        baseline: null,
      }),
    },
    policies: {
      // One sync at a time; after an outage, one catch-up run is enough (each run reads the whole page).
      overlap: ScheduleOverlapPolicy.SKIP,
      catchupWindow: `${config.syncIntervalMinutes}m`,
      pauseOnFailure: false,
    },
    memo: {
      purpose: `Sync of the restricted instruments list from Confluence every ${config.syncIntervalMinutes} min`,
    },
  };
}

/**
 * Creates the schedule, or brings an existing one up to date (a changed interval, the pages'
 * titles as the last sync saw them). Safe to run twice.
 */
export async function ensureSchedule(
  client: Client,
  config: Config,
  {
    scheduleId = SCHEDULE_ID,
    knownPages = [],
  }: { scheduleId?: string; knownPages?: readonly PageVersionRef[] } = {},
): Promise<'created' | 'updated'> {
  const options = scheduleOptions(config, scheduleId, knownPages);
  try {
    await client.schedule.create(options);
    return 'created';
  } catch (error) {
    if (!(error instanceof ScheduleAlreadyRunning)) throw error;
  }
  await client.schedule.getHandle(scheduleId).update((previous) => ({
    ...previous,
    spec: options.spec,
    action: options.action,
    policies: { ...previous.policies, ...options.policies },
  }));
  return 'updated';
}
