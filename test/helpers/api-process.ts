// The API in a process of its own, so a test can run several of them against one database (a
// fleet) and stop or kill each. Started like `npm run api` (src/service.ts) and configured by the
// environment, except that no `.env` file is read: a developer's file must not leak into tests.
// RLS_SCHEDULE_ID names the schedule that triggers start runs on. When the API listens, its URL is
// printed on stdout ("listening http://127.0.0.1:port"). SIGTERM stops it cleanly (exit code 0).
// It never outlives the test: it exits when its parent's IPC channel closes, and after
// RLS_MAX_LIFETIME_MS when that is set.
import { loadConfig } from '../../src/config.ts';
import { openDatabase } from '../../src/db/database.ts';
import { createLogger } from '../../src/logger.ts';
import { startService } from '../../src/service.ts';
import { exitWithParentTest } from './child-lifetime.ts';

const STOP_TIMEOUT_MS = 10_000;

exitWithParentTest('api-process');

// Port 0: each API of a fleet listens on a free port of its own.
const config = loadConfig({ ...process.env, PORT: '0' });
if (config.databaseUrl === null) throw new Error('api-process: DATABASE_URL is required');
const database = await openDatabase(config.databaseUrl);
const service = await startService({
  config,
  database,
  roles: ['api'],
  logger: createLogger(),
  host: '127.0.0.1',
  ...(process.env.RLS_SCHEDULE_ID ? { scheduleId: process.env.RLS_SCHEDULE_ID } : {}),
});
process.stdout.write(`listening ${service.apiUrl}\n`);

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
    await service.stop();
    await database.close();
    process.exit(0);
  })().catch((error: unknown) => {
    console.error('api-process: stopping failed', error);
    process.exit(1);
  });
});
