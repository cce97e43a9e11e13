/**
 * Temporal as the API sees it (SyncControl), in memory: it records every trigger and decision, and
 * a test can make it answer that a run is already in progress, fail, or say that a run ended.
 */
import type { WorkflowExecutionStatusName } from '@temporalio/client';
import type { RetryingStep, SyncControl, WatchView } from '../../src/temporal/sync-control.ts';
import type { RunStore } from '../../src/stores/types.ts';
import type { TriggeredRun } from '../../src/temporal/run-start.ts';

export interface Decision {
  workflowId: string;
  runId: string;
  approve: boolean;
  by: string;
}

export interface FakeSyncControl extends SyncControl {
  /** Every trigger answered, in order. */
  readonly triggers: TriggeredRun[];
  /** Every decision signalled, in order. */
  readonly decisions: Decision[];
  /** Triggers answer that this run is in progress (as the schedule's SKIP policy does); null: none. */
  setRunning(run: { workflowId: string; runId: string } | null): void;
  /** The next call of `method` throws `error` (Temporal unreachable, a signal refused). */
  failNext(method: 'trigger' | 'decide' | 'progress' | 'watch', error: Error): void;
  /** The run has ended: whoever waits for it (POST /v1/sync?wait=true) goes on. */
  end(runId: string): void;
  /** What Temporal says of a run (RUNNING unless told). */
  setStatus(runId: string, status: WorkflowExecutionStatusName): void;
  /** A step of the run being retried after a failure (null: none). */
  setRetrying(runId: string, step: RetryingStep | null): void;
  /** What Temporal says of the edit watch (running, nothing heartbeated yet, unless told). */
  setWatch(view: WatchView): void;
}

/**
 * `runs`: where a started run is recorded, as the real run starter records it (with who asked)
 * before it answers.
 */
export function createFakeSyncControl(runs: RunStore): FakeSyncControl {
  const triggers: TriggeredRun[] = [];
  const decisions: Decision[] = [];
  const failures = new Map<string, Error>();
  const statuses = new Map<string, WorkflowExecutionStatusName>();
  const retrying = new Map<string, RetryingStep | null>();
  let watch: WatchView = { running: true, state: null, lastFailure: null };
  const endings = new Map<string, { promise: Promise<void>; resolve: () => void }>();
  let running: { workflowId: string; runId: string } | null = null;
  let started = 0;

  const fail = (method: string) => {
    const error = failures.get(method);
    if (error) {
      failures.delete(method);
      throw error;
    }
  };
  const ending = (runId: string) => {
    let entry = endings.get(runId);
    if (!entry) {
      let resolve!: () => void;
      const promise = new Promise<void>((r) => (resolve = r));
      entry = { promise, resolve };
      endings.set(runId, entry);
    }
    return entry;
  };

  return {
    triggers,
    decisions,
    async trigger(requestedBy) {
      fail('trigger');
      const triggered: TriggeredRun = running
        ? { ...running, alreadyRunning: true }
        : { workflowId: `rls-sync-fake-${++started}`, runId: `fake-run-${started}`, alreadyRunning: false };
      if (!triggered.alreadyRunning)
        await runs.start({
          id: triggered.runId,
          workflowId: triggered.workflowId,
          trigger: 'manual',
          requestedBy,
        });
      triggers.push(triggered);
      return triggered;
    },
    ended: (_workflowId, runId) => ending(runId).promise,
    async decide(workflowId, runId, approve, by) {
      fail('decide');
      decisions.push({ workflowId, runId, approve, by });
    },
    async progress(_workflowId, runId) {
      fail('progress');
      return { state: statuses.get(runId) ?? 'RUNNING', retrying: retrying.get(runId) ?? null };
    },
    async watch() {
      fail('watch');
      return watch;
    },
    setRunning(run) {
      running = run;
    },
    failNext(method, error) {
      failures.set(method, error);
    },
    end(runId) {
      ending(runId).resolve();
    },
    setStatus(runId, status) {
      statuses.set(runId, status);
    },
    setRetrying(runId, step) {
      retrying.set(runId, step);
    },
    setWatch(view) {
      watch = view;
    },
  };
}
