import type { Knex } from 'knex';
import type { Stores } from '../stores/types.ts';
import { createClaimCheckStore } from './claim-check-store.ts';
import { createHistoryStore } from './history-store.ts';
import { createInstrumentStore } from './instrument-store.ts';
import { createListChangeFeed, notifyListChanged } from './list-change-feed.ts';
import { createRunStore } from './run-store.ts';

/** Serialises applies across every worker process: one sync changes the list at a time. */
const APPLY_LOCK_KEY = 'restricted-list-sync:apply';
/** Serialises run starts across every process: one sync runs at a time. */
const RUN_START_LOCK_KEY = 'restricted-list-sync:run-start';

/** Every store on one Postgres database (`databaseUrl` is that database, for LISTEN). */
export function createKnexStores(db: Knex, databaseUrl: string): Stores {
  return {
    instruments: createInstrumentStore(db),
    runs: createRunStore(db),
    claimChecks: createClaimCheckStore(db),
    history: createHistoryStore(db),
    listChanges: createListChangeFeed(databaseUrl),
    withApplyLock: (work) =>
      db.transaction(async (trx) => {
        await trx.raw('SELECT pg_advisory_xact_lock(hashtext(?))', [APPLY_LOCK_KEY]);
        return work({
          instruments: createInstrumentStore(trx),
          runs: createRunStore(trx),
          claimChecks: createClaimCheckStore(trx),
          now: async () =>
            (await trx.raw<{ rows: { now: Date }[] }>('SELECT clock_timestamp() AS now')).rows[0]!.now,
          notifyListChanged: (listVersion) => notifyListChanged(trx, listVersion),
        });
      }),
    withRunStartLock: (work) =>
      db.transaction(async (trx) => {
        await trx.raw('SELECT pg_advisory_xact_lock(hashtext(?))', [RUN_START_LOCK_KEY]);
        return work({ runs: createRunStore(trx) });
      }),
  };
}
