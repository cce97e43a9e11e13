import type { ChangeKind, ChangeRecord, InstrumentFields, StoredInstrument } from '../domain/index.ts';
import type { HistoryStore } from '../stores/types.ts';
import type { Db } from './run-store.ts';

/** The past, rebuilt from the append-only change log (`instrument_changes`) and the runs. */
export function createHistoryStore(db: Db): HistoryStore {
  return {
    async stateAt(at, candidates) {
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
        change: ChangeKind;
        before: InstrumentFields | null;
        after: InstrumentFields | null;
        page_id: string | null;
      }[] = await query;
      return rows.map((row): StoredInstrument => {
        const fields = (row.change === 'removed' ? row.before : row.after) as InstrumentFields;
        return {
          id: row.instrument_id,
          ...fields,
          source_page_id: row.page_id,
          is_active: row.change !== 'removed',
        };
      });
    },

    async listVersionAt(at) {
      const run = await db('sync_runs')
        .where({ status: 'succeeded' })
        .andWhere('finished_at', '<=', at)
        .orderBy('finished_at', 'desc')
        .first('list_version', 'finished_at');
      return run ? { listVersion: run.list_version, appliedAt: run.finished_at } : null;
    },

    async editsOf(listVersion) {
      // One round trip: the version asked for, else the latest one that changed anything.
      const row = await db('instrument_changes')
        .where('list_version', listVersion ?? db('instrument_changes').max('list_version'))
        .groupBy('list_version')
        .first<{ list_version: number; edited: Date | null; applied: Date } | undefined>(
          'list_version',
          db.raw('min(edited_at) as edited'),
          db.raw('max(at) as applied'),
        );
      if (!row) return null;
      return { listVersion: row.list_version, earliestEditedAt: row.edited, appliedAt: row.applied };
    },

    async changes(options) {
      const query = db<ChangeRecord>('instrument_changes')
        .orderBy([
          { column: 'at', order: 'desc' },
          { column: 'id', order: 'desc' },
        ])
        .limit(options.limit);
      if (options.since !== null) query.where('at', '>', options.since);
      return query;
    },
  };
}
