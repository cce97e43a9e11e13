/**
 * Every store in memory, for unit tests of the activities and the API. Held to the same contract
 * tests as the knex stores (test/stores/), so a test on the fake proves what it would on Postgres:
 * values come back as JSON would (jsonb), an apply commits whole or not at all, applies queue on one
 * lock, and listeners hear of an apply only once it has committed.
 */
import {
  instrumentFields,
  RUN_STATUSES,
  type AppliedState,
  type ChangeRecord,
  type DesiredInstrument,
  type InstrumentFields,
  type PageEditor,
  type RunStatus,
  type StoredInstrument,
  type StoredPage,
  type SyncRun,
} from '../../src/domain/index.ts';
import type {
  ClaimCheckStore,
  HistoryStore,
  InstrumentStore,
  ListChangeFeed,
  RunStore,
  Stores,
} from '../../src/stores/types.ts';
import { changeColumnsIn } from '../../src/stores/change-columns.ts';
import { failedRunColumns, succeededRunColumns } from '../../src/stores/run-columns.ts';

/** What Postgres hands back for a jsonb value: a copy, with dates as strings. */
const asJson = <T>(value: T): T => (value === undefined ? value : (JSON.parse(JSON.stringify(value)) as T));

/** A table keyed by id, with a transaction's writes kept apart until it commits. */
class Table<K, V> {
  private readonly rows = new Map<K, V>();

  view(overlay: Map<K, V | null> | null) {
    const rows = this.rows;
    return {
      get: (key: K): V | undefined => {
        if (overlay?.has(key)) return overlay.get(key) ?? undefined;
        return rows.get(key);
      },
      set: (key: K, value: V) => {
        if (overlay) overlay.set(key, value);
        else rows.set(key, value);
      },
      delete: (key: K) => {
        if (overlay) overlay.set(key, null);
        else rows.delete(key);
      },
      values: (): V[] => {
        const out = new Map(rows);
        for (const [key, value] of overlay ?? []) {
          if (value === null) out.delete(key);
          else out.set(key, value);
        }
        return [...out.values()];
      },
    };
  }

  commit(overlay: Map<K, V | null>): void {
    for (const [key, value] of overlay) {
      if (value === null) this.rows.delete(key);
      else this.rows.set(key, value);
    }
  }
}

interface StoredChange extends ChangeRecord {
  instrument_id: number;
}

interface Overlay {
  runs: Map<string, SyncRun | null>;
  instruments: Map<number, StoredInstrument | null>;
  changes: Map<number, StoredChange | null>;
  pages: Map<string, StoredPage[] | null>;
  artifacts: Map<string, unknown>;
}

export interface MemoryStores extends Stores {
  /** Fault injection: the next store call named `method` (e.g. 'runs.get') throws `error`. */
  failNext(method: string, error: Error): void;
}

export function createMemoryStores(options: { clock?: () => Date } = {}): MemoryStores {
  const clock = options.clock ?? (() => new Date());
  const runs = new Table<string, SyncRun>();
  const instruments = new Table<number, StoredInstrument>();
  const changes = new Table<number, StoredChange>();
  const pages = new Table<string, StoredPage[]>();
  const artifacts = new Table<string, unknown>();
  // Sequences, like Postgres', are never rolled back.
  let nextInstrumentId = 1;
  let nextChangeId = 1;
  /** Breaks ties between runs started in the same millisecond, as insertion order. */
  let nextRunSequence = 1;
  const runSequence = new Map<string, number>();
  const subscribers = new Set<() => void>();
  const faults = new Map<string, Error>();
  const locks = new Map<string, Promise<unknown>>();

  const fault = (method: string) => {
    const error = faults.get(method);
    if (error) {
      faults.delete(method);
      throw error;
    }
  };

  const byStartedDesc = (a: SyncRun, b: SyncRun) =>
    b.started_at.getTime() - a.started_at.getTime() || runSequence.get(b.id)! - runSequence.get(a.id)!;
  const byFinishedDesc = (a: SyncRun, b: SyncRun) =>
    (b.finished_at?.getTime() ?? 0) - (a.finished_at?.getTime() ?? 0) || byStartedDesc(a, b);

  function bind(overlay: Overlay | null) {
    const runRows = runs.view(overlay?.runs ?? null);
    const instrumentRows = instruments.view(overlay?.instruments ?? null);
    const changeRows = changes.view(overlay?.changes ?? null);
    const pageRows = pages.view(overlay?.pages ?? null);
    const artifactRows = artifacts.view(overlay?.artifacts ?? null);

    const copy = (run: SyncRun | undefined): SyncRun | undefined =>
      run === undefined
        ? undefined
        : {
            ...run,
            pages: asJson(run.pages),
            warnings: asJson(run.warnings),
            checksums: asJson(run.checksums),
          };
    const update = (id: string, patch: Partial<SyncRun>) => {
      const run = runRows.get(id);
      if (run) runRows.set(id, { ...run, ...patch });
    };
    const successes = () => runRows.values().filter((run) => run.status === 'succeeded');
    const appliedState = (): AppliedState => {
      const latest = successes().sort(byFinishedDesc)[0];
      return { listVersion: latest?.list_version ?? null, asOf: latest?.finished_at ?? null };
    };

    const runStore: RunStore = {
      async start(run) {
        fault('runs.start');
        if (runRows.get(run.id)) return;
        runSequence.set(run.id, nextRunSequence++);
        runRows.set(run.id, {
          id: run.id,
          workflow_id: run.workflowId,
          trigger: run.trigger,
          status: 'running',
          started_at: clock(),
          finished_at: null,
          added: null,
          removed: null,
          modified: null,
          unchanged: null,
          instrument_count: null,
          list_version: null,
          pages: [],
          warnings: [],
          checksums: [],
          error_code: null,
          error: null,
          requested_by: run.requestedBy ?? null,
          held_reason: null,
          decision: null,
          decided_by: null,
          decided_at: null,
        });
      },
      async get(runId) {
        fault('runs.get');
        return copy(runRows.get(runId));
      },
      async latest() {
        fault('runs.latest');
        return copy(runRows.values().sort(byStartedDesc)[0]);
      },
      async latestSuccess() {
        fault('runs.latestSuccess');
        return copy(successes().sort(byFinishedDesc)[0]);
      },
      async recent(limit) {
        fault('runs.recent');
        return runRows
          .values()
          .sort(byStartedDesc)
          .slice(0, limit)
          .map((run) => copy(run)!);
      },
      async byWorkflowId(workflowId) {
        fault('runs.byWorkflowId');
        return runRows
          .values()
          .filter((run) => run.workflow_id === workflowId)
          .sort(byStartedDesc)
          .map((run) => copy(run)!);
      },
      async unfinished() {
        fault('runs.unfinished');
        return runRows
          .values()
          .filter((run) => run.status === 'running' || run.status === 'awaiting_approval')
          .sort(byStartedDesc)
          .map((run) => copy(run)!);
      },
      async countByStatus() {
        fault('runs.countByStatus');
        const counts = Object.fromEntries(RUN_STATUSES.map((status) => [status, 0])) as Record<
          RunStatus,
          number
        >;
        for (const run of runRows.values()) counts[run.status] += 1;
        return counts;
      },
      async appliedState() {
        fault('runs.appliedState');
        return appliedState();
      },
      async currentListVersion() {
        fault('runs.currentListVersion');
        const versions = successes()
          .map((run) => run.list_version)
          .filter((v): v is number => v !== null);
        return versions.length === 0 ? null : Math.max(...versions);
      },
      async saveParseOutcome(runId, outcome) {
        fault('runs.saveParseOutcome');
        update(runId, { warnings: asJson([...outcome.warnings]), checksums: asJson([...outcome.checksums]) });
      },
      async markAwaitingApproval(runId, reason) {
        fault('runs.markAwaitingApproval');
        if (runRows.get(runId)?.status === 'running')
          update(runId, { status: 'awaiting_approval', held_reason: reason });
      },
      async markFailed(runId, failure) {
        fault('runs.markFailed');
        const run = runRows.get(runId);
        if (!run || run.status === 'succeeded') return;
        update(runId, failedRunColumns(failure, clock()));
      },
      async markSucceeded(runId, result) {
        fault('runs.markSucceeded');
        update(runId, succeededRunColumns(result));
      },
    };

    const claimCheckStore: ClaimCheckStore = {
      async savePages(runId, fresh, reused = null) {
        fault('claimChecks.savePages');
        const kept = [...fresh.map((page) => asJson(page))];
        if (reused !== null && reused.ids.length > 0) {
          for (const page of pageRows.get(reused.fromRunId) ?? []) {
            if (reused.ids.includes(page.id) && !kept.some((k) => k.id === page.id)) kept.push(asJson(page));
          }
        }
        kept.sort((a, b) => (a.id < b.id ? -1 : a.id > b.id ? 1 : 0));
        pageRows.set(runId, kept);
        const refs = kept.map(({ id, title, version, url }) => ({ id, title, version, url }));
        update(runId, { pages: asJson(refs) });
        return refs;
      },
      async latestStoredPages() {
        fault('claimChecks.latestStoredPages');
        const latest = successes().sort(byFinishedDesc)[0];
        if (!latest) return null;
        const stored = pageRows.get(latest.id) ?? [];
        return { runId: latest.id, versions: new Map(stored.map((page) => [page.id, page.version])) };
      },
      async loadPages(runId) {
        fault('claimChecks.loadPages');
        return asJson(pageRows.get(runId) ?? []);
      },
      async loadPageEditors(runId) {
        fault('claimChecks.loadPageEditors');
        return new Map<string, PageEditor>(
          (pageRows.get(runId) ?? []).map((page) => [
            page.id,
            { version: page.version, editedBy: page.editedBy, editedAt: page.editedAt },
          ]),
        );
      },
      async saveArtifact(runId, kind, payload) {
        fault('claimChecks.saveArtifact');
        artifactRows.set(`${runId}\u0000${kind}`, asJson(payload));
      },
      async loadArtifact<T>(runId: string, kind: string): Promise<T> {
        fault('claimChecks.loadArtifact');
        const payload = artifactRows.get(`${runId}\u0000${kind}`);
        if (payload === undefined)
          throw new Error(`run ${runId} has no ${kind} data: the step that produces it has not run`);
        return asJson(payload) as T;
      },
      async prune(keepRuns = 10) {
        fault('claimChecks.prune');
        const recent = new Set(
          runRows
            .values()
            .sort(byStartedDesc)
            .slice(0, keepRuns)
            .map((run) => run.id),
        );
        for (const run of runRows.values()) {
          if (recent.has(run.id)) continue;
          pageRows.delete(run.id);
          artifactRows.delete(`${run.id}\u0000parsed`);
          artifactRows.delete(`${run.id}\u0000diff`);
        }
      },
    };

    const instrumentStore: InstrumentStore = {
      async listAll() {
        fault('instruments.listAll');
        return instrumentRows
          .values()
          .sort((a, b) => a.id - b.id)
          .map((row) => ({ ...row }));
      },
      async countActive() {
        fault('instruments.countActive');
        return instrumentRows.values().filter((row) => row.is_active).length;
      },
      async readActiveList(onPage, { pageSize = 2000 } = {}) {
        fault('instruments.readActiveList');
        // One snapshot, taken before the first page is handed over (as the repeatable-read transaction sees it).
        const state = appliedState();
        const active =
          state.listVersion === null
            ? []
            : instrumentRows
                .values()
                .filter((row) => row.is_active)
                .sort((a, b) => a.id - b.id)
                .map((row) => ({ ...row }));
        for (let start = 0; start < active.length; start += pageSize)
          await onPage(active.slice(start, start + pageSize));
        return state;
      },
      async applyDiff(diff, context) {
        fault('instruments.applyDiff');
        const columnsOf = changeColumnsIn(context);
        const log = (...change: Parameters<typeof columnsOf>) => {
          const columns = columnsOf(...change);
          const id = nextChangeId++;
          changeRows.set(id, {
            id,
            ...columns,
            before: asJson(columns.before),
            after: asJson(columns.after),
            edited_at: columns.edited_at === null ? null : new Date(columns.edited_at),
          });
        };
        const row = (id: number, instrument: DesiredInstrument, isActive: boolean): StoredInstrument => ({
          id,
          ...instrumentFields(instrument),
          source_page_id: instrument.source_page_id,
          is_active: isActive,
        });
        for (const { after, reactivateId } of diff.added) {
          if (reactivateId === null) continue;
          instrumentRows.set(reactivateId, row(reactivateId, after, true));
          log('added', reactivateId, null, after);
        }
        for (const { after, reactivateId } of diff.added) {
          if (reactivateId !== null) continue;
          const id = nextInstrumentId++;
          instrumentRows.set(id, row(id, after, true));
          log('added', id, null, after);
        }
        for (const { id, before, after } of diff.modified) {
          instrumentRows.set(id, row(id, after, instrumentRows.get(id)?.is_active ?? true));
          log('modified', id, before, after);
        }
        for (const { id } of diff.removed) {
          const existing = instrumentRows.get(id);
          if (existing) instrumentRows.set(id, { ...existing, is_active: false });
        }
        for (const { id, before, sourcePageId } of diff.removed)
          log('removed', id, before, null, sourcePageId);
      },
    };

    return { runStore, claimCheckStore, instrumentStore, changeRows };
  }

  const base = bind(null);

  /**
   * One transaction under the named lock: work queues behind the holder, sees its own writes and
   * the committed ones, and its writes (and `onCommit` callbacks) take effect only if it returns.
   */
  function transaction<T>(
    lockName: string,
    work: (scoped: ReturnType<typeof bind>, onCommit: (callback: () => void) => void) => Promise<T>,
  ): Promise<T> {
    const turn = (locks.get(lockName) ?? Promise.resolve()).then(async () => {
      const overlay: Overlay = {
        runs: new Map(),
        instruments: new Map(),
        changes: new Map(),
        pages: new Map(),
        artifacts: new Map(),
      };
      const committed: (() => void)[] = [];
      const result = await work(bind(overlay), (callback) => committed.push(callback));
      runs.commit(overlay.runs);
      instruments.commit(overlay.instruments);
      changes.commit(overlay.changes);
      pages.commit(overlay.pages);
      artifacts.commit(overlay.artifacts);
      for (const callback of committed) callback();
      return result;
    });
    locks.set(
      lockName,
      turn.catch(() => undefined),
    );
    return turn;
  }

  const history: HistoryStore = {
    async stateAt(at, candidates) {
      fault('history.stateAt');
      const all = base.changeRows.values();
      const wanted =
        candidates === undefined
          ? null
          : new Set(
              all
                .filter(
                  (c) =>
                    (candidates.ticker !== null && c.ticker === candidates.ticker) ||
                    (candidates.isin !== null && c.isin === candidates.isin),
                )
                .map((c) => c.instrument_id),
            );
      const latest = new Map<number, StoredChange>();
      for (const change of all) {
        if (change.at.getTime() > at.getTime()) continue;
        if (wanted !== null && !wanted.has(change.instrument_id)) continue;
        const seen = latest.get(change.instrument_id);
        if (
          seen === undefined ||
          change.at.getTime() > seen.at.getTime() ||
          (change.at.getTime() === seen.at.getTime() && change.id > seen.id)
        )
          latest.set(change.instrument_id, change);
      }
      return [...latest.values()]
        .sort((a, b) => a.instrument_id - b.instrument_id)
        .map((change) => {
          const fields = (change.change === 'removed' ? change.before : change.after) as InstrumentFields;
          return {
            id: change.instrument_id,
            ...asJson(fields),
            source_page_id: change.page_id,
            is_active: change.change !== 'removed',
          };
        });
    },
    async listVersionAt(at) {
      fault('history.listVersionAt');
      const run = runs
        .view(null)
        .values()
        .filter(
          (r) =>
            r.status === 'succeeded' && r.finished_at !== null && r.finished_at.getTime() <= at.getTime(),
        )
        .sort(byFinishedDesc)[0];
      return run ? { listVersion: run.list_version!, appliedAt: run.finished_at! } : null;
    },
    async editsOf(listVersion) {
      fault('history.editsOf');
      const all = base.changeRows.values();
      const version = listVersion ?? (all.length === 0 ? null : Math.max(...all.map((c) => c.list_version)));
      const of = all.filter((c) => c.list_version === version);
      if (version === null || of.length === 0) return null;
      const edited = of.map((c) => c.edited_at).filter((d): d is Date => d !== null);
      return {
        listVersion: version,
        earliestEditedAt: edited.length === 0 ? null : new Date(Math.min(...edited.map((d) => d.getTime()))),
        appliedAt: new Date(Math.max(...of.map((c) => c.at.getTime()))),
      };
    },
    async changes(options) {
      fault('history.changes');
      return base.changeRows
        .values()
        .filter((c) => options.since === null || c.at.getTime() > options.since.getTime())
        .sort((a, b) => b.at.getTime() - a.at.getTime() || b.id - a.id)
        .slice(0, options.limit)
        .map(({ instrument_id: _instrumentId, ...change }) => ({
          ...change,
          before: asJson(change.before),
          after: asJson(change.after),
        }));
    },
  };

  const listChanges: ListChangeFeed = {
    async subscribe(onChange) {
      subscribers.add(onChange);
      // As after a LISTEN: anything applied before it may have been missed.
      queueMicrotask(onChange);
      return {
        close: async () => {
          subscribers.delete(onChange);
        },
      };
    },
  };

  return {
    instruments: base.instrumentStore,
    runs: base.runStore,
    claimChecks: base.claimCheckStore,
    history,
    listChanges,
    failNext(method, error) {
      faults.set(method, error);
    },
    withApplyLock: (work) =>
      transaction('apply', async (scoped, onCommit) =>
        work({
          instruments: scoped.instrumentStore,
          runs: scoped.runStore,
          claimChecks: scoped.claimCheckStore,
          now: async () => clock(),
          notifyListChanged: async () => {
            onCommit(() => {
              for (const subscriber of subscribers) queueMicrotask(subscriber);
            });
          },
        }),
      ),
    withRunStartLock: (work) => transaction('run-start', (scoped) => work({ runs: scoped.runStore })),
  };
}
