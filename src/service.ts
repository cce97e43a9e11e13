import type { Client } from '@temporalio/client';
import { NativeConnection, type Worker } from '@temporalio/worker';
import type { Knex } from 'knex';
import { createMetricsRegistry } from './api/metrics.ts';
import { startServer, stopServer } from './api/server.ts';
import { createWorkerApp } from './api/worker-app.ts';
import { buildApi, buildRunStarter, buildWorker, connectTemporal, createStores } from './composition.ts';
import type { Config } from './config.ts';
import type { Logger } from './logger.ts';
import type { ListSource } from './sync/sources.ts';
import { SCHEDULE_ID } from './temporal/contract.ts';
import type { RunStarter } from './temporal/run-start.ts';
import { installTemporalLogging } from './temporal/logging.ts';
import { ensureSchedule } from './temporal/schedule.ts';
import { ensureSearchAttributes } from './temporal/search-attributes.ts';
import { ensureWatch } from './temporal/watch.ts';

export type Role = 'worker' | 'api';

export interface RunningService {
  apiUrl: string | null;
  client: Client;
  /** Starts a sync on someone's behalf (one at a time), as the API's trigger does. */
  runStarter: RunStarter;
  stop(): Promise<void>;
}

/**
 * Starts the worker (with the schedule) and/or the API on an open database. `npm start`,
 * `npm run worker`, `npm run api` and `npm run dev` all come through here.
 */
export async function startService(options: {
  config: Config;
  database: { db: Knex; url: string };
  roles: readonly Role[];
  logger: Logger;
  source?: ListSource;
  /** The schedule runs are started through (tests give each fleet its own). */
  scheduleId?: string;
  /** Where the API listens (default all interfaces). */
  host?: string;
}): Promise<RunningService> {
  const { config, roles, logger } = options;
  const scheduleId = options.scheduleId ?? SCHEDULE_ID;
  const stores = createStores(options.database);
  const registry = createMetricsRegistry();
  // The API alone connects lazily: checks never need Temporal, so it starts (and answers) while
  // Temporal is down; only triggers and approvals wait for it.
  const temporal = await connectTemporal(config, { lazy: !roles.includes('worker') });
  const stops: (() => Promise<void>)[] = [() => temporal.close()];

  if (roles.includes('worker')) {
    installTemporalLogging(logger);
    const registered = await ensureSearchAttributes(temporal.connection, config.temporal.namespace);
    if (registered.length > 0) logger.info(`registered search attributes ${registered.join(', ')}`);
    const nativeConnection = await NativeConnection.connect({ address: config.temporal.address });
    const worker: Worker = await buildWorker({
      config,
      stores,
      connection: nativeConnection,
      registry,
      ...(options.source ? { source: options.source } : {}),
    });
    const workerDone = worker.run();
    workerDone.catch((error: unknown) => logger.error({ err: error }, 'the worker stopped with an error'));
    const outcome = await ensureSchedule(temporal.client, config, {
      scheduleId,
      knownPages: (await stores.runs.latestSuccess())?.pages ?? [],
    });
    logger.info(
      `schedule ${outcome}: every ${config.syncIntervalMinutes} min on task queue ${config.temporal.taskQueue}`,
    );
    const watch = await ensureWatch(temporal.client, config);
    logger.info(
      watch === 'watching'
        ? `edit watch: probing Confluence every ${config.watchSeconds} s`
        : `edit watch: off (RESTRICTED_LIST_WATCH_SECONDS=0)${watch === 'stopped' ? '; the running watch was stopped' : ''}`,
    );
    stops.unshift(async () => {
      // The worker also stops itself on SIGINT/SIGTERM; shutting down twice throws.
      if (worker.getState() === 'RUNNING') worker.shutdown();
      await workerDone.catch(() => {});
      await nativeConnection.close();
    });
  }

  let apiUrl: string | null = null;
  if (roles.includes('api')) {
    const { app, checkIndex } = buildApi({
      config,
      stores,
      temporal: { client: temporal.client },
      logger,
      registry,
    });
    // The list is loaded before the port opens: an API that answers is an API that knows the list.
    await checkIndex.start();
    stops.push(() => checkIndex.stop());
    const { server, url } = await startServer(app, config.port, options.host);
    apiUrl = url;
    logger.info(`API listening on ${url}`);
    stops.unshift(() => stopServer(server));
  }

  if (roles.includes('worker') && !roles.includes('api')) {
    // A busy port (an API on the same host) costs the metrics endpoint, never the worker.
    try {
      const { server, url } = await startServer(createWorkerApp(registry), config.port, options.host);
      logger.info(`worker metrics on ${url}/metrics`);
      stops.unshift(() => stopServer(server));
    } catch (error) {
      logger.warn(
        `the worker's /metrics and /healthz are not served: port ${config.port} is not free (${(error as Error).message}); set PORT`,
      );
    }
  }

  return {
    apiUrl,
    client: temporal.client,
    runStarter: buildRunStarter({ config, stores, client: temporal.client }),
    stop: async () => {
      for (const stop of stops) await stop();
    },
  };
}
