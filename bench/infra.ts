import { chmod, mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { randomUUID } from 'node:crypto';
import { Client, Connection } from '@temporalio/client';
import { NativeConnection } from '@temporalio/worker';
import type { Knex } from 'knex';
import { startEmbeddedPostgres, type EmbeddedPostgres } from '../src/dev/embedded-postgres.ts';
import { createDb, migrateToLatest } from '../src/db/knex.ts';
import { startFakeConfluence, type FakeConfluence } from '../src/dev/fake-confluence.ts';
import { startTemporalDevServer, type TemporalDevServer } from '../src/dev/temporal-dev-server.ts';
import { buildWorker, createStores } from '../src/composition.ts';
import type { Config } from '../src/config.ts';
import { createLogger } from '../src/logger.ts';
import { assertSucceeded, WORKFLOW_TYPE, type SyncSucceeded } from '../src/temporal/contract.ts';
import type { syncRestrictedList } from '../workflows/index.ts';
import { installTemporalLogging } from '../src/temporal/logging.ts';

export interface BenchPostgres {
  postgres: EmbeddedPostgres;
  /** Migrated. */
  db: Knex;
  stop(): Promise<void>;
}

export interface BenchInfra extends BenchPostgres {
  temporal: TemporalDevServer;
  confluence: FakeConfluence;
}

async function scratchDir(name: string): Promise<string> {
  const scratch = await mkdtemp(join(tmpdir(), `rls-${name}-`));
  await chmod(scratch, 0o755); // as root, Postgres runs as the postgres user
  return scratch;
}

/** An embedded Postgres (migrated), for a benchmark that needs nothing else. */
export async function startBenchPostgres(name: string): Promise<BenchPostgres> {
  const scratch = await scratchDir(name);
  const postgres = await startEmbeddedPostgres({ dataDir: join(scratch, 'postgres'), durable: false });
  const db = createDb(postgres.url);
  await migrateToLatest(db);
  return {
    postgres,
    db,
    stop: async () => {
      await db.destroy();
      await postgres.stop();
      await rm(scratch, { recursive: true, force: true });
    },
  };
}

/** The real parts a benchmark runs on: embedded Postgres (migrated), a Temporal dev server, the fake Confluence. */
export async function startBenchInfra(name: string): Promise<BenchInfra> {
  // Errors only: the figures are the output. Installed as a service installs it, so a bench can start services.
  installTemporalLogging(createLogger({ level: 'error' }));
  const scratch = await scratchDir(name);
  const [postgres, temporal, confluence] = await Promise.all([
    startEmbeddedPostgres({ dataDir: join(scratch, 'postgres'), durable: false }),
    startTemporalDevServer({ ui: false }),
    startFakeConfluence(),
  ]);
  const db = createDb(postgres.url);
  await migrateToLatest(db);
  return {
    postgres,
    temporal,
    confluence,
    db,
    stop: async () => {
      await db.destroy();
      await Promise.allSettled([confluence.close(), temporal.stop(), postgres.stop()]);
      await rm(scratch, { recursive: true, force: true });
    },
  };
}

/**
 * The environment the service is configured with on the bench's parts: the fake Confluence (its
 * user and token), `page` as the list page, the bench's Postgres (or `databaseUrl`) and Temporal,
 * a task queue of its own. A bench adds what it measures on top.
 */
export function benchServiceEnv(
  infra: BenchInfra,
  page: string,
  { databaseUrl = infra.postgres.url, taskQueue = `bench-${randomUUID()}` } = {},
): Record<string, string> {
  return {
    CONFLUENCE_URL: infra.confluence.url,
    CONFLUENCE_USERNAME: infra.confluence.username,
    CONFLUENCE_API_TOKEN: infra.confluence.apiToken,
    RESTRICTED_INSTRUMENTS_PAGE_URL: page,
    DATABASE_URL: databaseUrl,
    TEMPORAL_ADDRESS: infra.temporal.address,
    TEMPORAL_TASK_QUEUE: taskQueue,
  };
}

export interface BenchWorker {
  /** One manual sync, to its end; throws unless it succeeded. */
  sync(): Promise<{ ms: number; result: SyncSucceeded }>;
  stop(): Promise<void>;
}

/** A worker as the service builds it, on the bench's Postgres and Temporal, and a client to run syncs with it. */
export async function startBenchWorker(infra: BenchInfra, config: Config): Promise<BenchWorker> {
  const nativeConnection = await NativeConnection.connect({ address: infra.temporal.address });
  const worker = await buildWorker({
    config,
    stores: createStores({ db: infra.db, url: infra.postgres.url }),
    connection: nativeConnection,
  });
  const running = worker.run();
  const connection = await Connection.connect({ address: infra.temporal.address });
  const client = new Client({ connection });
  return {
    sync: async () => {
      const started = performance.now();
      const result = assertSucceeded(
        await client.workflow.execute<typeof syncRestrictedList>(WORKFLOW_TYPE, {
          taskQueue: config.temporal.taskQueue,
          workflowId: `bench-${randomUUID()}`,
          args: [{ trigger: 'manual' }],
        }),
      );
      return { ms: performance.now() - started, result };
    },
    stop: async () => {
      worker.shutdown();
      await running;
      await connection.close();
      await nativeConnection.close();
    },
  };
}
