/**
 * The workflow's contract with the Node side: names, signals, the query and payload types, shared
 * by the workflow (deterministic sandbox) and its callers. Declarations only: this module is
 * bundled into the workflow sandbox.
 */
import { defineQuery, defineSignal } from '@temporalio/workflow';
import type { Decision, DiffCounts, PageVersionRef, SyncTrigger } from '../domain/index.ts';
import type { ListBaseline } from '../sync/summaries.ts';

export const SCHEDULE_ID = 'restricted-list-sync';
export const WORKFLOW_TYPE = 'syncRestrictedList';
/**
 * Every run, scheduled or manual, is started by the schedule (manual runs by a trigger with
 * overlap SKIP), so the schedule's overlap policy is what keeps runs one at a time; the ids
 * Temporal gives them are `<prefix>-<timestamp>`.
 */
export const WORKFLOW_ID_PREFIX = 'restricted-list-sync';

/** Registered with the dev server (and, in production, with `temporal operator search-attribute create`). */
export const SEARCH_ATTRIBUTES = {
  RestrictedListPageVersions: 'KeywordList',
  RestrictedListAdded: 'Int',
  RestrictedListRemoved: 'Int',
  RestrictedListModified: 'Int',
  /** Tickers/ISINs the run added, removed or modified (the first 50), to find "the run that removed AAPL". */
  RestrictedListChangedInstruments: 'KeywordList',
} as const;

export const approveSignal = defineSignal<[Decision]>('approve');
export const rejectSignal = defineSignal<[Decision]>('reject');
/** What the run is doing now, in words (also shown as the workflow's current details). */
export const stageQuery = defineQuery<string>('stage');

export interface SyncWorkflowInput {
  trigger: SyncTrigger;
  /** Who asked for a manual run (an admin token's name). */
  requestedBy?: string;
  /** For a run the edit watch started: what it saw change, in words. */
  change?: string;
  /** How long a run held by the removal guard waits for a decision; default 24 h. */
  approvalTimeoutMs?: number;
  /** Per attempt of each step; default 2 min (tests shorten it to see a killed worker's step retried). */
  activityStartToCloseMs?: number;
}

/** Identifies one run's data in Postgres (claim check): payloads carry this, never page bodies. */
export interface RunRef {
  runId: string;
  workflowId: string;
}

/** The list as the run found it when it began; null for a run skipped because another was in progress. */
export interface StartStepResult {
  /** The sync in progress that this run gave way to. */
  skipped: { workflowId: string; runId: string; startedBy: string } | null;
  baseline: ListBaseline;
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

export interface DiffStepResult extends DiffCounts {
  activeBefore: number;
  /** Why the removal guard holds this diff for an operator's decision; null when it does not. */
  held: string | null;
  summary: string;
}

export interface ApplyStepResult extends DiffCounts {
  listVersion: number;
  durationMs: number;
  /** Identifiers of changed instruments (capped), for the search attribute. */
  changedInstruments: string[];
  summary: string;
}

export interface SyncSucceeded extends DiffCounts {
  status: 'succeeded';
  runId: string;
  listVersion: number;
  instrumentCount: number;
  warningCount: number;
  pages: PageVersionRef[];
}

/** Another sync was in progress when this run began: it did nothing and gave way. */
export interface SyncSkipped {
  status: 'skipped';
  runId: string;
  inProgress: { workflowId: string; runId: string };
}

export type SyncWorkflowResult = SyncSucceeded | SyncSkipped;

/** The result of a run that was expected to do the sync (nothing else was running). */
export function assertSucceeded(result: SyncWorkflowResult): SyncSucceeded {
  if (result.status !== 'succeeded') {
    throw new Error(`run ${result.runId} gave way to the sync in progress (${result.inProgress.workflowId})`);
  }
  return result;
}

/** Failure types an activity raises on purpose; all of them are final for the run. */
export const SYNC_FAILURE_TYPES = [
  'ConfluenceAuthError',
  'ConfluenceNotFoundError',
  /** A setting only Confluence could prove wrong (no cloud id at the site). */
  'ConfluenceConfigError',
  'ParseError',
  'ChecksumMismatch',
  'InvalidMockData',
  'RemovalRejected',
  'ApprovalTimedOut',
  'ListChangedWhileHeld',
] as const;
export type SyncFailureType = (typeof SYNC_FAILURE_TYPES)[number];
