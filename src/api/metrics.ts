import { collectDefaultMetrics, Counter, Gauge, Histogram, Registry } from 'prom-client';
import { RUN_STATUSES } from '../domain/index.ts';
import type { RunStore } from '../stores/types.ts';
import type { CheckIndex } from './check-index.ts';

export type CheckResult = 'restricted' | 'not_restricted' | 'unavailable' | 'invalid' | 'error';

/**
 * Prometheus metrics of one API process: what the trading service got, how fast, and whether the
 * list it answers from is healthy. Alert on rls_seconds_since_last_successful_sync and on
 * rls_checks_total{result="unavailable"}.
 */
export function createMetrics(deps: { runs: RunStore; checkIndex?: CheckIndex; registry?: Registry }) {
  const registry = deps.registry ?? createMetricsRegistry();

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
  const enforcementLag = new Histogram({
    name: 'rls_edit_to_enforcement_seconds',
    help: 'From an edit being saved in Confluence to this process answering checks from it (per list version, its earliest edit)',
    buckets: [1, 2, 5, 10, 15, 20, 30, 45, 60, 90, 120, 300, 900, 3600],
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
      const asOf = deps.checkIndex?.snapshot()?.asOf ?? (await deps.runs.appliedState()).asOf;
      this.set(asOf === null ? -1 : (Date.now() - new Date(asOf).getTime()) / 1000);
    },
  });
  new Gauge({
    name: 'rls_sync_runs',
    help: 'Sync runs recorded, by status',
    labelNames: ['status'] as const,
    registers: [registry],
    async collect() {
      const counts = await deps.runs.countByStatus();
      this.reset();
      for (const status of RUN_STATUSES) this.set({ status }, counts[status]);
    },
  });

  return {
    registry,
    observeEnforcementLag(seconds: number) {
      enforcementLag.observe(Math.max(0, seconds));
    },
    recordChecks(results: readonly CheckResult[], seconds: number) {
      for (const result of results) checks.inc({ result });
      checkDuration.observe(seconds);
    },
  };
}

export type Metrics = ReturnType<typeof createMetrics>;

/** One per process: the API's metrics and the worker's share it, served together at /metrics. */
export function createMetricsRegistry(): Registry {
  const registry = new Registry();
  collectDefaultMetrics({ register: registry });
  return registry;
}
