import type { DecisionOutcome } from './decision.ts';
import type { ParseWarning } from './warning.ts';
import type { PageChecksumReading, PageVersionRef } from './page.ts';

/** A sync run's state as Postgres records it. */
export const RUN_STATUSES = ['running', 'awaiting_approval', 'succeeded', 'failed'] as const;
export type RunStatus = (typeof RUN_STATUSES)[number];

/** What started a run: the schedule, an operator, or the edit watch. */
export const SYNC_TRIGGERS = ['schedule', 'manual', 'watch'] as const;
export type SyncTrigger = (typeof SYNC_TRIGGERS)[number];

export interface DiffCounts {
  added: number;
  removed: number;
  modified: number;
  unchanged: number;
}

/** One sync run (keyed by its Temporal run id), as recorded. */
export interface SyncRun {
  id: string;
  workflow_id: string;
  trigger: SyncTrigger;
  status: RunStatus;
  started_at: Date;
  finished_at: Date | null;
  /** The diff's counts, once the run has applied (or found it applied nothing). */
  added: number | null;
  removed: number | null;
  modified: number | null;
  unchanged: number | null;
  instrument_count: number | null;
  list_version: number | null;
  pages: PageVersionRef[];
  warnings: ParseWarning[];
  /** Each page's own instrument count and what the run read. */
  checksums: PageChecksumReading[];
  error_code: string | null;
  error: string | null;
  requested_by: string | null;
  held_reason: string | null;
  decision: DecisionOutcome | null;
  decided_by: string | null;
  decided_at: Date | null;
}

/** The applied list state checks answer from: null before the first successful sync. */
export interface AppliedState {
  listVersion: number | null;
  /** When that list was last confirmed by a successful sync. */
  asOf: Date | null;
}
