import express from 'express';
import type { Registry } from 'prom-client';

/**
 * What a worker-only process (`npm run worker`) serves on PORT: liveness for the orchestrator and
 * its metrics (step failures and retries) for Prometheus. The API process serves the same metrics
 * at its own /metrics.
 */
export function createWorkerApp(registry: Registry) {
  const app = express();
  app.disable('x-powered-by');
  app.get('/healthz', (_req, res) => {
    res.json({ status: 'ok' });
  });
  app.get('/metrics', async (_req, res) => {
    res.type(registry.contentType).send(await registry.metrics());
  });
  app.use((_req, res) => {
    res
      .status(404)
      .json({ error: { code: 'not_found', message: 'a worker serves only /healthz and /metrics' } });
  });
  return app;
}
