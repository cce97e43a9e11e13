/**
 * Names and payload types shared by the workflow (deterministic sandbox) and the Node side.
 * Pure declarations only: this module is bundled into the workflow sandbox.
 */

export const SCHEDULE_ID = 'restricted-list-sync';
export const WORKFLOW_TYPE = 'syncRestrictedList';
/** Scheduled runs get `<id>-<timestamp>`; a manual run uses this id so two cannot run at once. */
export const WORKFLOW_ID_PREFIX = 'restricted-list-sync';
export const MANUAL_WORKFLOW_ID = `${WORKFLOW_ID_PREFIX}-manual`;

/** Registered with the dev server (and, in production, with `temporal operator search-attribute create`). */
export const SEARCH_ATTRIBUTES = {
  RestrictedListPageVersions: 'KeywordList',
  RestrictedListAdded: 'Int',
  RestrictedListRemoved: 'Int',
  RestrictedListModified: 'Int',
} as const;

export type SyncTrigger = 'schedule' | 'manual';

export interface SyncWorkflowInput {
  trigger: SyncTrigger;
  /** Who asked for a manual run (an admin token's name). */
  requestedBy?: string;
}

/** Identifies one run's data in Postgres (claim check): payloads carry this, never page bodies. */
export interface RunRef {
  runId: string;
  workflowId: string;
}

export interface PageVersionRef {
  id: string;
  title: string;
  version: number;
  url: string | null;
}

export interface FetchResult {
  pages: PageVersionRef[];
  summary: string;
}

export interface ParseStepResult {
  instrumentCount: number;
  warningCount: number;
  summary: string;
}

export interface DiffCounts {
  added: number;
  removed: number;
  modified: number;
  unchanged: number;
}

export interface DiffStepResult extends DiffCounts {
  activeBefore: number;
  summary: string;
}

export interface ApplyStepResult extends DiffCounts {
  listVersion: number;
  durationMs: number;
  summary: string;
}

export interface SyncWorkflowResult extends DiffCounts {
  status: 'succeeded';
  runId: string;
  listVersion: number;
  instrumentCount: number;
  warningCount: number;
  pages: PageVersionRef[];
}

/** Failure types an activity raises on purpose; all of them are final for the run. */
export const SYNC_FAILURE_TYPES = [
  'ConfluenceAuthError',
  'ConfluenceNotFoundError',
  'ParseError',
  'InvalidMockData',
  'ConfigurationError',
] as const;
export type SyncFailureType = (typeof SYNC_FAILURE_TYPES)[number];
