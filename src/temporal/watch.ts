import { WorkflowNotFoundError, type Client } from '@temporalio/client';
import { DEFAULT_TASK_QUEUE, type Config } from '../config.ts';
import { WATCH_SUMMARY } from '../sync/summaries.ts';

export const WATCH_WORKFLOW_TYPE = 'watchRestrictedList';

/**
 * One watch per task queue, whatever the number of workers: a fixed workflow id. The default task
 * queue's watch keeps a plain id; another queue (a test, a second list) has its own.
 */
export function watchWorkflowId(taskQueue: string): string {
  return taskQueue === DEFAULT_TASK_QUEUE ? 'restricted-list-watch' : `restricted-list-watch-${taskQueue}`;
}

/**
 * Every worker calls this at start: with RESTRICTED_LIST_WATCH_SECONDS > 0 the watch runs (the
 * first worker starts it, the others find it running); with 0 a running watch is stopped.
 */
export async function ensureWatch(client: Client, config: Config): Promise<'watching' | 'stopped' | 'off'> {
  const workflowId = watchWorkflowId(config.temporal.taskQueue);
  if (config.watchSeconds === 0) {
    try {
      const handle = client.workflow.getHandle(workflowId);
      if ((await handle.describe()).status.name !== 'RUNNING') return 'off';
      await handle.cancel();
      return 'stopped';
    } catch (error) {
      if (error instanceof WorkflowNotFoundError) return 'off';
      throw error;
    }
  }
  await client.workflow.start(WATCH_WORKFLOW_TYPE, {
    workflowId,
    taskQueue: config.temporal.taskQueue,
    args: [],
    workflowIdConflictPolicy: 'USE_EXISTING',
    staticSummary: WATCH_SUMMARY,
    staticDetails: `Probes every ${config.watchSeconds} s (RESTRICTED_LIST_WATCH_SECONDS of the worker running it); a probe that finds nothing new writes nothing. Its pending activity's heartbeat details show the last probe and any error.`,
  });
  return 'watching';
}
