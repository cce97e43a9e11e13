import { createKnexStores } from '../../src/db/stores.ts';
import { createTestDatabase } from '../helpers/db.ts';
import { describeStoreContract } from './store-contract.ts';

// The stores the service runs on, each test on a fresh database of the run's real Postgres.
describeStoreContract('knex stores on Postgres', async () => {
  const database = await createTestDatabase();
  return { stores: createKnexStores(database.db, database.url), close: () => database.drop() };
});
