import { randomUUID } from 'node:crypto';
import type { Server } from 'node:http';
import { Client, Connection, type WorkflowHandle } from '@temporalio/client';
import { NativeConnection, type Worker } from '@temporalio/worker';
import { inject } from 'vitest';
import { createApp } from '../../src/api/app.ts';
import { startServer, stopServer } from '../../src/api/server.ts';
import { loadConfig, type Config } from '../../src/config.ts';
import { createHistoryStore } from '../../src/db/history.ts';
import { createInstrumentStore } from '../../src/db/instruments.ts';
import { ensureSchedule } from '../../src/temporal/schedule.ts';
import { createSyncRunStore } from '../../src/db/sync-runs.ts';
import { DEMO_PAGE_ID } from '../../src/dev/demo-page.ts';
import { startFakeConfluence, type FakeConfluence } from '../../src/dev/fake-confluence.ts';
import { WORKFLOW_TYPE, type SyncWorkflowInput, type SyncWorkflowResult } from '../../src/shared.ts';
import { createSyncWorker } from '../../src/worker.ts';
import { createConfluenceReader } from '../../src/confluence/client.ts';
import { createConfluenceListSource } from '../../src/sync/sources.ts';
import { createTestDatabase, type TestDatabase } from './db.ts';

const TOKENS = { read: 'test-read-token-0123456789abcdef', admin: 'test-admin-token-0123456789abcdef' };

export interface Pipeline {
  database: TestDatabase;
  confluence: FakeConfluence;
  config: Config;
  client: Client;
  taskQueue: string;
  runSync(input?: Partial<SyncWorkflowInput>): Promise<SyncWorkflowResult>;
  /** Starts a run and returns its handle without waiting. */
  startSync(input?: Partial<SyncWorkflowInput>): Promise<WorkflowHandle>;
  get(path: string, token?: string | null): Promise<{ status: number; body: any }>;
  post(path: string, body?: unknown, token?: string | null): Promise<{ status: number; body: any }>;
  /** API tokens this pipeline's API accepts. */
  tokens: { read: string; admin: string };
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
    API_READ_TOKENS: `reader=${TOKENS.read}`,
    API_ADMIN_TOKENS: `ops-alice=${TOKENS.admin}`,
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
  const scheduleId = `test-schedule-${randomUUID()}`;
  await ensureSchedule(client, config, scheduleId);
  await client.schedule.getHandle(scheduleId).pause('tests trigger runs themselves');
  const app = createApp({
    config,
    runs: createSyncRunStore(database.db),
    instruments: createInstrumentStore(database.db),
    history: createHistoryStore(database.db),
    temporal: { client, scheduleId },
  });
  const { server, url: api }: { server: Server; url: string } = await startServer(app, 0, '127.0.0.1');

  const start = (input: Partial<SyncWorkflowInput>) =>
    client.workflow.start<(input: SyncWorkflowInput) => Promise<SyncWorkflowResult>>(WORKFLOW_TYPE, {
      taskQueue,
      workflowId: `test-sync-${randomUUID()}`,
      args: [{ trigger: 'manual', ...input }],
    });

  return {
    database,
    confluence,
    config,
    client,
    taskQueue,
    runSync: async (input = {}) => (await start(input)).result(),
    startSync: start,
    tokens: TOKENS,
    get: async (path, token = TOKENS.admin) => {
      const response = await fetch(`${api}${path}`, { headers: token === null ? {} : { authorization: `Bearer ${token}` } });
      return { status: response.status, body: await response.json() };
    },
    post: async (path, body, token = TOKENS.admin) => {
      const response = await fetch(`${api}${path}`, {
        method: 'POST',
        headers: { ...(token === null ? {} : { authorization: `Bearer ${token}` }), ...(body === undefined ? {} : { 'content-type': 'application/json' }) },
        ...(body === undefined ? {} : { body: JSON.stringify(body) }),
      });
      return { status: response.status, body: await response.json() };
    },
    activeTickers: async () => {
      const rows = await database.db('restricted_instruments').where({ is_active: true }).orderBy('ticker');
      return rows.map((row) => row.ticker);
    },
    stop: async () => {
      await client.schedule.getHandle(scheduleId).delete().catch(() => undefined);
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
