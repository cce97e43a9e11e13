import {
  ScheduleAlreadyRunning,
  ScheduleOverlapPolicy,
  type Client,
  type ScheduleOptions,
} from '@temporalio/client';
import type { Config } from '../config.ts';
import { SCHEDULE_ID, WORKFLOW_ID_PREFIX, WORKFLOW_TYPE, type SyncWorkflowInput } from './contract.ts';

function scheduleOptions(config: Config, scheduleId: string): ScheduleOptions {
  const input: SyncWorkflowInput = { trigger: 'schedule' };
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
    },
    policies: {
      // One sync at a time; after an outage, one catch-up run is enough (each run reads the whole page).
      overlap: ScheduleOverlapPolicy.SKIP,
      catchupWindow: `${config.syncIntervalMinutes}m`,
      pauseOnFailure: false,
    },
    memo: { purpose: 'Hourly sync of the restricted instruments list from Confluence' },
  };
}

/** Creates the schedule, or brings an existing one up to date (a changed interval). Safe to run twice. */
export async function ensureSchedule(
  client: Client,
  config: Config,
  scheduleId = SCHEDULE_ID,
): Promise<'created' | 'updated'> {
  const options = scheduleOptions(config, scheduleId);
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
