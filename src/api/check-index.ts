import type { AppliedState, CheckQuery, StoredInstrument } from '../domain/index.ts';
import type { InstrumentStore, ListChangeFeed, ListChangeSubscription, RunStore } from '../stores/types.ts';

/** One applied list state, immutable: a check reads one snapshot, never half of a sync. */
export interface ListSnapshot extends AppliedState {
  byTicker: ReadonlyMap<string, readonly StoredInstrument[]>;
  byIsin: ReadonlyMap<string, readonly StoredInstrument[]>;
  size: number;
  loadedAt: Date;
}

export interface CheckIndex {
  /** Null only before `start` has loaded the list. */
  snapshot(): ListSnapshot | null;
  /** Active rows whose ticker or ISIN equals the query's, from `snapshot`. */
  candidates(snapshot: ListSnapshot, query: CheckQuery): StoredInstrument[];
  /** Reloads now if the applied list moved (version or confirmation time). */
  refresh(): Promise<void>;
  start(): Promise<void>;
  stop(): Promise<void>;
}

function group(rows: readonly StoredInstrument[], key: 'ticker' | 'isin'): Map<string, StoredInstrument[]> {
  const map = new Map<string, StoredInstrument[]>();
  for (const row of rows) {
    const value = row[key];
    if (value === null) continue;
    const list = map.get(value);
    if (list) list.push(row);
    else map.set(value, [row]);
  }
  return map;
}

/**
 * The active list in memory, for the check path. Loaded at start-up, reloaded when an apply
 * commits (the list-change feed), and checked every `pollMs` as a safety net for a missed
 * notification. Each API process keeps its own; they converge on the same applied state.
 */
export function createCheckIndex(options: {
  instruments: InstrumentStore;
  runs: RunStore;
  listChanges: ListChangeFeed;
  pollMs?: number;
  onError?: (message: string) => void;
  /** Each list version loaded after start-up, as soon as checks answer from it. */
  onNewList?: (snapshot: ListSnapshot) => void;
  clock?: () => Date;
}): CheckIndex {
  const pollMs = options.pollMs ?? 5_000;
  const clock = options.clock ?? (() => new Date());
  let current: ListSnapshot | null = null;
  let loading: Promise<void> | null = null;
  let subscription: ListChangeSubscription | null = null;
  let timer: NodeJS.Timeout | null = null;

  async function load(): Promise<void> {
    const list = await options.instruments.activeList();
    current = {
      listVersion: list.listVersion,
      asOf: list.asOf,
      byTicker: group(list.active, 'ticker'),
      byIsin: group(list.active, 'isin'),
      size: list.active.length,
      loadedAt: clock(),
    };
  }

  async function refresh(): Promise<void> {
    // Concurrent triggers (a notification and the poll) share one reload.
    if (loading) return loading;
    loading = (async () => {
      try {
        const state = await options.runs.appliedState();
        if (
          current !== null &&
          state.listVersion === current.listVersion &&
          state.asOf?.getTime() === current.asOf?.getTime()
        )
          return;
        const previous = current?.listVersion ?? null;
        await load();
        if (current !== null && current.listVersion !== previous) options.onNewList?.(current);
      } finally {
        loading = null;
      }
    })();
    return loading;
  }

  const report = (what: string) => (error: unknown) =>
    options.onError?.(`${what}: ${(error as Error).message}`);

  return {
    snapshot: () => current,
    candidates(snapshot, query) {
      const found = new Set<StoredInstrument>();
      if (query.ticker !== null) for (const row of snapshot.byTicker.get(query.ticker) ?? []) found.add(row);
      if (query.isin !== null) for (const row of snapshot.byIsin.get(query.isin) ?? []) found.add(row);
      return [...found];
    },
    refresh,
    async start() {
      // The list is loaded before the API opens its port: an API that answers knows the list.
      await load();
      subscription = await options.listChanges.subscribe(
        () => void refresh().catch(report('reloading the list after a notification')),
        (message) => options.onError?.(message),
      );
      timer = setInterval(() => void refresh().catch(report('checking the list version')), pollMs);
      timer.unref();
    },
    async stop() {
      if (timer) clearInterval(timer);
      await loading?.catch(() => undefined);
      await subscription?.close();
      subscription = null;
    },
  };
}
