import type { Knex } from 'knex';
import { RUN_STATUSES, type AppliedState, type RunStatus, type SyncRun } from '../domain/index.ts';
import { failedRunColumns, succeededRunColumns } from '../stores/run-columns.ts';
import type { RunStore } from '../stores/types.ts';

export type Db = Knex | Knex.Transaction;

/** Sync runs on Postgres (`sync_runs`, keyed by the Temporal run id). */
export function createRunStore(db: Db): RunStore {
  return {
    async start(run) {
      await db('sync_runs')
        .insert({
          id: run.id,
          workflow_id: run.workflowId,
          trigger: run.trigger,
          status: 'running',
          requested_by: run.requestedBy ?? null,
        })
        .onConflict('id')
        .ignore();
    },

    async get(runId) {
      return db<SyncRun>('sync_runs').where({ id: runId }).first();
    },

    async latest() {
      return db<SyncRun>('sync_runs').orderBy('started_at', 'desc').first();
    },

    async latestSuccess() {
      return db<SyncRun>('sync_runs').where({ status: 'succeeded' }).orderBy('finished_at', 'desc').first();
    },

    async recent(limit) {
      return db<SyncRun>('sync_runs').orderBy('started_at', 'desc').limit(limit);
    },

    async byWorkflowId(workflowId) {
      return db<SyncRun>('sync_runs').where({ workflow_id: workflowId }).orderBy('started_at', 'desc');
    },

    async unfinished() {
      return db<SyncRun>('sync_runs')
        .whereIn('status', ['running', 'awaiting_approval'])
        .orderBy('started_at', 'desc');
    },

    async countByStatus() {
      const rows: { status: RunStatus; count: number }[] = await db('sync_runs')
        .select('status')
        .count('* as count')
        .groupBy('status');
      const counts = Object.fromEntries(RUN_STATUSES.map((status) => [status, 0])) as Record<
        RunStatus,
        number
      >;
      for (const row of rows) counts[row.status] = Number(row.count);
      return counts;
    },

    async appliedState() {
      return appliedStateOf(db);
    },

    async currentListVersion() {
      const row = await db('sync_runs')
        .where({ status: 'succeeded' })
        .max<{ max: number | null }>('list_version as max')
        .first();
      return row?.max ?? null;
    },

    async saveParseOutcome(runId, outcome) {
      await db('sync_runs')
        .where({ id: runId })
        .update({ warnings: JSON.stringify(outcome.warnings), checksums: JSON.stringify(outcome.checksums) });
    },

    async markAwaitingApproval(runId, reason) {
      await db('sync_runs')
        .where({ id: runId, status: 'running' })
        .update({ status: 'awaiting_approval', held_reason: reason });
    },

    async markFailed(runId, failure) {
      await db('sync_runs')
        .where({ id: runId })
        .whereNot({ status: 'succeeded' })
        .update(failedRunColumns(failure, db.fn.now()));
    },

    async markSucceeded(runId, result) {
      await db('sync_runs').where({ id: runId }).update(succeededRunColumns(result));
    },
  };
}

/** The version and confirmation time of the applied list, in one cheap query. */
export async function appliedStateOf(db: Db): Promise<AppliedState> {
  const row = await db('sync_runs')
    .where({ status: 'succeeded' })
    .orderBy('finished_at', 'desc')
    .first<{ list_version: number; finished_at: Date } | undefined>('list_version', 'finished_at');
  return { listVersion: row?.list_version ?? null, asOf: row?.finished_at ?? null };
}
