import { createMemoryStores } from '../fakes/memory-stores.ts';
import { describeStoreContract } from './store-contract.ts';

// The fake the unit tests use, held to the same contract as the knex stores.
describeStoreContract('in-memory stores', async () => ({
  stores: createMemoryStores(),
  close: async () => {},
}));
