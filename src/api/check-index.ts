import type { Knex } from 'knex';
import pg from 'pg';
import { INSTRUMENT_COLUMNS, type CheckQuery } from '../db/instruments.ts';
import { LIST_CHANGED_CHANNEL } from '../db/sync-runs.ts';
import type { StoredInstrument } from '../sync/diff.ts';

/** One applied list state, immutable: a check reads one snapshot, never half of a sync. */
export interface ListSnapshot {
  /** Null before the first successful sync: checks must then answer 503, never "not restricted". */
  listVersion: number | null;
  /** When the list the snapshot holds was last confirmed by a successful sync. */
  asOf: Date | null;
  byTicker: ReadonlyMap<string, readonly StoredInstrument[]>;
  byIsin: ReadonlyMap<string, readonly StoredInstrument[]>;
  size: number;
  loadedAt: Date;
}

export interface CheckIndex {
  snapshot(): ListSnapshot | null;
  /** Active rows whose ticker or ISIN equals the query's, from the current snapshot. */
  candidates(snapshot: ListSnapshot, query: CheckQuery): StoredInstrument[];
  /** Reloads now if the applied list moved (version or confirmation time). */
  refresh(): Promise<void>;
  start(): Promise<void>;
  stop(): Promise<void>;
}

function group(rows: StoredInstrument[], key: 'ticker' | 'isin'): Map<string, StoredInstrument[]> {
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
 * The active list in memory, for the check path. Loaded at start-up, reloaded when the apply step
 * notifies (LISTEN/NOTIFY), and checked every `pollMs` as a safety net for a missed notification.
 * Each API process keeps its own; they converge on the same applied state.
 */
export function createCheckIndex(options: {
  db: Knex;
  databaseUrl: string;
  pollMs?: number;
  onError?: (message: string) => void;
}): CheckIndex {
  const { db } = options;
  const pollMs = options.pollMs ?? 5_000;
  let current: ListSnapshot | null = null;
  let loading: Promise<void> | null = null;
  let listener: pg.Client | null = null;
  let timer: NodeJS.Timeout | null = null;
  let stopped = false;

  /** The version and confirmation time of the applied list, in one cheap query. */
  async function appliedState(
    trx: Knex | Knex.Transaction,
  ): Promise<{ listVersion: number | null; asOf: Date | null }> {
    const row = await trx('sync_runs')
      .where({ status: 'succeeded' })
      .orderBy('finished_at', 'desc')
      .first<{ list_version: number; finished_at: Date } | undefined>('list_version', 'finished_at');
    return { listVersion: row?.list_version ?? null, asOf: row?.finished_at ?? null };
  }

  async function load(): Promise<void> {
    // One snapshot of the database: the version and the rows belong to the same applied state.
    const next = await db.transaction(
      async (trx) => {
        const state = await appliedState(trx);
        const rows: StoredInstrument[] =
          state.listVersion === null
            ? []
            : await trx('restricted_instruments').select(INSTRUMENT_COLUMNS).where({ is_active: true });
        return { ...state, rows };
      },
      { isolationLevel: 'repeatable read', readOnly: true },
    );
    current = {
      listVersion: next.listVersion,
      asOf: next.asOf,
      byTicker: group(next.rows, 'ticker'),
      byIsin: group(next.rows, 'isin'),
      size: next.rows.length,
      loadedAt: new Date(),
    };
  }

  async function refresh(): Promise<void> {
    // Concurrent triggers (a notification and the poll) share one reload.
    if (loading) return loading;
    loading = (async () => {
      try {
        const state = await appliedState(db);
        if (
          current !== null &&
          state.listVersion === current.listVersion &&
          state.asOf?.getTime() === current.asOf?.getTime()
        )
          return;
        await load();
      } finally {
        loading = null;
      }
    })();
    return loading;
  }

  const report = (what: string) => (error: unknown) =>
    options.onError?.(`${what}: ${(error as Error).message}`);

  async function listen(): Promise<void> {
    if (stopped) return;
    const client = new pg.Client({
      connectionString: options.databaseUrl,
      application_name: 'restricted-list-sync-index',
    });
    client.on('notification', () => void refresh().catch(report('reloading the list after a notification')));
    client.on('error', (error) => {
      report('the list-change listener lost its connection')(error);
      listener = null;
      void client.end().catch(() => undefined);
      if (!stopped)
        setTimeout(() => void listen().catch(report('reconnecting the list-change listener')), 1_000).unref();
    });
    await client.connect();
    await client.query(`LISTEN ${LIST_CHANGED_CHANNEL}`);
    listener = client;
    // Anything applied while we were not listening.
    await refresh();
  }

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
      await load();
      await listen().catch((error: unknown) => {
        report('listening for list changes (the periodic check still runs)')(error);
        if (!stopped)
          setTimeout(
            () => void listen().catch(report('reconnecting the list-change listener')),
            1_000,
          ).unref();
      });
      timer = setInterval(() => void refresh().catch(report('checking the list version')), pollMs);
      timer.unref();
    },
    async stop() {
      stopped = true;
      if (timer) clearInterval(timer);
      await loading?.catch(() => undefined);
      await listener?.end().catch(() => undefined);
      listener = null;
    },
  };
}
