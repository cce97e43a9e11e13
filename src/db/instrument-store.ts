import type { Knex } from 'knex';
import {
  COMPARED_FIELDS,
  instrumentFields,
  type DesiredInstrument,
  type StoredInstrument,
} from '../domain/index.ts';
import { changeColumnsIn } from '../stores/change-columns.ts';
import type { InstrumentStore } from '../stores/types.ts';
import { appliedStateOf, type Db } from './run-store.ts';

/** The columns a StoredInstrument is read from. */
const INSTRUMENT_COLUMNS = ['id', ...COMPARED_FIELDS, 'is_active', 'source_page_id'];
/** Rows per INSERT/UPDATE statement: well under Postgres' bind-parameter limit. */
const CHUNK = 1000;
/** Rows per page of the active list: a page is parsed and handed over in a few milliseconds. */
const ACTIVE_PAGE = 1000;

function rowValues(instrument: DesiredInstrument) {
  return { ...instrumentFields(instrument), source_page_id: instrument.source_page_id };
}

/** Reads in one snapshot of the database, in its own transaction unless already inside one. */
async function inSnapshot<T>(db: Db, read: (trx: Db) => Promise<T>): Promise<T> {
  if (db.isTransaction) return read(db);
  return (db as Knex).transaction(read, { isolationLevel: 'repeatable read', readOnly: true });
}

/** The restricted instruments cache (`restricted_instruments`) and its change log (`instrument_changes`). */
export function createInstrumentStore(db: Db): InstrumentStore {
  return {
    async listAll() {
      return db('restricted_instruments').select(INSTRUMENT_COLUMNS).orderBy('id');
    },

    async countActive() {
      const row = await db('restricted_instruments')
        .where({ is_active: true })
        .count<{ count: number }>('* as count')
        .first();
      return Number(row?.count ?? 0);
    },

    async readActiveList(onPage, { pageSize = ACTIVE_PAGE } = {}) {
      return inSnapshot(db, async (trx) => {
        const state = await appliedStateOf(trx);
        if (state.listVersion === null) return state;
        // Keyset pages on the primary key, all in the one snapshot the transaction sees.
        for (let after = 0; ;) {
          const rows: StoredInstrument[] = await trx('restricted_instruments')
            .select(INSTRUMENT_COLUMNS)
            .where({ is_active: true })
            .andWhere('id', '>', after)
            .orderBy('id')
            .limit(pageSize);
          if (rows.length > 0) await onPage(rows);
          if (rows.length < pageSize) return state;
          after = rows[rows.length - 1]!.id;
        }
      });
    },

    async applyDiff(diff, context) {
      const logRows: Record<string, unknown>[] = [];
      const columnsOf = changeColumnsIn(context);
      const log = (...change: Parameters<typeof columnsOf>) => {
        const columns = columnsOf(...change);
        logRows.push({
          ...columns,
          before: columns.before === null ? null : JSON.stringify(columns.before),
          after: columns.after === null ? null : JSON.stringify(columns.after),
        });
      };
      const stamp = { last_run_id: context.runId, updated_at: context.at };

      for (const { after, reactivateId } of diff.added) {
        if (reactivateId === null) continue;
        await db('restricted_instruments')
          .where({ id: reactivateId })
          .update({ ...rowValues(after), is_active: true, ...stamp });
        log('added', reactivateId, null, after);
      }
      const fresh = diff.added.filter((entry) => entry.reactivateId === null);
      for (let start = 0; start < fresh.length; start += CHUNK) {
        const chunk = fresh.slice(start, start + CHUNK);
        const inserted: { id: number }[] = await db('restricted_instruments')
          .insert(
            chunk.map(({ after }) => ({
              ...rowValues(after),
              is_active: true,
              created_at: context.at,
              ...stamp,
            })),
          )
          .returning('id');
        chunk.forEach((entry, index) => log('added', inserted[index]!.id, null, entry.after));
      }
      for (const { id, before, after } of diff.modified) {
        await db('restricted_instruments')
          .where({ id })
          .update({ ...rowValues(after), ...stamp });
        log('modified', id, before, after);
      }
      const removedIds = diff.removed.map((entry) => entry.id);
      for (let start = 0; start < removedIds.length; start += CHUNK) {
        await db('restricted_instruments')
          .whereIn('id', removedIds.slice(start, start + CHUNK))
          .update({ is_active: false, ...stamp });
      }
      for (const { id, before, sourcePageId } of diff.removed) log('removed', id, before, null, sourcePageId);

      for (let start = 0; start < logRows.length; start += CHUNK) {
        await db('instrument_changes').insert(logRows.slice(start, start + CHUNK));
      }
    },
  };
}
