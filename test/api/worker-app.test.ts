import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Counter } from 'prom-client';
import { createMetricsRegistry } from '../../src/api/metrics.ts';
import { startServer, stopServer } from '../../src/api/server.ts';
import { createWorkerApp } from '../../src/api/worker-app.ts';

/** `npm run worker` alone serves liveness and its metrics, nothing else. */
describe('worker-only HTTP endpoints', () => {
  const registry = createMetricsRegistry();
  const counter = new Counter({
    name: 'rls_test_counter',
    help: 'a metric of the worker',
    registers: [registry],
  });
  let url: string;
  let stop: () => Promise<void>;
  beforeAll(async () => {
    const started = await startServer(createWorkerApp(registry), 0, '127.0.0.1');
    url = started.url;
    stop = () => stopServer(started.server);
  });
  afterAll(() => stop());

  it('answers /healthz and serves the process metrics at /metrics', async () => {
    expect(await (await fetch(`${url}/healthz`)).json()).toEqual({ status: 'ok' });
    counter.inc(3);
    const metrics = await fetch(`${url}/metrics`);
    expect(metrics.headers.get('content-type')).toMatch(/^text\/plain/);
    const text = await metrics.text();
    expect(text).toContain('rls_test_counter 3');
    expect(text).toContain('process_cpu_seconds_total');
  });

  it('answers anything else 404 in the API error shape', async () => {
    const response = await fetch(`${url}/v1/check?ticker=AAPL`);
    expect(response.status).toBe(404);
    expect(await response.json()).toEqual({ error: { code: 'not_found', message: expect.any(String) } });
  });
});
