import { Client, Connection } from '@temporalio/client';
import { NativeConnection, type Worker } from '@temporalio/worker';
import type { Knex } from 'knex';
import { createApp } from './api/app.ts';
import { createCheckIndex } from './api/check-index.ts';
import { createMetrics } from './api/metrics.ts';
import { startServer, stopServer } from './api/server.ts';
import type { Config } from './config.ts';
import { createHistoryStore } from './db/history.ts';
import { createInstrumentStore } from './db/instruments.ts';
import { createSyncRunStore } from './db/sync-runs.ts';
import type { Logger } from './logger.ts';
import type { ListSource } from './sync/sources.ts';
import { ensureSchedule } from './temporal/schedule.ts';
import { ensureSearchAttributes } from './temporal/search-attributes.ts';
import { createSyncWorker, installTemporalLogging } from './worker.ts';

export type Role = 'worker' | 'api';

export interface RunningService {
  apiUrl: string | null;
  client: Client;
  stop(): Promise<void>;
}

/**
 * Starts the worker (with the schedule) and/or the API on an open database. `npm start`,
 * `npm run worker`, `npm run api` and `npm run dev` all come through here.
 */
export async function startService(options: {
  config: Config;
  db: Knex;
  /** For the check index's LISTEN connection. */
  databaseUrl: string;
  roles: readonly Role[];
  logger: Logger;
  source?: ListSource;
}): Promise<RunningService> {
  const { config, db, roles, logger } = options;
  // The API alone connects lazily: checks never need Temporal, so it starts (and answers) while
  // Temporal is down; only triggers and approvals wait for it.
  const connection = roles.includes('worker')
    ? await Connection.connect({ address: config.temporal.address })
    : Connection.lazy({ address: config.temporal.address });
  const client = new Client({ connection, namespace: config.temporal.namespace });
  const stops: (() => Promise<void>)[] = [async () => connection.close()];

  let worker: Worker | null = null;
  let workerDone: Promise<void> | null = null;
  if (roles.includes('worker')) {
    installTemporalLogging(logger);
    const registered = await ensureSearchAttributes(connection, config.temporal.namespace);
    if (registered.length > 0) logger.info(`registered search attributes ${registered.join(', ')}`);
    const nativeConnection = await NativeConnection.connect({ address: config.temporal.address });
    worker = await createSyncWorker({
      config,
      db,
      connection: nativeConnection,
      ...(options.source ? { source: options.source } : {}),
    });
    workerDone = worker.run();
    workerDone.catch((error: unknown) => logger.error({ err: error }, 'the worker stopped with an error'));
    const outcome = await ensureSchedule(client, config);
    logger.info(
      `schedule ${outcome}: every ${config.syncIntervalMinutes} min on task queue ${config.temporal.taskQueue}`,
    );
    stops.unshift(async () => {
      // The worker also stops itself on SIGINT/SIGTERM; shutting down twice throws.
      if (worker?.getState() === 'RUNNING') worker.shutdown();
      await workerDone?.catch(() => {});
      await nativeConnection.close();
    });
  }

  let apiUrl: string | null = null;
  if (roles.includes('api')) {
    const checkIndex = createCheckIndex({
      db,
      databaseUrl: options.databaseUrl,
      onError: (message) => logger.error(message),
    });
    // The list is loaded before the port opens: an API that answers is an API that knows the list.
    await checkIndex.start();
    stops.push(() => checkIndex.stop());
    const app = createApp({
      checkIndex,
      config,
      runs: createSyncRunStore(db),
      instruments: createInstrumentStore(db),
      history: createHistoryStore(db),
      temporal: { client },
      logger,
      metrics: createMetrics({ db, checkIndex }),
    });
    const { server, url } = await startServer(app, config.port);
    apiUrl = url;
    logger.info(`API listening on ${url}`);
    stops.unshift(() => stopServer(server));
  }

  return {
    apiUrl,
    client,
    stop: async () => {
      for (const stop of stops) await stop();
    },
  };
}
