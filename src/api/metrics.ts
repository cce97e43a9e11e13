import { collectDefaultMetrics, Counter, Gauge, Histogram, Registry, type Metric } from 'prom-client';
import { RUN_STATUSES } from '../domain/index.ts';
import type { RunStore } from '../stores/types.ts';
import type { CheckIndex } from './check-index.ts';

const CHECK_RESULTS = ['restricted', 'not_restricted', 'unavailable', 'invalid', 'error'] as const;
export type CheckResult = (typeof CHECK_RESULTS)[number];
const RESULT_INDEX = new Map(CHECK_RESULTS.map((result, index) => [result, index]));

/**
 * A histogram counted in plain numbers, for the check path, where a prom-client Histogram's
 * `observe` (which hashes its labels and allocates on every call) costs more than the rest of a
 * check's answer. Written out, when /metrics is read, exactly as a prom-client Histogram without
 * labels writes itself (test/api/metrics.test.ts holds the two side by side).
 */
export function plainHistogram(config: { name: string; help: string; buckets: readonly number[] }) {
  const { name, help } = config;
  const bounds = [...config.buckets].sort((a, b) => a - b);
  /** Observations in each bucket (not cumulative); the last is above every bound. */
  const counts = new Float64Array(bounds.length + 1);
  let sum = 0;
  let count = 0;
  const values = () => {
    let cumulative = 0;
    return [
      ...bounds.map((le, index) => {
        cumulative += counts[index]!;
        return { labels: { le }, value: cumulative, metricName: `${name}_bucket`, exemplar: null };
      }),
      { labels: { le: '+Inf' }, value: count, metricName: `${name}_bucket`, exemplar: null },
      { labels: {}, value: sum, metricName: `${name}_sum` },
      { labels: {}, value: count, metricName: `${name}_count` },
    ];
  };
  const metric = {
    name,
    help,
    type: 'histogram',
    aggregator: 'sum',
    get: async () => ({ name, help, type: 'histogram', aggregator: 'sum', values: values() }),
    reset() {
      counts.fill(0);
      sum = 0;
      count = 0;
    },
  };
  return {
    observe(value: number) {
      let index = 0;
      while (index < bounds.length && value > bounds[index]!) index++;
      counts[index]!++;
      sum += value;
      count++;
    },
    /** For `registry.registerMetric`: a registry reads a metric through `get` (and `reset`) only. */
    metric: metric as unknown as Metric,
  };
}

/**
 * Prometheus metrics of one API process: what the trading service got, how fast, and whether the
 * list it answers from is healthy. Alert on rls_seconds_since_last_successful_sync and on
 * rls_checks_total{result="unavailable"}.
 */
export function createMetrics(deps: { runs: RunStore; checkIndex?: CheckIndex; registry?: Registry }) {
  const registry = deps.registry ?? createMetricsRegistry();

  // Counted in plain numbers on the check path, handed to the counter when /metrics is read.
  const uncounted = new Float64Array(CHECK_RESULTS.length);
  new Counter({
    name: 'rls_checks_total',
    help: 'Instrument checks answered, by result (one per item of a batch)',
    labelNames: ['result'] as const,
    registers: [registry],
    collect() {
      for (const [index, result] of CHECK_RESULTS.entries()) {
        const count = uncounted[index]!;
        if (count === 0) continue;
        uncounted[index] = 0;
        this.inc({ result }, count);
      }
    },
  });
  const checkDuration = plainHistogram({
    name: 'rls_check_duration_seconds',
    help: 'Time to answer a check request (single or batch)',
    buckets: [0.0005, 0.001, 0.002, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 1],
  });
  registry.registerMetric(checkDuration.metric);
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
    /** A check request answered: one result per item, and the time it took. */
    recordChecks(results: readonly CheckResult[], seconds: number) {
      for (const result of results) uncounted[RESULT_INDEX.get(result)!]!++;
      checkDuration.observe(seconds);
    },
    /** One single check answered (the check path: no array). */
    recordCheck(result: CheckResult, seconds: number) {
      uncounted[RESULT_INDEX.get(result)!]!++;
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
