import type { AppliedState, CheckQuery, RestrictionType, StoredInstrument } from '../domain/index.ts';
import type { InstrumentStore, ListChangeFeed, ListChangeSubscription, RunStore } from '../stores/types.ts';
import type { CheckMatch } from './schemas.ts';

/**
 * An active instrument as checks see it: the fields of a match, declared in the contract's order
 * (so that it serialises exactly as a match does), and that JSON, made once, the first time a check
 * matches it. Nothing else of the row is kept: 100,000 of them fit in a few tens of megabytes.
 */
export class IndexedInstrument implements CheckMatch {
  readonly ticker: string | null;
  readonly isin: string | null;
  readonly name: string | null;
  readonly restriction_type: RestrictionType;
  readonly reason: string | null;
  readonly effective_from: string | null;
  readonly expires_at: string | null;
  // Private: JSON.stringify, and the tests' equality, see only the fields of the match.
  #json: string | null = null;

  constructor(row: CheckMatch, shared: (value: string | null) => string | null) {
    this.ticker = row.ticker;
    this.isin = row.isin;
    this.name = row.name;
    this.restriction_type = row.restriction_type;
    // Few distinct values over a long list: one string each rather than one per row.
    this.reason = shared(row.reason);
    this.effective_from = shared(row.effective_from);
    this.expires_at = shared(row.expires_at);
  }

  /** The match as JSON, as JSON.stringify writes it. */
  json(): string {
    return (this.#json ??= JSON.stringify(this));
  }
}

/** One applied list state, immutable: a check reads one snapshot, never half of a sync. */
export interface ListSnapshot extends AppliedState {
  /** Active instruments by ticker and by ISIN, each in id order. */
  byTicker: ReadonlyMap<string, readonly IndexedInstrument[]>;
  byIsin: ReadonlyMap<string, readonly IndexedInstrument[]>;
  size: number;
  loadedAt: Date;
}

export interface CheckIndex {
  /** Null only before `start` has loaded the list. */
  snapshot(): ListSnapshot | null;
  /**
   * Active instruments whose ticker or ISIN equals the query's, from `snapshot`: those found by
   * ticker first, then those found only by ISIN, each in id order.
   */
  candidates(snapshot: ListSnapshot, query: CheckQuery): readonly IndexedInstrument[];
  /** Reloads now if the applied list moved (version or confirmation time). */
  refresh(): Promise<void>;
  start(): Promise<void>;
  stop(): Promise<void>;
}

const NONE: readonly IndexedInstrument[] = Object.freeze([]);

export function candidatesOf(snapshot: ListSnapshot, query: CheckQuery): readonly IndexedInstrument[] {
  const byTicker = query.ticker === null ? NONE : (snapshot.byTicker.get(query.ticker) ?? NONE);
  const byIsin = query.isin === null ? NONE : (snapshot.byIsin.get(query.isin) ?? NONE);
  if (byIsin.length === 0) return byTicker;
  if (byTicker.length === 0) return byIsin;
  return [...byTicker, ...byIsin.filter((entry) => !byTicker.includes(entry))];
}

/** Builds a snapshot from pages of rows; nothing of it is seen until `finish`. */
function snapshotBuilder() {
  const byTicker = new Map<string, IndexedInstrument[]>();
  const byIsin = new Map<string, IndexedInstrument[]>();
  const strings = new Map<string, string>();
  const shared = (value: string | null) => {
    if (value === null) return null;
    const known = strings.get(value);
    if (known !== undefined) return known;
    strings.set(value, value);
    return value;
  };
  const file = (map: Map<string, IndexedInstrument[]>, key: string | null, entry: IndexedInstrument) => {
    if (key === null) return;
    const list = map.get(key);
    if (list) list.push(entry);
    else map.set(key, [entry]);
  };
  let size = 0;
  return {
    add(rows: readonly StoredInstrument[]) {
      for (const row of rows) {
        const entry = new IndexedInstrument(row, shared);
        file(byTicker, entry.ticker, entry);
        file(byIsin, entry.isin, entry);
      }
      size += rows.length;
    },
    finish(state: AppliedState, loadedAt: Date): ListSnapshot {
      return { listVersion: state.listVersion, asOf: state.asOf, byTicker, byIsin, size, loadedAt };
    },
  };
}

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
  /** Rows read from the store at a time (the store's default when absent). */
  pageSize?: number;
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
    const state = await options.instruments.readActiveList(
      async (rows) => {
        builder.add(rows);
        await yieldToEventLoop();
      },
      options.pageSize === undefined ? {} : { pageSize: options.pageSize },
    );
    return builder.finish(state, clock());
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
    candidates: candidatesOf,
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
