import type { SyncRun } from '../domain/index.ts';
import type { RunFailure, RunSuccess } from './types.ts';

/**
 * The `sync_runs` columns a run ends with, written alike by the Postgres store and the in-memory
 * fake so the two cannot drift apart. `at` is when it ended: the database's clock in Postgres.
 */
export function failedRunColumns<At>(failure: RunFailure, at: At) {
  return {
    status: 'failed' as const,
    error_code: failure.code,
    error: failure.message,
    finished_at: at,
    ...(failure.decision
      ? { decision: failure.decision.decision, decided_by: failure.decision.by, decided_at: at }
      : {}),
  };
}

/** A success clears any earlier error and records who approved it, when a hold was approved. */
export function succeededRunColumns(result: RunSuccess) {
  return {
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
  } satisfies Partial<SyncRun>;
}
