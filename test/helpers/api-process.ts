// The API in a process of its own, so a test can run several of them against one database (a
// fleet) and stop or kill each. Wired like `npm run api` (src/service.ts) and configured by the
// environment, except that no `.env` file is read: a developer's file must not leak into tests.
// RLS_SCHEDULE_ID names the schedule that triggers start runs on. When the API listens, its URL is
// printed on stdout ("listening http://127.0.0.1:port"). SIGTERM stops it cleanly (exit code 0).
// It never outlives the test: it exits when its parent's IPC channel closes, and after
// RLS_MAX_LIFETIME_MS when that is set.
import { Client, Connection } from '@temporalio/client';
import { createApp } from '../../src/api/app.ts';
import { createCheckIndex } from '../../src/api/check-index.ts';
import { createMetrics } from '../../src/api/metrics.ts';
import { startServer, stopServer } from '../../src/api/server.ts';
import { loadConfig } from '../../src/config.ts';
import { createHistoryStore } from '../../src/db/history.ts';
import { createInstrumentStore } from '../../src/db/instruments.ts';
import { createDb } from '../../src/db/knex.ts';
import { createSyncRunStore } from '../../src/db/sync-runs.ts';
import { createLogger } from '../../src/logger.ts';

const STOP_TIMEOUT_MS = 10_000;

const maxLifetimeMs = Number(process.env.RLS_MAX_LIFETIME_MS ?? 0);
if (maxLifetimeMs > 0) {
  setTimeout(() => {
    console.error(`api-process: still running after ${maxLifetimeMs} ms; exiting`);
    process.exit(3);
  }, maxLifetimeMs).unref();
}
// The parent test died without stopping us.
if (process.send) process.on('disconnect', () => process.exit(4));

const config = loadConfig();
if (config.databaseUrl === null) throw new Error('api-process: DATABASE_URL is required');
const logger = createLogger();
const db = createDb(config.databaseUrl);
// Lazily, as the API alone does in src/service.ts: checks never wait for Temporal.
const connection = Connection.lazy({ address: config.temporal.address });
const client = new Client({ connection, namespace: config.temporal.namespace });
const checkIndex = createCheckIndex({
  db,
  databaseUrl: config.databaseUrl,
  onError: (message) => logger.error(message),
});
// As in src/service.ts: the list is loaded before the port opens.
await checkIndex.start();
const app = createApp({
  checkIndex,
  config,
  runs: createSyncRunStore(db),
  instruments: createInstrumentStore(db),
  history: createHistoryStore(db),
  temporal: { client, ...(process.env.RLS_SCHEDULE_ID ? { scheduleId: process.env.RLS_SCHEDULE_ID } : {}) },
  logger,
  metrics: createMetrics({ db, checkIndex }),
});
const { server, url } = await startServer(app, 0, '127.0.0.1');
process.stdout.write(`listening ${url}\n`);

let stopping = false;
process.on('SIGTERM', () => {
  if (stopping) return;
  stopping = true;
  // A stop that hangs is a bug the test should see, not a process left behind.
  setTimeout(() => {
    console.error(`api-process: did not stop within ${STOP_TIMEOUT_MS} ms`);
    process.exit(1);
  }, STOP_TIMEOUT_MS).unref();
  void (async () => {
    await stopServer(server);
    await checkIndex.stop();
    await connection.close();
    await db.destroy();
    process.exit(0);
  })().catch((error: unknown) => {
    console.error('api-process: stopping failed', error);
    process.exit(1);
  });
});
