import { collectDefaultMetrics, Counter, Gauge, Histogram, Registry } from 'prom-client';
import type { Knex } from 'knex';
import type { CheckIndex } from './check-index.ts';

export type CheckResult = 'restricted' | 'not_restricted' | 'unavailable' | 'invalid' | 'error';

/**
 * Prometheus metrics of one API process: what the trading service got, how fast, and whether the
 * list it answers from is healthy. Alert on rls_seconds_since_last_successful_sync and on
 * rls_checks_total{result="unavailable"}.
 */
export function createMetrics(deps: { db: Knex; checkIndex?: CheckIndex }) {
  const registry = new Registry();
  collectDefaultMetrics({ register: registry });

  const checks = new Counter({
    name: 'rls_checks_total',
    help: 'Instrument checks answered, by result (one per item of a batch)',
    labelNames: ['result'] as const,
    registers: [registry],
  });
  const checkDuration = new Histogram({
    name: 'rls_check_duration_seconds',
    help: 'Time to answer a check request (single or batch)',
    buckets: [0.0005, 0.001, 0.002, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 1],
    registers: [registry],
  });
  new Gauge({
    name: 'rls_active_instruments',
    help: 'Instruments on the applied list this process answers from',
    registers: [registry],
    collect() {
      const snapshot = deps.checkIndex?.snapshot();
      if (snapshot) this.set(snapshot.size);
    },
  });
  new Gauge({
    name: 'rls_list_version',
    help: 'Applied list version this process answers from (0 before the first successful sync)',
    registers: [registry],
    collect() {
      this.set(deps.checkIndex?.snapshot()?.listVersion ?? 0);
    },
  });
  new Gauge({
    name: 'rls_seconds_since_last_successful_sync',
    help: 'Seconds since the list was last confirmed by a successful sync (-1: never)',
    registers: [registry],
    async collect() {
      const asOf =
        deps.checkIndex?.snapshot()?.asOf ??
        (
          await deps
            .db('sync_runs')
            .where({ status: 'succeeded' })
            .max<{ max: Date | null }>('finished_at as max')
            .first()
        )?.max ??
        null;
      this.set(asOf === null ? -1 : (Date.now() - new Date(asOf).getTime()) / 1000);
    },
  });
  new Gauge({
    name: 'rls_sync_runs',
    help: 'Sync runs recorded, by status',
    labelNames: ['status'] as const,
    registers: [registry],
    async collect() {
      const rows: { status: string; count: number }[] = await deps
        .db('sync_runs')
        .select('status')
        .count('* as count')
        .groupBy('status');
      this.reset();
      for (const status of ['running', 'awaiting_approval', 'succeeded', 'failed']) {
        this.set({ status }, Number(rows.find((row) => row.status === status)?.count ?? 0));
      }
    },
  });

  return {
    registry,
    recordChecks(results: readonly CheckResult[], seconds: number) {
      for (const result of results) checks.inc({ result });
      checkDuration.observe(seconds);
    },
  };
}

export type Metrics = ReturnType<typeof createMetrics>;
