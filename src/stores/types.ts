/**
 * What the rest of the product may ask of its data, as interfaces: activities, the API and the
 * check index depend on these, never on knex. `src/db/` implements them on Postgres; the tests
 * hold an in-memory fake to the same contract tests.
 */
import type {
  AppliedState,
  ChangeRecord,
  CheckQuery,
  DecisionOutcome,
  DiffCounts,
  PageChecksumReading,
  PageEditor,
  PageVersionRef,
  ParseWarning,
  RunStatus,
  StoredInstrument,
  StoredPage,
  SyncRun,
  SyncTrigger,
} from '../domain/index.ts';
import type { InstrumentDiff } from '../sync/diff.ts';

/** Where a change came from, for the change log. */
export interface ChangeContext {
  runId: string;
  listVersion: number;
  /** When the changes took effect (the database's clock). */
  at: Date;
  /** Version and editor of each page, by page id. */
  pages: ReadonlyMap<string, PageEditor>;
}

/** The restricted instruments cache. */
export interface InstrumentStore {
  /** Every row, active or not (the diff reuses an inactive row when an instrument returns), by id. */
  listAll(): Promise<StoredInstrument[]>;
  countActive(): Promise<number>;
  /**
   * The applied state and its active rows, read in one snapshot of the database (never half of an
   * apply) and handed to `onPage` a page at a time, in id order: the next page is read once
   * `onPage` has resolved, so a long list is never held twice or read in one go. No rows before
   * the first successful sync.
   */
  readActiveList(
    onPage: (rows: StoredInstrument[]) => void | Promise<void>,
    options?: { pageSize?: number },
  ): Promise<AppliedState>;
  /** Applies a diff and logs every change with its page version and editor (inside an apply). */
  applyDiff(diff: InstrumentDiff, context: ChangeContext): Promise<void>;
}

export interface RunFailure {
  code: string;
  message: string;
  /** How a held run ended without being applied. */
  decision?: { decision: Exclude<DecisionOutcome, 'approved'>; by: string | null };
}

export interface RunSuccess extends DiffCounts {
  listVersion: number;
  instrumentCount: number;
  approvedBy: string | null;
  appliedAt: Date;
}

/** Sync runs: one record per Temporal run. */
export interface RunStore {
  /** Idempotent: a retried step finds its run already there. */
  start(run: {
    id: string;
    workflowId: string;
    trigger: SyncTrigger;
    requestedBy?: string | null;
  }): Promise<void>;
  get(runId: string): Promise<SyncRun | undefined>;
  latest(): Promise<SyncRun | undefined>;
  latestSuccess(): Promise<SyncRun | undefined>;
  /** Newest first. */
  recent(limit: number): Promise<SyncRun[]>;
  /** Newest first. */
  byWorkflowId(workflowId: string): Promise<SyncRun[]>;
  /** Runs recorded as running or held, newest first (some may have ended in Temporal since). */
  unfinished(): Promise<SyncRun[]>;
  countByStatus(): Promise<Record<RunStatus, number>>;
  /** The list checks answer from: the latest successful run's version and finish. */
  appliedState(): Promise<AppliedState>;
  /** The highest list version applied; null before the first successful sync. */
  currentListVersion(): Promise<number | null>;
  /** What the parse step read besides the list: its warnings and each page's checksum. */
  saveParseOutcome(
    runId: string,
    outcome: { warnings: readonly ParseWarning[]; checksums: readonly PageChecksumReading[] },
  ): Promise<void>;
  /** Held by the removal guard (only a running run can be held). */
  markAwaitingApproval(runId: string, reason: string): Promise<void>;
  /** A run that already succeeded stays succeeded: a late failure report cannot undo it. */
  markFailed(runId: string, failure: RunFailure): Promise<void>;
  markSucceeded(runId: string, result: RunSuccess): Promise<void>;
}

export type ArtifactKind = 'parsed' | 'diff';

/**
 * The claim check: what one step of a run hands to the next (page bodies, the parsed list), kept
 * in Postgres so Temporal payloads carry only ids and counts.
 */
export interface ClaimCheckStore {
  /**
   * Keeps the run's pages: the fresh downloads, and the unchanged ones copied from the run that
   * stored them (so an unchanged page is never downloaded twice). Returns them all, by page id.
   */
  savePages(
    runId: string,
    fresh: readonly StoredPage[],
    reused?: { fromRunId: string; ids: readonly string[] } | null,
  ): Promise<PageVersionRef[]>;
  /** The pages (id → version) whose bodies the last successful run kept, for change detection. */
  latestStoredPages(): Promise<{ runId: string; versions: Map<string, number> } | null>;
  loadPages(runId: string): Promise<StoredPage[]>;
  /** Each page's version and editor, without the bodies. */
  loadPageEditors(runId: string): Promise<Map<string, PageEditor>>;
  saveArtifact(runId: string, kind: ArtifactKind, payload: unknown): Promise<void>;
  /** Throws when the step that produces it has not run. */
  loadArtifact<T>(runId: string, kind: ArtifactKind): Promise<T>;
  /** Keeps the claim-check data of the `keepRuns` most recent runs only. */
  prune(keepRuns?: number): Promise<void>;
}

/** The past, rebuilt from the append-only change log. */
export interface HistoryStore {
  /**
   * Every instrument's state at `at`: its latest change at or before that instant. `candidates`
   * narrows it to instruments that ever had the ticker or ISIN (a check).
   */
  stateAt(at: Date, candidates?: CheckQuery): Promise<StoredInstrument[]>;
  /** The list version in force at `at` and when it was applied; null before the first successful sync. */
  listVersionAt(at: Date): Promise<{ listVersion: number; appliedAt: Date } | null>;
  /** Newest first. */
  changes(options: { since: Date | null; limit: number }): Promise<ChangeRecord[]>;
  /**
   * The edits behind one list version (the latest that changed anything, by default): when the
   * earliest of them was saved in Confluence and when the version was applied. Null when no
   * version changed anything yet.
   */
  editsOf(listVersion?: number): Promise<ListVersionEdits | null>;
}

export interface ListVersionEdits {
  listVersion: number;
  /** Null when Confluence did not say when its pages were saved (the mock seed file). */
  earliestEditedAt: Date | null;
  appliedAt: Date;
}

export interface ListChangeSubscription {
  close(): Promise<void>;
}

/** Tells API processes that an apply committed, so they reload their check index at once. */
export interface ListChangeFeed {
  /**
   * Resolves once listening. `onChange` runs after each committed apply (and after a reconnect,
   * when a change may have been missed); `onError` hears of lost connections.
   */
  subscribe(onChange: () => void, onError: (message: string) => void): Promise<ListChangeSubscription>;
}

/** The run records as one run-start transaction sees them. */
export interface RunStartScope {
  runs: RunStore;
}

/** The stores as one apply transaction sees them. */
export interface ApplyScope {
  instruments: InstrumentStore;
  runs: RunStore;
  claimChecks: ClaimCheckStore;
  /** The database's clock: `at=` queries from any process then agree on when a version took effect. */
  now(): Promise<Date>;
  /** Every API process hears of it when (and only if) the transaction commits. */
  notifyListChanged(listVersion: number): Promise<void>;
}

export interface Stores {
  instruments: InstrumentStore;
  runs: RunStore;
  claimChecks: ClaimCheckStore;
  history: HistoryStore;
  listChanges: ListChangeFeed;
  /**
   * Runs `work` in one transaction under a lock every worker process shares, so one sync changes
   * the list at a time; everything `work` wrote is undone if it throws.
   */
  withApplyLock<T>(work: (scope: ApplyScope) => Promise<T>): Promise<T>;
  /**
   * Runs `work` in one transaction under a lock every process shares, so that deciding whether a
   * sync is in progress and recording a new one happen as one step: one sync at a time.
   */
  withRunStartLock<T>(work: (scope: RunStartScope) => Promise<T>): Promise<T>;
}
