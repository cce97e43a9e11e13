import type { Knex } from 'knex';
import type { ParseWarning } from '../parser/types.ts';
import type { DiffCounts, PageVersionRef, SyncTrigger } from '../shared.ts';

export type Db = Knex | Knex.Transaction;

export type RunStatus = 'running' | 'awaiting_approval' | 'succeeded' | 'failed';
export type Decision = 'approved' | 'rejected' | 'expired';

export interface SyncRunRow extends Partial<DiffCounts> {
  id: string;
  workflow_id: string;
  trigger: SyncTrigger;
  status: RunStatus;
  started_at: Date;
  finished_at: Date | null;
  instrument_count: number | null;
  list_version: number | null;
  pages: PageVersionRef[];
  warnings: ParseWarning[];
  error_code: string | null;
  error: string | null;
  requested_by: string | null;
  held_reason: string | null;
  decision: Decision | null;
  decided_by: string | null;
  decided_at: Date | null;
}

export interface StoredPage extends PageVersionRef {
  editedBy: string | null;
  editedAt: string | null;
  format: 'storage' | 'mock-json';
  body: string;
}

export type ArtifactKind = 'parsed' | 'diff';

/** Postgres channel a successful apply notifies; API processes reload their check index on it. */
export const LIST_CHANGED_CHANNEL = 'restricted_list_changed';

/** Sync runs and the data each run hands from one step to the next (the claim check). */
export function createSyncRunStore(db: Knex) {
  return {
    /** Idempotent: a retried fetch finds its run already there. */
    async startRun(run: {
      id: string;
      workflowId: string;
      trigger: SyncTrigger;
      requestedBy?: string | null;
    }): Promise<void> {
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

    /**
     * Keeps the run's pages: the fresh downloads, and the unchanged ones copied from the run that
     * stored them (so an unchanged page is never downloaded twice). Returns them all.
     */
    /** A run started through the API: recorded as manual, with the admin token's name. */
    async recordManualTrigger(runId: string, workflowId: string, requestedBy: string): Promise<void> {
      await db('sync_runs')
        .insert({
          id: runId,
          workflow_id: workflowId,
          trigger: 'manual',
          status: 'running',
          requested_by: requestedBy,
        })
        .onConflict('id')
        .merge(['trigger', 'requested_by']);
    },

    async savePages(
      runId: string,
      fresh: StoredPage[],
      reused: { fromRunId: string; ids: string[] } | null = null,
    ): Promise<PageVersionRef[]> {
      return db.transaction(async (trx) => {
        await trx('sync_run_pages').where({ run_id: runId }).delete();
        for (const page of fresh) {
          await trx('sync_run_pages').insert({
            run_id: runId,
            page_id: page.id,
            title: page.title,
            version: page.version,
            url: page.url,
            edited_by: page.editedBy,
            edited_at: page.editedAt,
            format: page.format,
            body: page.body,
          });
        }
        if (reused !== null && reused.ids.length > 0) {
          await trx.raw(
            `INSERT INTO sync_run_pages (run_id, page_id, title, version, url, edited_by, edited_at, format, body)
             SELECT ?, page_id, title, version, url, edited_by, edited_at, format, body
               FROM sync_run_pages WHERE run_id = ? AND page_id = ANY(?)`,
            [runId, reused.fromRunId, reused.ids],
          );
        }
        const rows: PageVersionRef[] = await trx('sync_run_pages')
          .where({ run_id: runId })
          .orderBy('page_id')
          .select('page_id as id', 'title', 'version', 'url');
        await trx('sync_runs')
          .where({ id: runId })
          .update({ pages: JSON.stringify(rows) });
        return rows;
      });
    },

    /** The pages (id → version) whose bodies the last successful run kept, for change detection. */
    async latestStoredPages(): Promise<{ runId: string; versions: Map<string, number> } | null> {
      const run = await db('sync_runs')
        .where({ status: 'succeeded' })
        .orderBy('finished_at', 'desc')
        .first('id');
      if (!run) return null;
      const rows: { page_id: string; version: number }[] = await db('sync_run_pages')
        .where({ run_id: run.id })
        .select('page_id', 'version');
      return { runId: run.id, versions: new Map(rows.map((row) => [row.page_id, row.version])) };
    },

    /** Each page's version and editor, without the bodies (for the change log). */
    async loadPageEditors(runId: string): Promise<Map<string, { version: number; editedBy: string | null }>> {
      const rows: { page_id: string; version: number; edited_by: string | null }[] = await db(
        'sync_run_pages',
      )
        .where({ run_id: runId })
        .select('page_id', 'version', 'edited_by');
      return new Map(rows.map((row) => [row.page_id, { version: row.version, editedBy: row.edited_by }]));
    },

    async loadPages(runId: string): Promise<StoredPage[]> {
      const rows = await db('sync_run_pages').where({ run_id: runId }).orderBy('page_id');
      return rows.map((row) => ({
        id: row.page_id,
        title: row.title,
        version: row.version,
        url: row.url,
        editedBy: row.edited_by,
        editedAt: row.edited_at ? new Date(row.edited_at).toISOString() : null,
        format: row.format,
        body: row.body,
      }));
    },

    async saveArtifact(runId: string, kind: ArtifactKind, payload: unknown): Promise<void> {
      await db('sync_run_artifacts')
        .insert({ run_id: runId, kind, payload: JSON.stringify(payload) })
        .onConflict(['run_id', 'kind'])
        .merge();
    },

    async loadArtifact<T>(runId: string, kind: ArtifactKind): Promise<T> {
      const row = await db('sync_run_artifacts').where({ run_id: runId, kind }).first();
      if (!row) throw new Error(`run ${runId} has no ${kind} data: the step that produces it has not run`);
      return row.payload as T;
    },

    async saveWarnings(runId: string, warnings: ParseWarning[]): Promise<void> {
      await db('sync_runs')
        .where({ id: runId })
        .update({ warnings: JSON.stringify(warnings) });
    },

    /** A run that already succeeded stays succeeded (a late failure report cannot undo it). */
    async markFailed(
      runId: string,
      failure: { code: string; message: string; decision?: { decision: Decision; by: string | null } },
    ): Promise<void> {
      await db('sync_runs')
        .where({ id: runId })
        .whereNot({ status: 'succeeded' })
        .update({
          status: 'failed',
          error_code: failure.code,
          error: failure.message,
          finished_at: db.fn.now(),
          ...(failure.decision
            ? {
                decision: failure.decision.decision,
                decided_by: failure.decision.by,
                decided_at: db.fn.now(),
              }
            : {}),
        });
    },

    /** Held by the removal guard: checks keep answering from the current list meanwhile. */
    async markAwaitingApproval(runId: string, reason: string): Promise<void> {
      await db('sync_runs')
        .where({ id: runId, status: 'running' })
        .update({ status: 'awaiting_approval', held_reason: reason });
    },

    async markSucceeded(
      trx: Db,
      runId: string,
      result: DiffCounts & {
        listVersion: number;
        instrumentCount: number;
        approvedBy: string | null;
        appliedAt: Date;
      },
    ): Promise<void> {
      await trx('sync_runs')
        .where({ id: runId })
        .update({
          ...(result.approvedBy === null
            ? {}
            : { decision: 'approved', decided_by: result.approvedBy, decided_at: result.appliedAt }),
          status: 'succeeded',
          finished_at: result.appliedAt,
          added: result.added,
          removed: result.removed,
          modified: result.modified,
          unchanged: result.unchanged,
          list_version: result.listVersion,
          instrument_count: result.instrumentCount,
          error_code: null,
          error: null,
        });
    },

    /**
     * Page bodies and intermediate lists are only needed by a run and by the next one's change
     * detection: keep them for the most recent runs, drop the rest (versions and counts stay in
     * sync_runs, and every change in the change log).
     */
    async pruneClaimChecks(trx: Db, keepRuns = 10): Promise<void> {
      const recent = trx('sync_runs').select('id').orderBy('started_at', 'desc').limit(keepRuns);
      await trx('sync_run_pages').whereNotIn('run_id', recent).delete();
      await trx('sync_run_artifacts')
        .whereNotIn('run_id', trx('sync_runs').select('id').orderBy('started_at', 'desc').limit(keepRuns))
        .delete();
    },

    /** Sent inside the apply transaction, so listeners hear of it exactly when it commits. */
    async notifyListChanged(trx: Db, listVersion: number): Promise<void> {
      await trx.raw('SELECT pg_notify(?, ?)', [LIST_CHANGED_CHANNEL, String(listVersion)]);
    },

    async getRun(runId: string, trx: Db = db): Promise<SyncRunRow | undefined> {
      return trx('sync_runs').where({ id: runId }).first();
    },

    /** The list state the checks answer from; null before the first successful sync. */
    async currentListVersion(trx: Db = db): Promise<number | null> {
      const row = await trx('sync_runs')
        .where({ status: 'succeeded' })
        .max<{ max: number | null }>('list_version as max')
        .first();
      return row?.max ?? null;
    },

    async latestRun(): Promise<SyncRunRow | undefined> {
      return db('sync_runs').orderBy('started_at', 'desc').first();
    },

    async latestSuccess(): Promise<SyncRunRow | undefined> {
      return db('sync_runs').where({ status: 'succeeded' }).orderBy('finished_at', 'desc').first();
    },
  };
}

export type SyncRunStore = ReturnType<typeof createSyncRunStore>;
