import { fileURLToPath } from 'node:url';
import {
  DefaultLogger,
  Runtime,
  Worker,
  type LogLevel,
  type NativeConnection,
  type WorkerOptions,
} from '@temporalio/worker';
import type { Knex } from 'knex';
import { createActivities, type SyncActivities } from '../activities/index.ts';
import type { Config } from './config.ts';
import type { Logger } from './logger.ts';
import { createInstrumentStore } from './db/instruments.ts';
import { createSyncRunStore } from './db/sync-runs.ts';
import { createListSource, type ListSource } from './sync/sources.ts';

export const WORKFLOWS_PATH = fileURLToPath(new URL('../workflows/index.ts', import.meta.url));

/** The only place (with the API's entry point) that wires real dependencies into the activities. */
export async function createSyncWorker(options: {
  config: Config;
  db: Knex;
  connection: NativeConnection;
  source?: ListSource;
  taskQueue?: string;
  workflowBundle?: WorkerOptions['workflowBundle'];
  /** Fault injection for tests: wraps the real activities (never replaces them). */
  wrapActivities?: (activities: SyncActivities) => SyncActivities;
}): Promise<Worker> {
  const { config, db } = options;
  return Worker.create({
    connection: options.connection,
    namespace: config.temporal.namespace,
    taskQueue: options.taskQueue ?? config.temporal.taskQueue,
    ...(options.workflowBundle
      ? { workflowBundle: options.workflowBundle }
      : { workflowsPath: WORKFLOWS_PATH }),
    activities: (options.wrapActivities ?? ((a: SyncActivities) => a))(
      createActivities({
        db,
        runs: createSyncRunStore(db),
        instruments: createInstrumentStore(db),
        source: options.source ?? createListSource(config),
        maxRemovalPercent: config.maxRemovalPercent,
      }),
    ),
  });
}

const TEMPORAL_LEVELS: Record<string, LogLevel> = {
  trace: 'TRACE',
  debug: 'DEBUG',
  info: 'INFO',
  warn: 'WARN',
  error: 'ERROR',
  fatal: 'ERROR',
};

/**
 * Sends the Temporal SDK's logs (worker, workflow and activity `log`) through our pino logger,
 * at its level, as one JSON stream. Must run before the first worker or connection is created.
 */
export function installTemporalLogging(logger: Logger): void {
  const level = TEMPORAL_LEVELS[logger.level] ?? 'INFO';
  Runtime.install({
    logger: new DefaultLogger(level, (entry) => {
      const { taskToken: _taskToken, ...meta } = (entry.meta ?? {}) as Record<string, unknown>;
      const method =
        entry.level === 'TRACE'
          ? 'trace'
          : (entry.level.toLowerCase() as 'debug' | 'info' | 'warn' | 'error');
      logger[method]({ temporal: meta }, entry.message);
    }),
  });
}
