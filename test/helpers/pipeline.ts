import { randomUUID } from 'node:crypto';
import type { Server } from 'node:http';
import { Client, Connection, type WorkflowHandleWithFirstExecutionRunId } from '@temporalio/client';
import { NativeConnection, type Worker } from '@temporalio/worker';
import { inject } from 'vitest';
import type { SyncActivities } from '../../activities/index.ts';
import type { syncRestrictedList } from '../../workflows/index.ts';
import type { CheckIndex } from '../../src/api/check-index.ts';
import { createMetricsRegistry } from '../../src/api/metrics.ts';
import { startServer, stopServer } from '../../src/api/server.ts';
import { buildApi, buildWorker, createStores } from '../../src/composition.ts';
import { loadConfig, type Config } from '../../src/config.ts';
import { DEMO_PAGE_ID } from '../../src/dev/demo-page.ts';
import { startFakeConfluence, type FakeConfluence, type FakeFlavour } from '../../src/dev/fake-confluence.ts';
import { createLogger } from '../../src/logger.ts';
import type { Stores } from '../../src/stores/types.ts';
import { createListSource } from '../../src/sync/sources.ts';
import {
  assertSucceeded,
  WORKFLOW_TYPE,
  type SyncWorkflowInput,
  type SyncSucceeded,
} from '../../src/temporal/contract.ts';
import { ensureSchedule } from '../../src/temporal/schedule.ts';
import { createTestDatabase, type TestDatabase } from './db.ts';

const TOKENS = { read: 'test-read-token-0123456789abcdef', admin: 'test-admin-token-0123456789abcdef' };

export interface Pipeline {
  database: TestDatabase;
  stores: Stores;
  confluence: FakeConfluence;
  config: Config;
  /** The environment the pipeline was configured from (for a worker in another process). */
  env: Record<string, string>;
  client: Client;
  taskQueue: string;
  /** Runs a sync to its end; it must not have given way to another. */
  runSync(input?: Partial<SyncWorkflowInput>): Promise<SyncSucceeded>;
  /** Starts a run and returns its handle without waiting. */
  startSync(input?: Partial<SyncWorkflowInput>): Promise<WorkflowHandleWithFirstExecutionRunId>;
  get(path: string, token?: string | null): Promise<{ status: number; body: any }>;
  post(path: string, body?: unknown, token?: string | null): Promise<{ status: number; body: any }>;
  /** API tokens this pipeline's API accepts. */
  tokens: { read: string; admin: string };
  scheduleId: string;
  checkIndex: CheckIndex;
  /** The API's base URL (http://127.0.0.1:port). */
  apiUrl: string;
  /** Starts one more in-process worker on this pipeline's task queue (stopped with the pipeline). */
  startWorker(): Promise<void>;
  activeTickers(): Promise<string[]>;
  stop(): Promise<void>;
}

/**
 * The whole pipeline on real parts, for one test file: its own database, a fake Confluence of the
 * given flavour (Cloud, Cloud with a scoped token, Data Center; the service talks HTTP to it as
 * configured from `fake.env`), a worker on its own task queue of the run's Temporal dev server,
 * and the API on a free port.
 */
export async function startPipeline(
  overrides: Record<string, string> | ((confluence: FakeConfluence) => Record<string, string>) = {},
  options: {
    /** Which Confluence the service talks to (default cloud). */
    flavour?: FakeFlavour;
    confluenceTimeoutMs?: number;
    wrapActivities?: (activities: SyncActivities) => SyncActivities;
    worker?: boolean;
  } = {},
): Promise<Pipeline> {
  const database = await createTestDatabase();
  const confluence = await startFakeConfluence({ flavour: options.flavour ?? 'cloud' });
  const taskQueue = `test-${randomUUID()}`;
  const env: Record<string, string> = {
    ...confluence.env,
    RESTRICTED_INSTRUMENTS_PAGE_URL: confluence.pageUrl(DEMO_PAGE_ID),
    DATABASE_URL: database.url,
    TEMPORAL_ADDRESS: inject('temporalAddress'),
    TEMPORAL_TASK_QUEUE: taskQueue,
    API_READ_TOKENS: `reader=${TOKENS.read}`,
    API_ADMIN_TOKENS: `ops-alice=${TOKENS.admin}`,
    // No watch runs in a pipeline unless a test starts one (test/e2e/watch.e2e.test.ts).
    RESTRICTED_LIST_WATCH_SECONDS: '0',
    ...(typeof overrides === 'function' ? overrides(confluence) : overrides),
  };
  const config = loadConfig(env);
  const stores = createStores(database);
  // One registry, as in a process running both: the worker's step failures show at the API's /metrics.
  const registry = createMetricsRegistry();

  const nativeConnection = await NativeConnection.connect({ address: config.temporal.address });
  const startWorker = async (): Promise<{ stop(): Promise<void> }> => {
    const worker: Worker = await buildWorker({
      config,
      stores,
      registry,
      connection: nativeConnection,
      workflowBundle: { codePath: inject('workflowBundlePath') },
      ...(options.wrapActivities ? { wrapActivities: options.wrapActivities } : {}),
      ...(options.confluenceTimeoutMs === undefined
        ? {}
        : { source: createListSource(config, { timeoutMs: options.confluenceTimeoutMs }) }),
    });
    const running = worker.run();
    return {
      stop: async () => {
        if (worker.getState() === 'RUNNING') worker.shutdown();
        await running;
      },
    };
  };
  const workers: { stop(): Promise<void> }[] = options.worker === false ? [] : [await startWorker()];
  const connection = await Connection.connect({ address: config.temporal.address });
  const client = new Client({ connection });
  const scheduleId = `test-schedule-${randomUUID()}`;
  await ensureSchedule(client, config, { scheduleId });
  await client.schedule.getHandle(scheduleId).pause('tests trigger runs themselves');
  const { app, checkIndex } = buildApi({
    config,
    stores,
    temporal: { client },
    logger: createLogger({ level: 'silent' }),
    pollMs: 60_000,
    registry,
  });
  await checkIndex.start();
  const { server, url: api }: { server: Server; url: string } = await startServer(app, 0, '127.0.0.1');

  const start = (input: Partial<SyncWorkflowInput>) =>
    client.workflow.start<typeof syncRestrictedList>(WORKFLOW_TYPE, {
      taskQueue,
      workflowId: `test-sync-${randomUUID()}`,
      args: [{ trigger: 'manual', ...input }],
    });

  return {
    database,
    stores,
    confluence,
    config,
    env,
    client,
    taskQueue,
    // Checks read the in-memory index, which hears of an apply by NOTIFY; the tests wait for it
    // (propagation itself is tested on its own).
    runSync: async (input = {}) => {
      const handle = await start(input);
      try {
        return assertSucceeded(await handle.result());
      } finally {
        await checkIndex.refresh();
      }
    },
    checkIndex,
    startSync: start,
    tokens: TOKENS,
    scheduleId,
    apiUrl: api,
    startWorker: async () => {
      workers.push(await startWorker());
    },
    get: async (path, token = TOKENS.admin) => {
      const response = await fetch(`${api}${path}`, {
        headers: token === null ? {} : { authorization: `Bearer ${token}` },
      });
      return { status: response.status, body: await response.json() };
    },
    post: async (path, body, token = TOKENS.admin) => {
      const response = await fetch(`${api}${path}`, {
        method: 'POST',
        headers: {
          ...(token === null ? {} : { authorization: `Bearer ${token}` }),
          ...(body === undefined ? {} : { 'content-type': 'application/json' }),
        },
        ...(body === undefined ? {} : { body: JSON.stringify(body) }),
      });
      return { status: response.status, body: await response.json() };
    },
    activeTickers: async () => {
      const rows = await database.db('restricted_instruments').where({ is_active: true }).orderBy('ticker');
      return rows.map((row) => row.ticker);
    },
    stop: async () => {
      await client.schedule
        .getHandle(scheduleId)
        .delete()
        .catch(() => undefined);
      await stopServer(server);
      for (const worker of workers) await worker.stop();
      await checkIndex.stop();
      await connection.close();
      await nativeConnection.close();
      await confluence.close();
      await database.drop();
    },
  };
}
