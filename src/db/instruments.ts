import type { Knex } from 'knex';
import {
  COMPARED_FIELDS,
  instrumentFields,
  type DesiredInstrument,
  type InstrumentDiff,
  type InstrumentFields,
  type StoredInstrument,
} from '../sync/diff.ts';
import type { Db } from './sync-runs.ts';

/** The columns a StoredInstrument is read from. */
export const INSTRUMENT_COLUMNS = ['id', ...COMPARED_FIELDS, 'is_active', 'source_page_id'];

export interface ChangeContext {
  runId: string;
  listVersion: number;
  at: Date;
  /** Version and editor of each page, for the change log. */
  pages: ReadonlyMap<string, { version: number; editedBy: string | null }>;
}

export interface CheckQuery {
  ticker: string | null;
  isin: string | null;
}

function rowValues(instrument: DesiredInstrument) {
  return { ...instrumentFields(instrument), source_page_id: instrument.source_page_id };
}

/** The restricted instruments cache and its append-only change log. */
export function createInstrumentStore(db: Knex) {
  return {
    async listAll(trx: Db = db): Promise<StoredInstrument[]> {
      return trx('restricted_instruments').select(INSTRUMENT_COLUMNS).orderBy('id');
    },

    async countActive(trx: Db = db): Promise<number> {
      const row = await trx('restricted_instruments')
        .where({ is_active: true })
        .count<{ count: number }>('* as count')
        .first();
      return Number(row?.count ?? 0);
    },

    /**
     * Applies a diff inside the caller's transaction, logging every change with its page version
     * and editor so the list at any past instant can be rebuilt.
     */
    async applyDiff(trx: Knex.Transaction, diff: InstrumentDiff, context: ChangeContext): Promise<void> {
      const logRows: Record<string, unknown>[] = [];
      const log = (
        change: 'added' | 'removed' | 'modified',
        instrumentId: number,
        before: InstrumentFields | null,
        after: DesiredInstrument | null,
        removedFromPage: string | null = null,
      ) => {
        const pageId = after?.source_page_id ?? removedFromPage;
        const page = pageId === null ? undefined : context.pages.get(pageId);
        const identity = after ?? before;
        logRows.push({
          at: context.at,
          change,
          instrument_id: instrumentId,
          ticker: identity?.ticker ?? null,
          isin: identity?.isin ?? null,
          before: before === null ? null : JSON.stringify(before),
          after: after === null ? null : JSON.stringify(instrumentFields(after)),
          page_id: pageId,
          page_version: page?.version ?? null,
          edited_by: page?.editedBy ?? null,
          run_id: context.runId,
          list_version: context.listVersion,
        });
      };
      const stamp = { last_run_id: context.runId, updated_at: context.at };

      for (const { after, reactivateId } of diff.added) {
        if (reactivateId !== null) {
          await trx('restricted_instruments')
            .where({ id: reactivateId })
            .update({ ...rowValues(after), is_active: true, ...stamp });
          log('added', reactivateId, null, after);
        }
      }
      const fresh = diff.added.filter((entry) => entry.reactivateId === null);
      for (let start = 0; start < fresh.length; start += 1000) {
        const chunk = fresh.slice(start, start + 1000);
        const inserted: { id: number }[] = await trx('restricted_instruments')
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
        await trx('restricted_instruments')
          .where({ id })
          .update({ ...rowValues(after), ...stamp });
        log('modified', id, before, after);
      }
      const removedIds = diff.removed.map((entry) => entry.id);
      for (let start = 0; start < removedIds.length; start += 1000) {
        await trx('restricted_instruments')
          .whereIn('id', removedIds.slice(start, start + 1000))
          .update({ is_active: false, ...stamp });
      }
      for (const { id, before, sourcePageId } of diff.removed) log('removed', id, before, null, sourcePageId);

      for (let start = 0; start < logRows.length; start += 1000) {
        await trx('instrument_changes').insert(logRows.slice(start, start + 1000));
      }
    },

    /** Active rows whose ticker or ISIN equals any query's, in one round trip (batch checks). */
    async findActiveMatchesMany(queries: readonly CheckQuery[]): Promise<StoredInstrument[]> {
      const tickers = [...new Set(queries.map((q) => q.ticker).filter((t): t is string => t !== null))];
      const isins = [...new Set(queries.map((q) => q.isin).filter((i): i is string => i !== null))];
      return db('restricted_instruments')
        .select(INSTRUMENT_COLUMNS)
        .where({ is_active: true })
        .andWhere((where) => {
          where.whereIn('ticker', tickers).orWhereIn('isin', isins);
        })
        .orderBy('id');
    },

    /** Active rows whose ticker or ISIN equals the query's (dates and side are judged by the caller). */
    async findActiveMatches(query: CheckQuery): Promise<StoredInstrument[]> {
      return db('restricted_instruments')
        .select(INSTRUMENT_COLUMNS)
        .where({ is_active: true })
        .andWhere((where) => {
          if (query.ticker !== null) where.orWhere({ ticker: query.ticker });
          if (query.isin !== null) where.orWhere({ isin: query.isin });
        })
        .orderBy('id');
    },
  };
}

export type InstrumentStore = ReturnType<typeof createInstrumentStore>;
