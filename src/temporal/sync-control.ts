import { defaultPayloadConverter, type Client } from '@temporalio/client';
import type { temporal } from '@temporalio/proto';
import type { WatchState } from '../sync/watch.ts';
import { approveSignal, rejectSignal } from './contract.ts';
import { describeOrNull, type RunStarter, type RunState, type TriggeredRun } from './run-start.ts';

/** A step that failed and that Temporal will run again (the run's status stays `running`). */
export interface RetryingStep {
  /** The activity type, e.g. fetchPages. */
  step: string;
  /** The failure's type: the ApplicationFailure's, else the error's class. */
  code: string;
  message: string;
  /** The attempt Temporal runs next. */
  attempt: number;
  nextRetryAt: Date | null;
}

/** How Temporal sees a run: its state and, while it runs, a step being retried after a failure. */
export interface RunProgress {
  state: RunState;
  retrying: RetryingStep | null;
}

/** The edit watch as Temporal sees it; `state` is what its activity last heartbeated. */
export interface WatchView {
  running: boolean;
  state: WatchState | null;
  /** Why the watch's activity last failed as a whole (a dead worker, a bug), if it did. */
  lastFailure: string | null;
}

/** What the API asks of Temporal: start a run, wait for one, decide a held one, ask how one stands. */
export interface SyncControl {
  /** Starts a sync now on behalf of `requestedBy` (an admin token's name), or returns the one in progress. */
  trigger(requestedBy: string): Promise<TriggeredRun>;
  /** Resolves when the run has ended, however it ended. */
  ended(workflowId: string, runId: string): Promise<void>;
  /** Signals an operator's decision to a run held by the removal guard. */
  decide(workflowId: string, runId: string, approve: boolean, by: string): Promise<void>;
  /** Temporal's view of the run; throws when Temporal cannot be asked. */
  progress(workflowId: string, runId: string): Promise<RunProgress>;
  /** Temporal's view of the edit watch; throws when Temporal cannot be asked. */
  watch(): Promise<WatchView>;
}

type PendingActivity = temporal.api.workflow.v1.IPendingActivityInfo;

const toDate = (timestamp: { seconds?: unknown; nanos?: number | null } | null | undefined): Date | null =>
  timestamp?.seconds === undefined || timestamp.seconds === null
    ? null
    : new Date(Number(timestamp.seconds) * 1000 + Math.floor((timestamp.nanos ?? 0) / 1e6));

/** A pending activity that failed at least once and waits for (or runs) its next attempt. */
function retryingStep(pending: PendingActivity): RetryingStep | null {
  const failure = pending.lastFailure;
  if (!failure || (pending.attempt ?? 1) <= 1) return null;
  return {
    step: pending.activityType?.name ?? 'a step',
    code: failure.applicationFailureInfo?.type || 'Error',
    message: failure.message ?? 'failed',
    attempt: pending.attempt ?? 2,
    nextRetryAt: toDate(pending.nextAttemptScheduleTime),
  };
}

export function createTemporalSyncControl(
  client: Client,
  starter: RunStarter,
  options: { watchWorkflowId: string },
): SyncControl {
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
    async progress(workflowId, runId) {
      const description = await describeOrNull(client, workflowId, runId);
      if (description === null) return { state: 'NOT_FOUND', retrying: null };
      const retrying = (description.raw.pendingActivities ?? [])
        .map(retryingStep)
        .find((step) => step !== null);
      return { state: description.status.name, retrying: retrying ?? null };
    },
    async watch() {
      const description = await describeOrNull(client, options.watchWorkflowId);
      if (description === null) return { running: false, state: null, lastFailure: null };
      const pending = description.raw.pendingActivities?.[0];
      const details = pending?.heartbeatDetails?.payloads?.[0];
      return {
        running: description.status.name === 'RUNNING',
        state: details ? (defaultPayloadConverter.fromPayload(details) as WatchState) : null,
        lastFailure: pending?.lastFailure?.message ?? null,
      };
    },
  };
}
