import { randomUUID } from 'node:crypto';
import type { Server } from 'node:http';
import { Client, Connection } from '@temporalio/client';
import { NativeConnection, type Worker } from '@temporalio/worker';
import { inject } from 'vitest';
import { createApp } from '../../src/api/app.ts';
import { startServer, stopServer } from '../../src/api/server.ts';
import { loadConfig, type Config } from '../../src/config.ts';
import { createInstrumentStore } from '../../src/db/instruments.ts';
import { createSyncRunStore } from '../../src/db/sync-runs.ts';
import { DEMO_PAGE_ID } from '../../src/dev/demo-page.ts';
import { startFakeConfluence, type FakeConfluence } from '../../src/dev/fake-confluence.ts';
import { WORKFLOW_TYPE, type SyncWorkflowInput, type SyncWorkflowResult } from '../../src/shared.ts';
import { createSyncWorker } from '../../src/worker.ts';
import { createConfluenceReader } from '../../src/confluence/client.ts';
import { createConfluenceListSource } from '../../src/sync/sources.ts';
import { createTestDatabase, type TestDatabase } from './db.ts';

export interface Pipeline {
  database: TestDatabase;
  confluence: FakeConfluence;
  config: Config;
  client: Client;
  taskQueue: string;
  runSync(): Promise<SyncWorkflowResult>;
  get(path: string): Promise<{ status: number; body: any }>;
  activeTickers(): Promise<string[]>;
  stop(): Promise<void>;
}

/**
 * The whole pipeline on real parts, for one test file: its own database, a fake Confluence
 * (confluence.js talks HTTP to it), a worker on its own task queue of the run's Temporal dev
 * server, and the API on a free port.
 */
export async function startPipeline(
  env: Record<string, string> | ((confluence: FakeConfluence) => Record<string, string>) = {},
  options: { confluenceTimeoutMs?: number } = {},
): Promise<Pipeline> {
  const database = await createTestDatabase();
  const confluence = await startFakeConfluence();
  const taskQueue = `test-${randomUUID()}`;
  const config = loadConfig({
    CONFLUENCE_URL: `${confluence.url}/wiki`,
    CONFLUENCE_USERNAME: confluence.username,
    CONFLUENCE_API_TOKEN: confluence.apiToken,
    RESTRICTED_INSTRUMENTS_PAGE_URL: confluence.pageUrl(DEMO_PAGE_ID),
    DATABASE_URL: database.url,
    TEMPORAL_ADDRESS: inject('temporalAddress'),
    TEMPORAL_TASK_QUEUE: taskQueue,
    ...(typeof env === 'function' ? env(confluence) : env),
  });
  const nativeConnection = await NativeConnection.connect({ address: config.temporal.address });
  const worker: Worker = await createSyncWorker({
    config,
    db: database.db,
    connection: nativeConnection,
    workflowBundle: { codePath: inject('workflowBundlePath') },
    ...(options.confluenceTimeoutMs === undefined
      ? {}
      : {
          source: createConfluenceListSource(
            createConfluenceReader({ url: confluence.url, username: confluence.username, apiToken: confluence.apiToken, timeoutMs: options.confluenceTimeoutMs }),
            { refs: config.pages, cql: config.cql },
          ),
        }),
  });
  const workerRun = worker.run();
  const connection = await Connection.connect({ address: config.temporal.address });
  const client = new Client({ connection });
  const app = createApp({ config, runs: createSyncRunStore(database.db), instruments: createInstrumentStore(database.db) });
  const { server, url: api }: { server: Server; url: string } = await startServer(app, 0, '127.0.0.1');

  return {
    database,
    confluence,
    config,
    client,
    taskQueue,
    runSync: () => {
      const input: SyncWorkflowInput = { trigger: 'manual' };
      return client.workflow.execute<(input: SyncWorkflowInput) => Promise<SyncWorkflowResult>>(WORKFLOW_TYPE, {
        taskQueue,
        workflowId: `test-sync-${randomUUID()}`,
        args: [input],
      });
    },
    get: async (path) => {
      const response = await fetch(`${api}${path}`);
      return { status: response.status, body: await response.json() };
    },
    activeTickers: async () => {
      const rows = await database.db('restricted_instruments').where({ is_active: true }).orderBy('ticker');
      return rows.map((row) => row.ticker);
    },
    stop: async () => {
      await stopServer(server);
      worker.shutdown();
      await workerRun;
      await connection.close();
      await nativeConnection.close();
      await confluence.close();
      await database.drop();
    },
  };
}
