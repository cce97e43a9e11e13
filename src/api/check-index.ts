import type { CheckQuery } from '../domain/index.ts';
import type { InstrumentStore, ListChangeFeed, ListChangeSubscription, RunStore } from '../stores/types.ts';
import { snapshotBuilder, type ListSnapshot } from './list-snapshot.ts';
import type { CheckMatch } from './schemas.ts';

export type { ListSnapshot } from './list-snapshot.ts';

export interface CheckIndex {
  /** Null only before `start` has loaded the list. */
  snapshot(): ListSnapshot | null;
  /**
   * Active instruments whose ticker or ISIN equals the query's, from `snapshot`: those found by
   * ticker first, then those found only by ISIN, each in id order.
   */
  candidates(snapshot: ListSnapshot, query: CheckQuery): CheckMatch[];
  /** Reloads now if the applied list moved (version or confirmation time). */
  refresh(): Promise<void>;
  start(): Promise<void>;
  stop(): Promise<void>;
}

/** The candidates of a check, as instrument indices of `snapshot`, in the order `candidates` gives them. */
export function candidateIndices(snapshot: ListSnapshot, query: CheckQuery): readonly number[] {
  const byTicker = query.ticker === null ? NONE : snapshot.byTicker(query.ticker);
  const byIsin = query.isin === null ? NONE : snapshot.byIsin(query.isin);
  if (byIsin.length === 0) return byTicker;
  if (byTicker.length === 0) return byIsin;
  return [...byTicker, ...byIsin.filter((i) => !byTicker.includes(i))];
}

const NONE: readonly number[] = Object.freeze([]);

/** Lets waiting I/O and timers run between two pages of a long load. */
const yieldToEventLoop = () => new Promise<void>((resolve) => setImmediate(resolve));

/**
 * The active list in memory, for the check path. Loaded at start-up, reloaded when an apply
 * commits (the list-change feed), and checked every `pollMs` as a safety net for a missed
 * notification. Each API process keeps its own; they converge on the same applied state.
 *
 * A reload reads the list a page at a time and builds the new snapshot beside the old one, giving
 * the event loop back after every page: checks go on answering from the old snapshot, without
 * waiting, until the new one is complete, and then from the new one only.
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
  /** A reload was asked for while one was under way: that one may have read too early. */
  let again = false;
  let subscription: ListChangeSubscription | null = null;
  let timer: NodeJS.Timeout | null = null;

  async function load(): Promise<ListSnapshot> {
    const builder = snapshotBuilder();
    const state = await options.instruments.readActiveList(async (rows) => {
      builder.add(rows);
      await yieldToEventLoop();
    });
    return builder.finish(state, clock, yieldToEventLoop);
  }

  async function reloadIfMoved(): Promise<void> {
    const state = await options.runs.appliedState();
    if (
      current !== null &&
      state.listVersion === current.listVersion &&
      state.asOf?.getTime() === current.asOf?.getTime()
    )
      return;
    const previous = current?.listVersion ?? null;
    current = await load();
    if (current.listVersion !== previous) options.onNewList?.(current);
  }

  function refresh(): Promise<void> {
    // Concurrent triggers (a notification and the poll) share one reload, and one asked for during
    // a reload gets another after it, which reads what committed since.
    if (loading) {
      again = true;
      return loading;
    }
    loading = (async () => {
      try {
        do {
          again = false;
          await reloadIfMoved();
        } while (again);
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
    candidates: (snapshot, query) => candidateIndices(snapshot, query).map((i) => snapshot.match(i)),
    refresh,
    async start() {
      // The list is loaded before the API opens its port: an API that answers knows the list.
      current = await load();
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
