import {
  instrumentFields,
  type ChangeKind,
  type DesiredInstrument,
  type InstrumentFields,
} from '../domain/index.ts';
import type { ChangeContext } from './types.ts';

/**
 * The `instrument_changes` columns of one change an apply makes, worked out alike by the Postgres
 * store and the in-memory fake so the two cannot drift apart. The page (and its editor) is the one
 * the instrument is on now, or, once removed, the one it was removed from. `before` and `after`
 * are the fields as values; each store writes them as it stores JSON.
 */
export const changeColumnsIn =
  (context: ChangeContext) =>
  (
    change: ChangeKind,
    instrumentId: number,
    before: InstrumentFields | null,
    after: DesiredInstrument | null,
    removedFromPage: string | null = null,
  ) => {
    const pageId = after?.source_page_id ?? removedFromPage;
    const page = pageId === null ? undefined : context.pages.get(pageId);
    const identity = after ?? before;
    return {
      at: context.at,
      change,
      instrument_id: instrumentId,
      ticker: identity?.ticker ?? null,
      isin: identity?.isin ?? null,
      before,
      after: after === null ? null : instrumentFields(after),
      page_id: pageId,
      page_version: page?.version ?? null,
      edited_by: page?.editedBy ?? null,
      edited_at: page?.editedAt ?? null,
      run_id: context.runId,
      list_version: context.listVersion,
    };
  };
