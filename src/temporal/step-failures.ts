import { ApplicationFailure } from '@temporalio/common';
import type { ActivityInterceptorsFactory } from '@temporalio/worker';
import { Counter, type Registry } from 'prom-client';

/** What kind of failure an attempt ended with: the ApplicationFailure's type, else the error's class. */
export function failureType(error: unknown): string {
  if (error instanceof ApplicationFailure) return error.type ?? 'ApplicationFailure';
  return error instanceof Error ? error.name : 'Error';
}

/** Whether Temporal may run the step again after this failure (its own retry policy still decides). */
function retryable(error: unknown): boolean {
  return !(error instanceof ApplicationFailure && error.nonRetryable);
}

/**
 * Counts every failed attempt of a sync step, by step, failure type and whether it is retried:
 * an operator sees Confluence flapping (retried ConfluenceUnavailableError on fetchPages) long
 * before a run gives up. Served with the process's other metrics at /metrics.
 */
export function countStepFailures(registry: Registry): ActivityInterceptorsFactory {
  const failures = new Counter({
    name: 'rls_sync_step_failures_total',
    help: 'Failed attempts of sync steps, by step, failure type and whether Temporal retries them',
    labelNames: ['step', 'type', 'retried'] as const,
    registers: [registry],
  });
  return (ctx) => ({
    inbound: {
      async execute(input, next) {
        try {
          return await next(input);
        } catch (error) {
          failures.inc({
            step: ctx.info.activityType,
            type: failureType(error),
            retried: String(retryable(error)),
          });
          throw error;
        }
      },
    },
  });
}
