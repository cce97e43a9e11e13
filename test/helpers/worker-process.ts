// A sync worker in a process of its own, so a test can kill it with SIGKILL mid-run.
// Configured by the environment like `npm run worker`; the workflow bundle comes prebuilt.
// Prints "ready" once polling. SIGTERM (or SIGINT) shuts the worker down and exits with 0. It never
// outlives the test: it exits when its parent's IPC channel closes (when spawned with one), and
// after RLS_MAX_LIFETIME_MS when that is set.
import { NativeConnection } from '@temporalio/worker';
import { loadConfig } from '../../src/config.ts';
import { buildWorker, createStores } from '../../src/composition.ts';
import { openDatabase } from '../../src/db/database.ts';
import { exitWithParentTest } from './child-lifetime.ts';

exitWithParentTest('worker-process');

const config = loadConfig();
if (config.databaseUrl === null) throw new Error('worker-process: DATABASE_URL is required');
const database = await openDatabase(config.databaseUrl);
const connection = await NativeConnection.connect({ address: config.temporal.address });
const worker = await buildWorker({
  config,
  stores: createStores(database),
  connection,
  workflowBundle: { codePath: process.env.WORKFLOW_BUNDLE_PATH! },
});
const running = worker.run();
process.stdout.write('ready\n');
// The SDK shuts the worker down on SIGTERM/SIGINT; run() then resolves.
await running;
await connection.close();
await database.close();
process.exit(0);
