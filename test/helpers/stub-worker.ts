import { randomUUID } from 'node:crypto';
import { activityInfo } from '@temporalio/activity';
import { Client, Connection, type WorkflowHandleWithFirstExecutionRunId } from '@temporalio/client';
import { ApplicationFailure, SearchAttributeType, defineSearchAttributeKey } from '@temporalio/common';
import { NativeConnection, Worker } from '@temporalio/worker';
import { inject } from 'vitest';
import type { SyncActivities } from '../../activities/index.ts';
import type { syncRestrictedList } from '../../workflows/index.ts';
import { WORKFLOW_TYPE, stageQuery, type SyncWorkflowInput } from '../../src/temporal/contract.ts';
import { STEPS, type StubActivities } from './stub-activities.ts';
import { waitFor } from './wait.ts';

export type SyncHandle = WorkflowHandleWithFirstExecutionRunId<typeof syncRestrictedList>;

export interface StubWorker {
  client: Client;
  /** Starts a run under a fresh workflow id whose activities are `stubs`. */
  start(stubs: StubActivities, input?: Partial<SyncWorkflowInput>): Promise<SyncHandle>;
  /** Terminates runs left open (by a failed test) and stops the worker. */
  stop(): Promise<void>;
}

/**
 * One worker on its own task queue of the run's Temporal dev server, running the prebuilt
 * workflow bundle. Its activities route each call to the stubs registered for the calling
 * workflow id, so every test gets its own stubs from one worker.
 */
export async function startStubWorker(): Promise<StubWorker> {
  const address = inject('temporalAddress');
  const taskQueue = `test-workflow-${randomUUID()}`;
  const stubsByWorkflowId = new Map<string, StubActivities>();
  const routed = Object.fromEntries(
    STEPS.map((step) => [
      step,
      (input: unknown) => {
        const workflowId = activityInfo().workflowExecution?.workflowId;
        const stubs = workflowId === undefined ? undefined : stubsByWorkflowId.get(workflowId);
        if (stubs === undefined)
          throw ApplicationFailure.create({
            type: 'NoStubActivities',
            message: `no stub activities registered for workflow ${workflowId}`,
            nonRetryable: true,
          });
        return (stubs.activities[step] as (input: unknown) => Promise<unknown>)(input);
      },
    ]),
  ) as SyncActivities;

  const nativeConnection = await NativeConnection.connect({ address });
  const worker = await Worker.create({
    connection: nativeConnection,
    taskQueue,
    workflowBundle: { codePath: inject('workflowBundlePath') },
    activities: routed,
  });
  const running = worker.run();
  const connection = await Connection.connect({ address });
  const client = new Client({ connection });
  const started: SyncHandle[] = [];

  return {
    client,
    async start(stubs, input = {}) {
      const workflowId = `test-workflow-${randomUUID()}`;
      stubsByWorkflowId.set(workflowId, stubs);
      const handle = await client.workflow.start<typeof syncRestrictedList>(WORKFLOW_TYPE, {
        taskQueue,
        workflowId,
        args: [{ trigger: 'manual', ...input }],
      });
      started.push(handle);
      return handle;
    },
    async stop() {
      for (const handle of started) {
        const { status } = await handle.describe();
        if (status.name === 'RUNNING') await handle.terminate('test finished without ending the run');
      }
      worker.shutdown();
      await running;
      await connection.close();
      await nativeConnection.close();
    },
  };
}

/**
 * Waits until the run's stage query answers something matching `pattern`; returns the answer.
 * Fails at once if the run ends first, with the stage it ended at.
 */
export function waitForStage(handle: SyncHandle, pattern: RegExp, timeoutMs?: number): Promise<string> {
  return waitFor(
    `the run's stage to match ${pattern}`,
    async () => {
      const stage = await handle.query(stageQuery);
      if (pattern.test(stage)) return stage;
      const { status } = await handle.describe();
      if (status.name !== 'RUNNING')
        throw new Error(`the run ended (${status.name}) before its stage matched ${pattern}: "${stage}"`);
      return undefined;
    },
    timeoutMs,
  );
}

/**
 * Waits until the workflow has run its handler for the signal: the history holds the signal
 * and a workflow task completed after it (the handler runs in that task).
 */
export function waitForSignalHandled(handle: SyncHandle, signalName: string): Promise<true> {
  return waitFor(`the ${signalName} signal to reach the workflow`, async () => {
    const events = (await handle.fetchHistory()).events ?? [];
    const signaled = events.findIndex(
      (event) => event.workflowExecutionSignaledEventAttributes?.signalName === signalName,
    );
    if (signaled === -1) return undefined;
    return events.slice(signaled + 1).some((event) => event.workflowTaskCompletedEventAttributes)
      ? true
      : undefined;
  });
}

const SEARCH_ATTRIBUTE_KEYS = {
  RestrictedListPageVersions: defineSearchAttributeKey(
    'RestrictedListPageVersions',
    SearchAttributeType.KEYWORD_LIST,
  ),
  RestrictedListAdded: defineSearchAttributeKey('RestrictedListAdded', SearchAttributeType.INT),
  RestrictedListRemoved: defineSearchAttributeKey('RestrictedListRemoved', SearchAttributeType.INT),
  RestrictedListModified: defineSearchAttributeKey('RestrictedListModified', SearchAttributeType.INT),
  RestrictedListChangedInstruments: defineSearchAttributeKey(
    'RestrictedListChangedInstruments',
    SearchAttributeType.KEYWORD_LIST,
  ),
};

/** The run's search attributes as Temporal describes them (undefined where never set). */
export async function searchAttributesOf(handle: SyncHandle) {
  const { typedSearchAttributes } = await handle.describe();
  return {
    RestrictedListPageVersions: typedSearchAttributes.get(SEARCH_ATTRIBUTE_KEYS.RestrictedListPageVersions),
    RestrictedListAdded: typedSearchAttributes.get(SEARCH_ATTRIBUTE_KEYS.RestrictedListAdded),
    RestrictedListRemoved: typedSearchAttributes.get(SEARCH_ATTRIBUTE_KEYS.RestrictedListRemoved),
    RestrictedListModified: typedSearchAttributes.get(SEARCH_ATTRIBUTE_KEYS.RestrictedListModified),
    RestrictedListChangedInstruments: typedSearchAttributes.get(
      SEARCH_ATTRIBUTE_KEYS.RestrictedListChangedInstruments,
    ),
  };
}

/** The error `handle.result()` rejects with; throws if the run succeeded instead. */
export function failureOf(handle: SyncHandle): Promise<unknown> {
  return handle.result().then(
    (result) => {
      throw new Error(`expected the run to fail, it returned ${JSON.stringify(result)}`);
    },
    (error: unknown) => error,
  );
}
