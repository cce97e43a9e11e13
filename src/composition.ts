/**
 * The composition root: the one place that builds the stores, the check index, the metrics, the
 * Temporal client, the activities, the worker and the app. The service (src/service.ts), the test
 * helpers and the benchmarks all build them through here.
 */
import { fileURLToPath } from 'node:url';
import { Client, Connection } from '@temporalio/client';
import { Worker, type NativeConnection, type WorkerOptions } from '@temporalio/worker';
import type { Knex } from 'knex';
import { Counter, type Registry } from 'prom-client';
import { createActivities, type SyncActivities } from '../activities/index.ts';
import { createWatchActivities, type WatchActivities } from '../activities/watch.ts';
import { createApp } from './api/app.ts';
import { createCheckIndex, type CheckIndex } from './api/check-index.ts';
import { createMetrics, createMetricsRegistry, type Metrics } from './api/metrics.ts';
import type { Config } from './config.ts';
import { createKnexStores } from './db/stores.ts';
import type { Logger } from './logger.ts';
import type { Stores } from './stores/types.ts';
import { createListSource, type ListSource } from './sync/sources.ts';
import { countStepFailures } from './temporal/step-failures.ts';
import { createRunStarter, temporalRunState, type RunStarter } from './temporal/run-start.ts';
import { createTemporalSyncControl, type SyncControl } from './temporal/sync-control.ts';
import { watchWorkflowId } from './temporal/watch.ts';

export const WORKFLOWS_PATH = fileURLToPath(new URL('../workflows/index.ts', import.meta.url));

/** Every store on the service's Postgres database. */
export function createStores(database: { db: Knex; url: string }): Stores {
  return createKnexStores(database.db, database.url);
}

export interface TemporalClient {
  client: Client;
  connection: Connection;
  close(): Promise<void>;
}

/**
 * `lazy`: connect on first use, so an API process starts (and answers checks, which never need
 * Temporal) while Temporal is down; only triggers and approvals wait for it.
 */
export async function connectTemporal(
  config: Config,
  options: { lazy?: boolean } = {},
): Promise<TemporalClient> {
  const connection = options.lazy
    ? Connection.lazy({ address: config.temporal.address })
    : await Connection.connect({ address: config.temporal.address });
  const client = new Client({ connection, namespace: config.temporal.namespace });
  return { client, connection, close: () => connection.close() };
}

export interface ApiParts {
  app: ReturnType<typeof createApp>;
  /** Must be started (the list loaded) before the app listens, and stopped after. */
  checkIndex: CheckIndex;
  metrics: Metrics;
}

export function buildApi(deps: {
  config: Config;
  stores: Stores;
  /** Starting and deciding runs; absent, triggers and decisions answer 503. */
  temporal?: { client: Client } | { syncControl: SyncControl };
  logger?: Logger;
  clock?: () => Date;
  /** The check index's safety-net poll (default 5 s). */
  pollMs?: number;
  /** The process's metrics registry (shared with a worker in the same process). */
  registry?: Registry;
}): ApiParts {
  const { config, stores, logger } = deps;
  const registry = deps.registry ?? createMetricsRegistry();
  // The metrics read the index and the index reports to the metrics: the index gets them once both exist.
  const late: { metrics?: Metrics } = {};
  const checkIndex = createCheckIndex({
    instruments: stores.instruments,
    runs: stores.runs,
    listChanges: stores.listChanges,
    ...(deps.pollMs === undefined ? {} : { pollMs: deps.pollMs }),
    ...(deps.clock ? { clock: deps.clock } : {}),
    onError: (message) => logger?.error(message),
    // How long after an edit was saved this process answers from it: the lag the watch keeps short.
    onNewList: (snapshot) => {
      if (snapshot.listVersion === null) return;
      void stores.history.editsOf(snapshot.listVersion).then(
        (edits) => {
          if (edits !== null && edits.earliestEditedAt !== null)
            late.metrics?.observeEnforcementLag(
              (snapshot.loadedAt.getTime() - edits.earliestEditedAt.getTime()) / 1000,
            );
        },
        (error: unknown) =>
          logger?.warn(`could not measure the edit-to-enforcement lag: ${(error as Error).message}`),
      );
    },
  });
  const metrics = createMetrics({ runs: stores.runs, checkIndex, registry });
  late.metrics = metrics;
  const syncControl =
    deps.temporal === undefined
      ? undefined
      : 'syncControl' in deps.temporal
        ? deps.temporal.syncControl
        : createTemporalSyncControl(
            deps.temporal.client,
            buildRunStarter({ config, stores, client: deps.temporal.client }),
            { watchWorkflowId: watchWorkflowId(config.temporal.taskQueue) },
          );
  const app = createApp({
    config,
    runs: stores.runs,
    instruments: stores.instruments,
    history: stores.history,
    checkIndex,
    metrics,
    ...(syncControl ? { syncControl } : {}),
    ...(logger ? { logger } : {}),
    ...(deps.clock ? { clock: deps.clock } : {}),
  });
  return { app, checkIndex, metrics };
}

/** Starts the syncs an operator or the edit watch asks for, one at a time (src/temporal/run-start.ts). */
export function buildRunStarter(deps: { config: Config; stores: Stores; client: Client }): RunStarter {
  return createRunStarter({
    client: deps.client,
    stores: deps.stores,
    taskQueue: deps.config.temporal.taskQueue,
    list: { refs: deps.config.pages, cql: deps.config.cql },
  });
}

/** The sync's activities and the edit watch's, on one list source (its requests counted by purpose). */
export function buildActivities(deps: {
  config: Config;
  stores: Stores;
  /** Temporal, for starting the syncs the watch asks for and telling a sync in progress from one that ended. */
  client: Client;
  source?: ListSource;
  registry?: Registry;
}): SyncActivities & WatchActivities {
  const { config, stores, client } = deps;
  const requests = new Counter({
    name: 'rls_confluence_requests_total',
    help: 'HTTP requests sent to Confluence, by purpose: sync (versions and page bodies) or probe (the edit watch)',
    labelNames: ['purpose'] as const,
    registers: deps.registry ? [deps.registry] : [],
  });
  const source =
    deps.source ?? createListSource(config, { onConfluenceRequest: (purpose) => requests.inc({ purpose }) });
  return {
    ...createActivities({
      stores,
      source,
      maxRemovalPercent: config.maxRemovalPercent,
      stateOf: temporalRunState(client),
    }),
    ...createWatchActivities({
      source,
      storedVersions: async () => (await stores.claimChecks.latestStoredPages())?.versions ?? null,
      starter: buildRunStarter({ config, stores, client }),
      everySeconds: config.watchSeconds,
    }),
  };
}

/** The sync worker: the workflow and the activities on the configured (or given) task queue. */
export async function buildWorker(options: {
  config: Config;
  stores: Stores;
  connection: NativeConnection;
  source?: ListSource;
  workflowBundle?: WorkerOptions['workflowBundle'];
  /** Fault injection for tests: wraps the real activities (never replaces them). */
  wrapActivities?: (activities: SyncActivities) => SyncActivities;
  /** Where the step-failure counter goes (the process's registry). */
  registry?: Registry;
}): Promise<Worker> {
  const { config } = options;
  const registry = options.registry ?? createMetricsRegistry();
  const activities = buildActivities({
    config,
    stores: options.stores,
    // The worker's own connection serves the activities' few Temporal calls.
    client: new Client({ connection: options.connection, namespace: config.temporal.namespace }),
    registry,
    ...(options.source ? { source: options.source } : {}),
  });
  return Worker.create({
    connection: options.connection,
    namespace: config.temporal.namespace,
    taskQueue: config.temporal.taskQueue,
    ...(options.workflowBundle
      ? { workflowBundle: options.workflowBundle }
      : { workflowsPath: WORKFLOWS_PATH }),
    activities: options.wrapActivities
      ? { ...activities, ...options.wrapActivities(activities) }
      : activities,
    interceptors: { activity: [countStepFailures(registry)] },
  });
}
