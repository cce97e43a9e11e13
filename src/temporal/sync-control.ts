import type { Client, WorkflowExecutionStatusName } from '@temporalio/client';
import { approveSignal, rejectSignal } from './contract.ts';
import type { RunStarter, TriggeredRun } from './run-start.ts';

/** What the API asks of Temporal: start a run, wait for one, decide a held one, ask how one stands. */
export interface SyncControl {
  /** Starts a sync now on behalf of `requestedBy` (an admin token's name), or returns the one in progress. */
  trigger(requestedBy: string): Promise<TriggeredRun>;
  /** Resolves when the run has ended, however it ended. */
  ended(workflowId: string, runId: string): Promise<void>;
  /** Signals an operator's decision to a run held by the removal guard. */
  decide(workflowId: string, runId: string, approve: boolean, by: string): Promise<void>;
  /** Temporal's view of the run; throws when Temporal cannot be asked. */
  status(workflowId: string, runId: string): Promise<WorkflowExecutionStatusName>;
}

export function createTemporalSyncControl(client: Client, starter: RunStarter): SyncControl {
  return {
    trigger: (requestedBy) => starter.start({ trigger: 'manual', requestedBy }),
    ended: (workflowId, runId) =>
      client.workflow
        .getHandle(workflowId, runId)
        .result()
        .then(
          () => undefined,
          () => undefined,
        ),
    async decide(workflowId, runId, approve, by) {
      await client.workflow
        .getHandle(workflowId, runId)
        .signal(approve ? approveSignal : rejectSignal, { by });
    },
    async status(workflowId, runId) {
      return (await client.workflow.getHandle(workflowId, runId).describe()).status.name;
    },
  };
}
