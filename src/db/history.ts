import type { Knex } from 'knex';
import type { CheckQuery } from './instruments.ts';
import type { StoredInstrument, InstrumentFields } from '../sync/diff.ts';
import type { SyncRunRow } from './sync-runs.ts';

export interface ChangeRow {
  id: number;
  at: Date;
  change: 'added' | 'removed' | 'modified';
  ticker: string | null;
  isin: string | null;
  before: InstrumentFields | null;
  after: InstrumentFields | null;
  page_id: string | null;
  page_version: number | null;
  edited_by: string | null;
  run_id: string;
  list_version: number;
}

/**
 * The past, rebuilt from the append-only change log: the list as it was applied at any instant,
 * the changes, and the runs.
 */
export function createHistoryStore(db: Knex) {
  /**
   * Every instrument's state at `at`: its latest change at or before that instant. `candidates`
   * narrows the rebuild to instruments that ever had the ticker or ISIN (a check).
   */
  async function stateAt(at: Date, candidates?: CheckQuery): Promise<StoredInstrument[]> {
    const query = db('instrument_changes as c')
      .distinctOn('c.instrument_id')
      .select('c.instrument_id', 'c.change', 'c.before', 'c.after', 'c.page_id')
      .where('c.at', '<=', at)
      .orderBy([
        { column: 'c.instrument_id' },
        { column: 'c.at', order: 'desc' },
        { column: 'c.id', order: 'desc' },
      ]);
    if (candidates) {
      query.whereIn(
        'c.instrument_id',
        db('instrument_changes')
          .select('instrument_id')
          .where((where) => {
            if (candidates.ticker !== null) where.orWhere({ ticker: candidates.ticker });
            if (candidates.isin !== null) where.orWhere({ isin: candidates.isin });
          }),
      );
    }
    const rows: {
      instrument_id: number;
      change: ChangeRow['change'];
      before: InstrumentFields | null;
      after: InstrumentFields | null;
      page_id: string | null;
    }[] = await query;
    return rows.map((row) => {
      const fields = (row.change === 'removed' ? row.before : row.after) as InstrumentFields;
      return {
        id: row.instrument_id,
        ...fields,
        source_page_id: row.page_id,
        is_active: row.change !== 'removed',
      };
    });
  }

  return {
    stateAt,

    /** The list version in force at `at` and when it was applied; null before the first successful sync. */
    async listVersionAt(at: Date): Promise<{ listVersion: number; appliedAt: Date } | null> {
      const run = await db('sync_runs')
        .where({ status: 'succeeded' })
        .andWhere('finished_at', '<=', at)
        .orderBy('finished_at', 'desc')
        .first('list_version', 'finished_at');
      return run ? { listVersion: run.list_version, appliedAt: run.finished_at } : null;
    },

    async changes(options: { since: Date | null; limit: number }): Promise<ChangeRow[]> {
      const query = db('instrument_changes')
        .orderBy([
          { column: 'at', order: 'desc' },
          { column: 'id', order: 'desc' },
        ])
        .limit(options.limit);
      if (options.since !== null) query.where('at', '>', options.since);
      return query;
    },

    async runs(limit: number): Promise<SyncRunRow[]> {
      return db('sync_runs').orderBy('started_at', 'desc').limit(limit);
    },

    async runsByWorkflowId(workflowId: string): Promise<SyncRunRow[]> {
      return db('sync_runs').where({ workflow_id: workflowId }).orderBy('started_at', 'desc');
    },
  };
}

export type HistoryStore = ReturnType<typeof createHistoryStore>;
