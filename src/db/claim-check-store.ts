import type { PageEditor, PageVersionRef, StoredPage } from '../domain/index.ts';
import type { ClaimCheckStore } from '../stores/types.ts';
import type { Db } from './run-store.ts';

/** How many runs' page bodies and intermediate lists are kept by default. */
const KEEP_RUNS = 10;

/** The claim check on Postgres: `sync_run_pages` (bodies) and `sync_run_artifacts` (parsed list, diff). */
export function createClaimCheckStore(db: Db): ClaimCheckStore {
  return {
    async savePages(runId, fresh, reused = null) {
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
            [runId, reused.fromRunId, [...reused.ids]],
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

    async latestStoredPages() {
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

    async loadPageEditors(runId) {
      const rows: { page_id: string; version: number; edited_by: string | null; edited_at: Date | null }[] =
        await db('sync_run_pages')
          .where({ run_id: runId })
          .select('page_id', 'version', 'edited_by', 'edited_at');
      return new Map<string, PageEditor>(
        rows.map((row) => [
          row.page_id,
          { version: row.version, editedBy: row.edited_by, editedAt: row.edited_at?.toISOString() ?? null },
        ]),
      );
    },

    async loadPages(runId) {
      const rows = await db('sync_run_pages').where({ run_id: runId }).orderBy('page_id');
      return rows.map((row): StoredPage => ({
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

    async saveArtifact(runId, kind, payload) {
      await db('sync_run_artifacts')
        .insert({ run_id: runId, kind, payload: JSON.stringify(payload) })
        .onConflict(['run_id', 'kind'])
        .merge();
    },

    async loadArtifact<T>(runId: string, kind: string): Promise<T> {
      const row = await db('sync_run_artifacts').where({ run_id: runId, kind }).first();
      if (!row) throw new Error(`run ${runId} has no ${kind} data: the step that produces it has not run`);
      return row.payload as T;
    },

    /**
     * Page bodies and intermediate lists are only needed by a run and by the next one's change
     * detection; versions and counts stay in sync_runs, and every change in the change log.
     */
    async prune(keepRuns = KEEP_RUNS) {
      const recent = () => db('sync_runs').select('id').orderBy('started_at', 'desc').limit(keepRuns);
      await db('sync_run_pages').whereNotIn('run_id', recent()).delete();
      await db('sync_run_artifacts').whereNotIn('run_id', recent()).delete();
    },
  };
}
