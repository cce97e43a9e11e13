// A sync worker in a process of its own, so a test can kill it with SIGKILL mid-run.
// Configured by the environment like `npm run worker`; the workflow bundle comes prebuilt.
import { NativeConnection } from '@temporalio/worker';
import { loadConfig } from '../../src/config.ts';
import { createDb } from '../../src/db/knex.ts';
import { createSyncWorker } from '../../src/worker.ts';

const config = loadConfig();
const db = createDb(config.databaseUrl!);
const connection = await NativeConnection.connect({ address: config.temporal.address });
const worker = await createSyncWorker({ config, db, connection, workflowBundle: { codePath: process.env.WORKFLOW_BUNDLE_PATH! } });
const running = worker.run();
process.stdout.write('ready\n');
await running;
