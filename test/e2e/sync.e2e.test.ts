import { randomUUID } from 'node:crypto';
import type { Server } from 'node:http';
import { Client, Connection, WorkflowFailedError } from '@temporalio/client';
import { NativeConnection, type Worker } from '@temporalio/worker';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { createApp } from '../../src/api/app.ts';
import { startServer, stopServer } from '../../src/api/server.ts';
import { loadConfig, type Config } from '../../src/config.ts';
import { createInstrumentStore } from '../../src/db/instruments.ts';
import { createSyncRunStore } from '../../src/db/sync-runs.ts';
import { DEMO_PAGE_ID, DEMO_PAGE_STORAGE, DEMO_PAGE_TITLE } from '../../src/dev/demo-page.ts';
import { startFakeConfluence, type FakeConfluence } from '../../src/dev/fake-confluence.ts';
import { WORKFLOW_TYPE, type SyncWorkflowInput, type SyncWorkflowResult } from '../../src/shared.ts';
import { createSyncWorker } from '../../src/worker.ts';
import { createTestDatabase, type TestDatabase } from '../helpers/db.ts';

/**
 * The whole pipeline on real parts: a real Temporal dev server, a real Postgres, confluence.js
 * talking HTTP to our fake Confluence, and the API over HTTP.
 */
describe('sync pipeline end to end', () => {
  let database: TestDatabase;
  let confluence: FakeConfluence;
  let config: Config;
  let nativeConnection: NativeConnection;
  let connection: Connection;
  let client: Client;
  let worker: Worker;
  let workerRun: Promise<void>;
  let server: Server;
  let api: string;
  const taskQueue = `e2e-${randomUUID()}`;

  beforeAll(async () => {
    database = await createTestDatabase();
    confluence = await startFakeConfluence();
    config = loadConfig({
      CONFLUENCE_URL: `${confluence.url}/wiki`,
      CONFLUENCE_USERNAME: confluence.username,
      CONFLUENCE_API_TOKEN: confluence.apiToken,
      RESTRICTED_INSTRUMENTS_PAGE_URL: confluence.pageUrl(DEMO_PAGE_ID),
      DATABASE_URL: database.url,
      TEMPORAL_ADDRESS: inject('temporalAddress'),
      TEMPORAL_TASK_QUEUE: taskQueue,
    });
    nativeConnection = await NativeConnection.connect({ address: config.temporal.address });
    worker = await createSyncWorker({
      config,
      db: database.db,
      connection: nativeConnection,
      workflowBundle: { codePath: inject('workflowBundlePath') },
    });
    workerRun = worker.run();
    connection = await Connection.connect({ address: config.temporal.address });
    client = new Client({ connection });
    const app = createApp({ config, runs: createSyncRunStore(database.db), instruments: createInstrumentStore(database.db) });
    ({ server, url: api } = await startServer(app, 0, '127.0.0.1'));
  });

  afterAll(async () => {
    await stopServer(server);
    worker.shutdown();
    await workerRun;
    await connection.close();
    await nativeConnection.close();
    await confluence.close();
    await database.drop();
  });

  async function runSync(): Promise<SyncWorkflowResult> {
    const input: SyncWorkflowInput = { trigger: 'manual' };
    return client.workflow.execute<(input: SyncWorkflowInput) => Promise<SyncWorkflowResult>>(WORKFLOW_TYPE, {
      taskQueue,
      workflowId: `e2e-sync-${randomUUID()}`,
      args: [input],
    });
  }

  async function get(path: string): Promise<{ status: number; body: any }> {
    const response = await fetch(`${api}${path}`);
    return { status: response.status, body: await response.json() };
  }

  async function activeTickers(): Promise<string[]> {
    const rows = await database.db('restricted_instruments').where({ is_active: true }).orderBy('ticker');
    return rows.map((row) => row.ticker);
  }

  it('answers 503 list_unavailable before any sync has succeeded, and status says never', async () => {
    const check = await get('/v1/check?ticker=AAPL');
    expect(check.status).toBe(503);
    expect(check.body.error.code).toBe('list_unavailable');
    const status = await get('/v1/sync/status');
    expect(status.body.status).toBe('never');
  });

  it('first sync loads the page into Postgres and checks answer from it', async () => {
    confluence.putPage({ id: DEMO_PAGE_ID, title: DEMO_PAGE_TITLE, storage: DEMO_PAGE_STORAGE });
    const result = await runSync();
    expect(result).toMatchObject({ status: 'succeeded', added: 4, removed: 0, modified: 0, unchanged: 0, listVersion: 1 });
    expect(result.pages).toEqual([
      expect.objectContaining({ id: DEMO_PAGE_ID, title: DEMO_PAGE_TITLE, version: 1 }),
    ]);
    expect(await activeTickers()).toEqual(['AAPL', 'MSFT', 'NVDA', 'TSLA']);

    const aapl = await get('/v1/check?ticker=aapl');
    expect(aapl.status).toBe(200);
    expect(aapl.body).toMatchObject({ restricted: true, severity: 'CRITICAL', stale: false, list_version: 1 });
    expect(aapl.body.matches).toEqual([
      {
        ticker: 'AAPL',
        isin: 'US0378331005',
        name: 'Apple Inc.',
        restriction_type: 'full',
        reason: 'Inside information',
        effective_from: null,
        expires_at: null,
      },
    ]);
    const ibm = await get('/v1/check?ticker=IBM');
    expect(ibm.body).toMatchObject({ restricted: false, severity: 'NONE', matches: [] });
    const byIsin = await get('/v1/check?isin=us5949181045&side=buy');
    expect(byIsin.body).toMatchObject({ restricted: true, matches: [expect.objectContaining({ ticker: 'MSFT' })] });
    // MSFT is buy-only: selling it is allowed.
    expect((await get('/v1/check?ticker=MSFT&side=sell')).body.restricted).toBe(false);

    const status = await get('/v1/sync/status');
    expect(status.body).toMatchObject({ status: 'ok', instrument_count: 4, stale: false, last_error: null });
    expect(status.body.pages).toEqual([expect.objectContaining({ id: DEMO_PAGE_ID, version: 1 })]);
  });

  it('an edit of the page deactivates a removed instrument and records a modification', async () => {
    const edited = DEMO_PAGE_STORAGE.replace(/<tr><td><p>NVDA<\/p>.*?<\/tr>\n/, '').replace('Research blackout', 'Research blackout until results');
    expect(edited).not.toContain('NVDA');
    confluence.putPage({ id: DEMO_PAGE_ID, title: DEMO_PAGE_TITLE, storage: edited });

    const result = await runSync();
    expect(result).toMatchObject({ added: 0, removed: 1, modified: 1, unchanged: 2, listVersion: 2 });
    expect(await activeTickers()).toEqual(['AAPL', 'MSFT', 'TSLA']);
    const nvda = await database.db('restricted_instruments').where({ ticker: 'NVDA' }).first();
    expect(nvda.is_active).toBe(false); // kept, never deleted

    const changes = await database.db('instrument_changes').where({ run_id: result.runId }).orderBy('change');
    expect(changes.map((c) => [c.change, c.ticker, c.page_version])).toEqual([
      ['modified', 'TSLA', 2],
      ['removed', 'NVDA', 2],
    ]);
    expect(changes[0].before.reason).toBe('Research blackout');
    expect(changes[0].after.reason).toBe('Research blackout until results');

    expect((await get('/v1/check?ticker=NVDA')).body).toMatchObject({ restricted: false, list_version: 2 });
  });

  it('a second run on an unchanged page writes nothing but its run record', async () => {
    const before = {
      rows: await database.db('restricted_instruments').orderBy('id'),
      changes: await database.db('instrument_changes').count<{ count: number }[]>('* as count'),
    };
    const result = await runSync();
    expect(result).toMatchObject({ added: 0, removed: 0, modified: 0, unchanged: 3, listVersion: 2 });
    expect(await database.db('restricted_instruments').orderBy('id')).toEqual(before.rows);
    expect(await database.db('instrument_changes').count('* as count')).toEqual(before.changes);
  });

  it('revoked credentials fail the run without retrying, keep the cache, and status says so', async () => {
    const cached = await activeTickers();
    confluence.revokeToken();
    const requestsBefore = confluence.requests.length;
    const error = await runSync().catch((e: unknown) => e);
    expect(error).toBeInstanceOf(WorkflowFailedError);
    expect(((error as WorkflowFailedError).cause as any)?.cause?.type).toBe('ConfluenceAuthError');
    expect(confluence.requests.length - requestsBefore).toBe(1); // not retried
    expect(await activeTickers()).toEqual(cached);

    const status = await get('/v1/sync/status');
    expect(status.body.status).toBe('failed');
    expect(status.body.message).toMatch(/^Sync failed - using cached data from \d{4}-\d\d-\d\dT/);
    expect(status.body.last_error.code).toBe('ConfluenceAuthError');
    expect(status.body.last_error.message).toContain('rejected the credentials');
    expect(JSON.stringify(status.body)).not.toContain(confluence.apiToken.replace('revoked-', ''));
    expect((await get('/v1/check?ticker=AAPL')).body.restricted).toBe(true);
  });
});
