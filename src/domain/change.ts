import type { InstrumentFields } from './instrument.ts';

export const CHANGE_KINDS = ['added', 'removed', 'modified'] as const;
export type ChangeKind = (typeof CHANGE_KINDS)[number];

/** One entry of the append-only change log. */
export interface ChangeRecord {
  id: number;
  /** When it was applied (the database's clock). */
  at: Date;
  change: ChangeKind;
  ticker: string | null;
  isin: string | null;
  before: InstrumentFields | null;
  after: InstrumentFields | null;
  page_id: string | null;
  page_version: number | null;
  edited_by: string | null;
  /** When the page version behind the change was saved in Confluence. */
  edited_at: Date | null;
  run_id: string;
  list_version: number;
}
