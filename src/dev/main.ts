import { join } from 'node:path';
import { ConfigError, loadConfig, loadDotEnv } from '../config.ts';
import { openDatabase, PROJECT_ROOT } from '../db/database.ts';
import { freePort } from './free-port.ts';
import { DEMO_PAGE_ID, DEMO_PAGE_STORAGE, DEMO_PAGE_TITLE } from './demo-page.ts';
import { startFakeConfluence, type FakeConfluence, type FakeFlavour } from './fake-confluence.ts';
import { createLogger } from '../logger.ts';
import { startService } from '../service.ts';
import type { syncRestrictedList } from '../../workflows/index.ts';
import { assertSucceeded } from '../temporal/contract.ts';
import { startTemporalDevServer, type TemporalDevServer } from './temporal-dev-server.ts';

/**
 * `npm run dev`: everything on embedded defaults — Postgres, a Temporal dev server with its UI, a
 * fake Confluence serving a demo page, the worker with its schedule, and the API — then a first
 * sync, and the URLs. Anything set in the environment (or .env) is used instead.
 */
const progress = (line: string) => console.log(`▸ ${line}`);

async function portOr(preferred: number): Promise<number> {
  const { createServer } = await import('node:net');
  return new Promise((resolve) => {
    const probe = createServer();
    probe.once('error', () => void freePort().then(resolve));
    probe.listen(preferred, '127.0.0.1', () => probe.close(() => resolve(preferred)));
  });
}

loadDotEnv();
const env = { ...process.env };
const cleanups: (() => Promise<void>)[] = [];

async function shutdown(code: number) {
  for (const cleanup of cleanups.reverse()) await cleanup().catch(() => {});
  process.exit(code);
}
process.on('SIGINT', () => void shutdown(0));
process.on('SIGTERM', () => void shutdown(0));

try {
  const database = await openDatabase(env.DATABASE_URL || null, { onProgress: progress });
  cleanups.push(() => database.close());
  env.DATABASE_URL = database.url;
  progress(`postgres: ${database.embedded ? 'embedded server' : 'DATABASE_URL'} ready`);

  let temporal: TemporalDevServer | null = null;
  if (!env.TEMPORAL_ADDRESS) {
    temporal = await startTemporalDevServer({
      port: await portOr(7233),
      uiPort: await portOr(8233),
      dbFilename: join(PROJECT_ROOT, '.data', 'temporal.sqlite'),
      onProgress: progress,
    });
    cleanups.push(() => temporal!.stop());
    env.TEMPORAL_ADDRESS = temporal.address;
    if (temporal.uiUrl) env.TEMPORAL_UI_URL = temporal.uiUrl;
    progress(`temporal: dev server on ${temporal.address}`);
  }

  let confluence: FakeConfluence | null = null;
  if (!env.CONFLUENCE_URL && env.USE_MOCK_DATA !== 'true') {
    // The fake answers as the flavour asked for: CONFLUENCE_DEPLOYMENT=datacenter, or a scoped token.
    const flavour: FakeFlavour =
      env.CONFLUENCE_DEPLOYMENT?.trim().toLowerCase() === 'datacenter'
        ? 'datacenter'
        : env.CONFLUENCE_API_TOKEN_SCOPED?.trim().toLowerCase() === 'true'
          ? 'cloud-scoped'
          : 'cloud';
    confluence = await startFakeConfluence({ flavour });
    cleanups.push(() => confluence!.close());
    confluence.putPage({ id: DEMO_PAGE_ID, title: DEMO_PAGE_TITLE, storage: DEMO_PAGE_STORAGE });
    Object.assign(env, confluence.env, { RESTRICTED_INSTRUMENTS_PAGE_URL: confluence.pageUrl(DEMO_PAGE_ID) });
    progress(`confluence: fake ${flavour} server with the demo page at ${confluence.pageUrl(DEMO_PAGE_ID)}`);
  }

  const config = loadConfig(env);
  const logger = createLogger({ level: env.LOG_LEVEL ?? 'warn' });
  const service = await startService({
    config,
    database,
    roles: ['worker', 'api'],
    logger,
  });
  cleanups.push(() => service.stop());

  progress('sync: running the first sync');
  const triggered = await service.runStarter.start({ trigger: 'manual', requestedBy: 'npm run dev' });
  const result = assertSucceeded(
    await service.client.workflow
      .getHandle<typeof syncRestrictedList>(triggered.workflowId, triggered.runId)
      .result(),
  );
  progress(
    `sync: ${result.instrumentCount} instruments (+${result.added} −${result.removed} ~${result.modified}), list version ${result.listVersion}`,
  );

  const api = service.apiUrl ?? '';
  console.log(`
restricted-list-sync is up.
  API            ${api}
  Check          ${api}/v1/check?ticker=AAPL
  Sync status    ${api}/v1/sync/status
  Temporal UI    ${config.temporal.uiUrl}
  Confluence     ${confluence ? confluence.pageUrl(DEMO_PAGE_ID) : (config.confluence.url ?? 'mock data')}
Press Ctrl+C to stop.`);
} catch (error) {
  console.error(
    error instanceof ConfigError
      ? `configuration error: ${error.message}`
      : `npm run dev failed: ${(error as Error).message}`,
  );
  await shutdown(1);
}
