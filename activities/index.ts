import { ApplicationFailure, log } from '@temporalio/activity';
import type { Knex } from 'knex';
import {
  ConfluenceAuthError,
  ConfluenceNotFoundError,
  ConfluenceRateLimitError,
} from '../src/confluence/client.ts';
import type { InstrumentStore } from '../src/db/instruments.ts';
import type { SyncRunStore } from '../src/db/sync-runs.ts';
import { mergeInstrumentLists, parseRestrictedList } from '../src/parser/index.ts';
import type { ParsedInstrument, ParseWarning } from '../src/parser/types.ts';
import type {
  ApplyStepResult,
  DiffStepResult,
  FetchResult,
  ParseStepResult,
  RunRef,
  SyncFailureType,
  SyncTrigger,
} from '../src/shared.ts';
import { countDiff, describeDiffCounts, diffInstruments, type DesiredInstrument } from '../src/sync/diff.ts';
import { MockDataError, parseMockData, type ListSource } from '../src/sync/sources.ts';

export interface ActivityDeps {
  db: Knex;
  runs: SyncRunStore;
  instruments: InstrumentStore;
  source: ListSource;
  clock: () => Date;
}

/** Serialises applies across every worker process: one sync changes the list at a time. */
const APPLY_LOCK_KEY = 'restricted-list-sync:apply';

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
  if (error instanceof ConfluenceNotFoundError) return finalFailure('ConfluenceNotFoundError', error.message, error);
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

/** Tags each merged instrument with the first page that lists it. */
function attachSourcePages(merged: ParsedInstrument[], perPage: { pageId: string; instruments: ParsedInstrument[] }[]): DesiredInstrument[] {
  const pageOf = new Map<string, string>();
  for (const { pageId, instruments } of perPage) {
    for (const instrument of instruments) {
      for (const key of [instrument.isin && `i:${instrument.isin}`, instrument.ticker && `t:${instrument.ticker}`]) {
        if (key && !pageOf.has(key)) pageOf.set(key, pageId);
      }
    }
  }
  return merged.map((instrument) => ({
    ...instrument,
    source_page_id:
      (instrument.isin ? pageOf.get(`i:${instrument.isin}`) : undefined) ??
      (instrument.ticker ? pageOf.get(`t:${instrument.ticker}`) : undefined) ??
      null,
  }));
}

export function createActivities(deps: ActivityDeps) {
  const { db, runs, instruments, source, clock } = deps;

  return {
    /** Records the run, downloads the page(s) and keeps their bodies in Postgres. */
    async fetchPages(input: RunRef & { trigger: SyncTrigger }): Promise<FetchResult> {
      await runs.startRun({ id: input.runId, workflowId: input.workflowId, trigger: input.trigger });
      let pages;
      try {
        pages = await source.fetchPages();
      } catch (error) {
        throw classifyFetchError(error);
      }
      await runs.savePages(input.runId, pages);
      const refs = pages.map(({ id, title, version, url }) => ({ id, title, version, url }));
      const summary = `Fetched ${pages.map((p) => `page ${p.id} v${p.version}`).join(', ')}`;
      log.info(summary, { runId: input.runId });
      return { pages: refs, summary };
    },

    /** Parses every fetched page and merges them into one list. A page with no list table fails the run. */
    async parsePages(input: RunRef): Promise<ParseStepResult> {
      const pages = await runs.loadPages(input.runId);
      const perPage: { pageId: string; instruments: ParsedInstrument[] }[] = [];
      const warnings: ParseWarning[] = [];
      for (const page of pages) {
        if (page.format === 'mock-json') {
          try {
            perPage.push({ pageId: page.id, instruments: parseMockData(page.body, page.title) });
          } catch (error) {
            throw finalFailure('InvalidMockData', (error as Error).message);
          }
          continue;
        }
        const result = parseRestrictedList({ pageId: page.id, title: page.title, storage: page.body });
        warnings.push(...result.warnings);
        if (!result.ok) {
          await runs.saveWarnings(input.runId, warnings);
          throw finalFailure('ParseError', `page ${page.id} "${page.title}" v${page.version}: ${result.error.message}`);
        }
        perPage.push({ pageId: page.id, instruments: result.instruments });
      }
      const merged = mergeInstrumentLists(
        perPage.map((p) => p.instruments),
        perPage.map((p) => p.pageId),
      );
      warnings.push(...merged.warnings);
      const artifact: ParsedArtifact = { instruments: attachSourcePages(merged.instruments, perPage), warnings };
      await runs.saveArtifact(input.runId, 'parsed', artifact);
      await runs.saveWarnings(input.runId, warnings);
      const summary = `Parsed ${artifact.instruments.length} instruments, ${warnings.length} warnings`;
      return { instrumentCount: artifact.instruments.length, warningCount: warnings.length, summary };
    },

    /** Compares the parsed list with the cache; nothing is written to the cache. */
    async diffList(input: RunRef): Promise<DiffStepResult> {
      const { instruments: desired } = await runs.loadArtifact<ParsedArtifact>(input.runId, 'parsed');
      const stored = await instruments.listAll();
      const counts = countDiff(diffInstruments(stored, desired));
      const activeBefore = stored.filter((row) => row.is_active).length;
      await runs.saveArtifact(input.runId, 'diff', { ...counts, activeBefore });
      return { ...counts, activeBefore, summary: `Diff: ${describeDiffCounts(counts)}` };
    },

    /**
     * Applies the run's list in one transaction, under a lock shared by every worker. The diff is
     * recomputed inside the transaction so it is exact even if the cache moved since the diff step.
     * A retry after a commit finds the run succeeded and applies nothing twice.
     */
    async applyDiff(input: RunRef): Promise<ApplyStepResult> {
      const started = performance.now();
      const { instruments: desired } = await runs.loadArtifact<ParsedArtifact>(input.runId, 'parsed');
      const pages = await runs.loadPages(input.runId);
      return db.transaction(async (trx) => {
        await trx.raw('SELECT pg_advisory_xact_lock(hashtext(?))', [APPLY_LOCK_KEY]);
        const run = await runs.getRun(input.runId, trx);
        if (run?.status === 'succeeded') {
          const counts = { added: run.added ?? 0, removed: run.removed ?? 0, modified: run.modified ?? 0, unchanged: run.unchanged ?? 0 };
          return { ...counts, listVersion: run.list_version ?? 0, durationMs: 0, summary: `Already applied: ${describeDiffCounts(counts)}` };
        }
        const diff = diffInstruments(await instruments.listAll(trx), desired);
        const counts = countDiff(diff);
        const previousVersion = await runs.currentListVersion(trx);
        const changed = counts.added + counts.removed + counts.modified > 0;
        const listVersion = previousVersion === null ? 1 : changed ? previousVersion + 1 : previousVersion;
        if (changed) {
          await instruments.applyDiff(trx, diff, {
            runId: input.runId,
            listVersion,
            at: clock(),
            pages: new Map(pages.map((p) => [p.id, { version: p.version, editedBy: p.editedBy }])),
          });
        }
        await runs.markSucceeded(trx, input.runId, { ...counts, listVersion, instrumentCount: desired.length });
        const durationMs = Math.round(performance.now() - started);
        return { ...counts, listVersion, durationMs, summary: `Applied ${describeDiffCounts(counts)} in ${durationMs} ms` };
      });
    },

    /** Records why a run failed, in words for the status endpoint; the cache is untouched. */
    async markRunFailed(input: RunRef & { trigger: SyncTrigger; code: string; message: string }): Promise<void> {
      await runs.startRun({ id: input.runId, workflowId: input.workflowId, trigger: input.trigger });
      await runs.markFailed(input.runId, { code: input.code, message: input.message });
    },
  };
}

export type SyncActivities = ReturnType<typeof createActivities>;
