import { DefaultLogger, Runtime, type LogLevel } from '@temporalio/worker';
import type { Logger } from '../logger.ts';

const TEMPORAL_LEVELS: Record<string, LogLevel> = {
  trace: 'TRACE',
  debug: 'DEBUG',
  info: 'INFO',
  warn: 'WARN',
  error: 'ERROR',
  fatal: 'ERROR',
};

let installed = false;

/**
 * Sends the Temporal SDK's logs (worker, workflow and activity `log`) through our pino logger,
 * at its level, as one JSON stream. Must run before the first worker or connection is created.
 * The SDK's runtime is one per process: a second service started in the same process (the
 * benches run several) keeps the first one's logger rather than failing to start.
 */
export function installTemporalLogging(logger: Logger): void {
  if (installed) return;
  installed = true;
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
