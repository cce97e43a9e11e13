import { ScheduleOverlapPolicy, type Client } from '@temporalio/client';

export interface TriggeredRun {
  workflowId: string;
  runId: string;
  /** True when a run was already in progress and is returned instead of starting another. */
  alreadyRunning: boolean;
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/**
 * Starts a sync now through the schedule, so that its overlap policy (SKIP) keeps runs one at a
 * time: a trigger while a run is in progress returns that run. (`trigger()` defaults to ALLOW_ALL;
 * SKIP is passed on purpose.) Temporal starts the triggered run asynchronously, so we wait for it
 * to appear among the schedule's running actions.
 */
export async function triggerSync(
  client: Client,
  scheduleId: string,
  timeoutMs = 15_000,
): Promise<TriggeredRun> {
  const handle = client.schedule.getHandle(scheduleId);
  const before = await handle.describe();
  const running = before.info.runningActions[0];
  if (running) {
    return {
      workflowId: running.workflow.workflowId,
      runId: running.workflow.firstExecutionRunId,
      alreadyRunning: true,
    };
  }
  const known = new Set(
    before.info.recentActions.map((action) => action.action.workflow.firstExecutionRunId),
  );
  await handle.trigger(ScheduleOverlapPolicy.SKIP);

  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const { info } = await handle.describe();
    const started =
      info.runningActions.find((action) => !known.has(action.workflow.firstExecutionRunId)) ??
      info.runningActions[0] ??
      info.recentActions
        .map((result) => result.action)
        .find((action) => !known.has(action.workflow.firstExecutionRunId));
    if (started) {
      return {
        workflowId: started.workflow.workflowId,
        runId: started.workflow.firstExecutionRunId,
        alreadyRunning: false,
      };
    }
    if (Date.now() > deadline)
      throw new Error(
        `the schedule ${scheduleId} did not start a run within ${timeoutMs / 1000} s of the trigger`,
      );
    await sleep(100);
  }
}
