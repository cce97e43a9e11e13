/**
 * One sync at a time, whoever starts it. Scheduled runs come from the Temporal Schedule; runs an
 * operator or the edit watch asks for are started here, each with a static summary naming who
 * asked. Both decide "is a sync in progress?" and record themselves as one step, under a lock
 * every process shares (Stores.withRunStartLock), so no start can slip in between.
 */
import { WorkflowNotFoundError, type Client, type WorkflowExecutionStatusName } from '@temporalio/client';
import type { PageRef } from '../confluence/page-ref.ts';
import type { PageVersionRef, SyncRun } from '../domain/index.ts';
import type { RunStore, Stores } from '../stores/types.ts';
import { baselineOf, runDetails, runSummary, type RunOrigin } from '../sync/summaries.ts';
import { WORKFLOW_ID_PREFIX, WORKFLOW_TYPE, type SyncWorkflowInput } from './contract.ts';

/** Temporal's view of a run; NOT_FOUND when Temporal no longer knows it (retention, a wiped dev server). */
export type RunState = WorkflowExecutionStatusName | 'NOT_FOUND';
export type RunStateOf = (workflowId: string, runId: string) => Promise<RunState>;

export interface TriggeredRun {
  workflowId: string;
  runId: string;
  /** True when a run was already in progress and is returned instead of starting another. */
  alreadyRunning: boolean;
}

/** A workflow execution as Temporal describes it; null when Temporal does not know it. */
export async function describeOrNull(client: Client, workflowId: string, runId?: string) {
  try {
    return await client.workflow.getHandle(workflowId, runId).describe();
  } catch (error) {
    if (error instanceof WorkflowNotFoundError) return null;
    throw error;
  }
}

export function temporalRunState(client: Client): RunStateOf {
  return async (workflowId, runId) =>
    (await describeOrNull(client, workflowId, runId))?.status.name ?? 'NOT_FOUND';
}

/** How a run Temporal closed without the run recording it reads in the run history. */
export function closedRunFailure(state: RunState): { code: string; message: string } {
  const words =
    state === 'NOT_FOUND' ? 'gone from Temporal' : `${state.toLowerCase().replaceAll('_', ' ')} in Temporal`;
  return { code: `Workflow${state}`, message: `the workflow is ${words}; nothing was applied by it` };
}

/** States in which a run still counts as the sync in progress; a completed or failed one is about to say so itself. */
const ENDED_WITHOUT_RECORD: ReadonlySet<RunState> = new Set([
  'TERMINATED',
  'TIMED_OUT',
  'CANCELLED',
  'NOT_FOUND',
]);

/**
 * The sync in progress, if any: a run recorded as running or held that Temporal still runs. A run
 * Temporal has closed without it recording why (terminated, timed out) is recorded failed here,
 * so it never blocks the next sync.
 */
export async function findLiveRun(
  runs: RunStore,
  stateOf: RunStateOf,
  exceptRunId?: string,
): Promise<SyncRun | null> {
  for (const run of await runs.unfinished()) {
    if (run.id === exceptRunId) continue;
    const state = await stateOf(run.workflow_id, run.id);
    if (state === 'RUNNING') return run;
    if (ENDED_WITHOUT_RECORD.has(state)) await runs.markFailed(run.id, closedRunFailure(state));
  }
  return null;
}

/**
 * The configured pages as a run's details name them: each with its title and version where the
 * last successful sync saw it, pages found through CQL after them.
 */
export function describeConfiguredPages(
  refs: readonly PageRef[],
  known: readonly PageVersionRef[],
): { id: string; title?: string | null; version?: number | null; url?: string | null }[] {
  const byId = new Map(known.map((page) => [page.id, page]));
  const named = refs.map((ref) =>
    ref.kind === 'id'
      ? (byId.get(ref.id) ?? { id: ref.id })
      : { id: `"${ref.title}" in space ${ref.spaceKey}` },
  );
  const namedIds = new Set(refs.flatMap((ref) => (ref.kind === 'id' ? [ref.id] : [])));
  return [...named, ...known.filter((page) => !namedIds.has(page.id) && !named.includes(page))];
}

export interface RunStarter {
  /** Starts a sync now, or returns the one in progress. */
  start(origin: RunOrigin & { trigger: 'manual' | 'watch' }): Promise<TriggeredRun>;
}

export function createRunStarter(deps: {
  client: Client;
  stores: Pick<Stores, 'withRunStartLock' | 'runs'>;
  taskQueue: string;
  /** For the run's details: the configured pages and CQL. */
  list: { refs: readonly PageRef[]; cql: string | null };
  stateOf?: RunStateOf;
  clock?: () => Date;
}): RunStarter {
  const stateOf = deps.stateOf ?? temporalRunState(deps.client);
  const clock = deps.clock ?? (() => new Date());
  return {
    start: (origin) =>
      deps.stores.withRunStartLock(async (tx) => {
        const live = await findLiveRun(tx.runs, stateOf);
        if (live !== null) return { workflowId: live.workflow_id, runId: live.id, alreadyRunning: true };
        const baseline = await tx.runs.latestSuccess();
        const pages = describeConfiguredPages(deps.list.refs, baseline?.pages ?? []);
        const input: SyncWorkflowInput = {
          trigger: origin.trigger,
          ...(origin.requestedBy ? { requestedBy: origin.requestedBy } : {}),
          ...(origin.change ? { change: origin.change } : {}),
        };
        const workflowId = `${WORKFLOW_ID_PREFIX}-${origin.trigger}-${clock().toISOString()}`;
        const handle = await deps.client.workflow.start(WORKFLOW_TYPE, {
          workflowId,
          taskQueue: deps.taskQueue,
          args: [input],
          staticSummary: runSummary(origin),
          staticDetails: runDetails({
            origin,
            pages,
            cql: deps.list.cql,
            baseline: baselineOf(baseline),
          }),
        });
        await tx.runs.start({
          id: handle.firstExecutionRunId,
          workflowId,
          trigger: origin.trigger,
          requestedBy: origin.requestedBy ?? null,
        });
        return { workflowId, runId: handle.firstExecutionRunId, alreadyRunning: false };
      }),
  };
}
