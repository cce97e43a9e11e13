import { ApplicationFailure, log } from '@temporalio/activity';
import {
  ConfluenceAuthError,
  ConfluenceConfigError,
  ConfluenceNotFoundError,
  ConfluenceRateLimitError,
} from '../src/confluence/client.ts';
import type {
  DesiredInstrument,
  PageVersionRef,
  ParseWarning,
  StoredPage,
  SyncTrigger,
} from '../src/domain/index.ts';
import type { Stores } from '../src/stores/types.ts';
import { baselineOf, describeOrigin } from '../src/sync/summaries.ts';
import type { RunStateOf } from '../src/temporal/run-start.ts';
import { findLiveRun } from '../src/temporal/run-start.ts';
import type {
  ApplyStepResult,
  DiffStepResult,
  FetchResult,
  ParseStepResult,
  RunRef,
  StartStepResult,
  SyncFailureType,
} from '../src/temporal/contract.ts';
import { countDiff, describeDiffCounts, diffInstruments } from '../src/sync/diff.ts';
import { removalGuard } from '../src/sync/guard.ts';
import { readList } from '../src/sync/read-list.ts';
import { MockDataError, type FetchedPage, type ListSource } from '../src/sync/sources.ts';

export interface ActivityDeps {
  stores: Pick<Stores, 'runs' | 'claimChecks' | 'instruments' | 'withApplyLock' | 'withRunStartLock'>;
  source: ListSource;
  /** Temporal's view of a run, to tell a sync in progress from one that ended unrecorded. */
  stateOf: RunStateOf;
  /** RESTRICTED_LIST_MAX_REMOVAL_PERCENT */
  maxRemovalPercent: number;
}

/** How many changed identifiers a run records in its search attribute (the change log has all). */
const MAX_SEARCHABLE_CHANGES = 50;

function finalFailure(type: SyncFailureType, message: string, cause?: Error): ApplicationFailure {
  return ApplicationFailure.create({ type, message, nonRetryable: true, ...(cause ? { cause } : {}) });
}

/**
 * Turns the Confluence client's typed errors into what Temporal should do with them: credentials
 * and missing pages are final for the run; a rate limit is retried after the server's delay;
 * anything else stays a plain error and is retried with backoff.
 */
function classifyFetchError(error: unknown): unknown {
  if (error instanceof ConfluenceAuthError) return finalFailure('ConfluenceAuthError', error.message, error);
  if (error instanceof ConfluenceNotFoundError)
    return finalFailure('ConfluenceNotFoundError', error.message, error);
  if (error instanceof ConfluenceConfigError)
    return finalFailure('ConfluenceConfigError', error.message, error);
  if (error instanceof MockDataError) return finalFailure('InvalidMockData', error.message, error);
  if (error instanceof ConfluenceRateLimitError) {
    return ApplicationFailure.create({
      type: 'ConfluenceRateLimitError',
      message: error.message,
      cause: error,
      ...(error.retryAfterMs === null ? {} : { nextRetryDelay: error.retryAfterMs }),
    });
  }
  return error;
}

interface ParsedArtifact {
  instruments: DesiredInstrument[];
  warnings: ParseWarning[];
}

export function createActivities(deps: ActivityDeps) {
  const { stores, source, maxRemovalPercent, stateOf } = deps;
  const { runs, claimChecks, instruments } = stores;

  return {
    /**
     * Records the run, or finds the sync in progress that it must give way to (one sync at a
     * time), and says what the list is as the run begins.
     */
    async startRun(input: RunRef & { trigger: SyncTrigger; requestedBy?: string }): Promise<StartStepResult> {
      return stores.withRunStartLock(async (tx) => {
        const live = await findLiveRun(tx.runs, stateOf, input.runId);
        if (live !== null) {
          const startedBy = describeOrigin({ trigger: live.trigger, requestedBy: live.requested_by });
          log.info('another sync is in progress; this run gives way', { inProgress: live.workflow_id });
          return {
            skipped: { workflowId: live.workflow_id, runId: live.id, startedBy },
            baseline: baselineOf(null),
          };
        }
        await tx.runs.start({
          id: input.runId,
          workflowId: input.workflowId,
          trigger: input.trigger,
          requestedBy: input.requestedBy ?? null,
        });
        return { skipped: null, baseline: baselineOf(await tx.runs.latestSuccess()) };
      });
    },

    /** Records the run, downloads the page(s) and keeps their bodies in Postgres. */
    async fetchPages(input: RunRef & { trigger: SyncTrigger; requestedBy?: string }): Promise<FetchResult> {
      await runs.start({
        id: input.runId,
        workflowId: input.workflowId,
        trigger: input.trigger,
        requestedBy: input.requestedBy ?? null,
      });
      const stored = await claimChecks.latestStoredPages();
      let fetched: FetchedPage[];
      try {
        fetched = await source.fetchPages(stored?.versions ?? new Map());
      } catch (error) {
        throw classifyFetchError(error);
      }
      const fresh = fetched.filter((page): page is StoredPage => !('unchanged' in page));
      const reusedIds = fetched.filter((page) => 'unchanged' in page).map((page) => page.id);
      const pages = await claimChecks.savePages(
        input.runId,
        fresh,
        stored === null ? null : { fromRunId: stored.runId, ids: reusedIds },
      );
      const describe = (p: PageVersionRef) =>
        `page ${p.id} v${p.version}${reusedIds.includes(p.id) ? ' (unchanged)' : ''}`;
      const summary = `Fetched ${pages.map(describe).join(', ') || 'no pages'}`;
      log.info(summary, { runId: input.runId });
      return { pages, summary };
    },

    /** Parses every fetched page and merges them into one list. A page with no list table fails the run. */
    async parsePages(input: RunRef): Promise<ParseStepResult> {
      const result = readList(await claimChecks.loadPages(input.runId));
      await runs.saveParseOutcome(input.runId, { warnings: result.warnings, checksums: result.checksums });
      if (!result.ok) throw finalFailure(result.code, result.message);
      const artifact: ParsedArtifact = { instruments: result.instruments, warnings: result.warnings };
      await claimChecks.saveArtifact(input.runId, 'parsed', artifact);
      const checks = result.checksums.map((c) => `page ${c.pageId} lists ${c.expected} as it says`);
      const summary = `Parsed ${artifact.instruments.length} instruments, ${result.warnings.length} warnings${checks.length > 0 ? `; ${checks.join(', ')}` : ''}`;
      return { instrumentCount: artifact.instruments.length, warningCount: result.warnings.length, summary };
    },

    /** Compares the parsed list with the cache and applies the removal guard; nothing is written to the cache. */
    async diffList(input: RunRef): Promise<DiffStepResult> {
      const { instruments: desired } = await claimChecks.loadArtifact<ParsedArtifact>(input.runId, 'parsed');
      const stored = await instruments.listAll();
      const counts = countDiff(diffInstruments(stored, desired));
      const activeBefore = stored.filter((row) => row.is_active).length;
      const held = removalGuard(counts.removed, activeBefore, maxRemovalPercent);
      await claimChecks.saveArtifact(input.runId, 'diff', { ...counts, activeBefore, held });
      const summary = `Diff: ${describeDiffCounts(counts)}${held === null ? '' : ` — held for approval: ${held}`}`;
      return { ...counts, activeBefore, held, summary };
    },

    /**
     * Applies the run's list in one transaction, under a lock shared by every worker. The diff is
     * recomputed inside the transaction so it is exact even if the cache moved since the diff step.
     * A retry after a commit finds the run succeeded and applies nothing twice.
     */
    async applyDiff(input: RunRef & { approvedBy: string | null }): Promise<ApplyStepResult> {
      const started = performance.now();
      const { instruments: desired } = await claimChecks.loadArtifact<ParsedArtifact>(input.runId, 'parsed');
      const pages = await claimChecks.loadPageEditors(input.runId);
      return stores.withApplyLock(async (tx) => {
        const run = await tx.runs.get(input.runId);
        if (run?.status === 'succeeded') {
          const counts = {
            added: run.added ?? 0,
            removed: run.removed ?? 0,
            modified: run.modified ?? 0,
            unchanged: run.unchanged ?? 0,
          };
          return {
            ...counts,
            listVersion: run.list_version ?? 0,
            durationMs: 0,
            changedInstruments: [],
            summary: `Already applied: ${describeDiffCounts(counts)}`,
          };
        }
        const stored = await tx.instruments.listAll();
        const diff = diffInstruments(stored, desired);
        const counts = countDiff(diff);
        if (input.approvedBy === null) {
          const held = removalGuard(
            counts.removed,
            stored.filter((row) => row.is_active).length,
            maxRemovalPercent,
          );
          if (held !== null)
            throw finalFailure(
              'ListChangedWhileHeld',
              `the list changed since the diff and ${held}; nothing applied, the next run will ask again`,
            );
        }
        const previousVersion = await tx.runs.currentListVersion();
        const changed = counts.added + counts.removed + counts.modified > 0;
        const listVersion = previousVersion === null ? 1 : changed ? previousVersion + 1 : previousVersion;
        // The database's clock stamps the changes and the run alike, so `at=` queries from any
        // process agree on when this list version took effect.
        const appliedAt = await tx.now();
        if (changed) {
          await tx.instruments.applyDiff(diff, {
            runId: input.runId,
            listVersion,
            at: appliedAt,
            pages,
          });
        }
        await tx.runs.markSucceeded(input.runId, {
          ...counts,
          listVersion,
          instrumentCount: desired.length,
          approvedBy: input.approvedBy,
          appliedAt,
        });
        await tx.notifyListChanged(listVersion);
        await tx.claimChecks.prune();
        const durationMs = Math.round(performance.now() - started);
        const changedInstruments = [
          ...diff.added.map((a) => a.after),
          ...diff.modified.map((m) => m.after),
          ...diff.removed.map((r) => r.before),
        ]
          .map((instrument) => instrument.ticker ?? instrument.isin ?? '')
          .slice(0, MAX_SEARCHABLE_CHANGES);
        return {
          ...counts,
          listVersion,
          durationMs,
          changedInstruments,
          summary: `Applied ${describeDiffCounts(counts)} in ${durationMs} ms`,
        };
      });
    },

    /**
     * Marks the run held, which is what the API checks before it sends a decision: the workflow
     * calls this once it listens for decisions, so none can arrive before it does.
     */
    async holdForApproval(input: RunRef & { reason: string }): Promise<void> {
      await runs.markAwaitingApproval(input.runId, input.reason);
    },

    /** Records why a run failed, in words for the status endpoint; the cache is untouched. */
    async markRunFailed(
      input: RunRef & {
        trigger: SyncTrigger;
        code: string;
        message: string;
        decision?: { decision: 'rejected' | 'expired'; by: string | null };
      },
    ): Promise<void> {
      await runs.start({ id: input.runId, workflowId: input.workflowId, trigger: input.trigger });
      await runs.markFailed(input.runId, {
        code: input.code,
        message: input.message,
        ...(input.decision ? { decision: input.decision } : {}),
      });
    },
  };
}

export type SyncActivities = ReturnType<typeof createActivities>;
