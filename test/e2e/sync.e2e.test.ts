import { WorkflowFailedError } from '@temporalio/client';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { DEMO_PAGE_ID, DEMO_PAGE_STORAGE, DEMO_PAGE_TITLE } from '../../src/dev/demo-page.ts';
import { FAKE_FLAVOURS } from '../../src/dev/fake-confluence.ts';
import { instrument } from '../helpers/instruments.ts';
import { startPipeline, type Pipeline } from '../helpers/pipeline.ts';

/**
 * The whole pipeline on real parts: a real Temporal dev server, a real Postgres, confluence.js
 * talking HTTP to our fake Confluence, and the API over HTTP. Each test gets a pipeline of its
 * own (database, page, task queue), sets up the list it starts from, and passes alone.
 */
describe('sync pipeline end to end', () => {
  let p: Pipeline;
  beforeEach(async () => {
    p = await startPipeline();
  });
  afterEach(() => p.stop());
  const runSync = () => p.runSync();
  const get = (path: string) => p.get(path);
  const activeTickers = () => p.activeTickers();
  /** Puts the demo page (AAPL, MSFT, NVDA, TSLA) in Confluence and syncs it: a test's starting point. */
  const syncDemoPage = async () => {
    p.confluence.putPage({ id: DEMO_PAGE_ID, title: DEMO_PAGE_TITLE, storage: DEMO_PAGE_STORAGE });
    const result = await runSync();
    expect(result).toMatchObject({ status: 'succeeded', instrumentCount: 4 });
    return result;
  };

  it('answers 503 list_unavailable before any sync has succeeded, and status says never', async () => {
    const check = await get('/v1/check?ticker=AAPL');
    expect(check.status).toBe(503);
    expect(check.body.error.code).toBe('list_unavailable');
    const status = await get('/v1/sync/status');
    expect(status.body.status).toBe('never');
  });

  it('first sync loads the page into Postgres and checks answer from it', async () => {
    p.confluence.putPage({ id: DEMO_PAGE_ID, title: DEMO_PAGE_TITLE, storage: DEMO_PAGE_STORAGE });
    const result = await runSync();
    expect(result).toMatchObject({
      status: 'succeeded',
      added: 4,
      removed: 0,
      modified: 0,
      unchanged: 0,
      listVersion: 1,
    });
    expect(result.pages).toEqual([
      expect.objectContaining({ id: DEMO_PAGE_ID, title: DEMO_PAGE_TITLE, version: 1 }),
    ]);
    expect(await activeTickers()).toEqual(['AAPL', 'MSFT', 'NVDA', 'TSLA']);

    const aapl = await get('/v1/check?ticker=aapl');
    expect(aapl.status).toBe(200);
    expect(aapl.body).toMatchObject({
      restricted: true,
      severity: 'CRITICAL',
      stale: false,
      list_version: 1,
    });
    expect(aapl.body.matches).toEqual([
      instrument({ ticker: 'AAPL', isin: 'US0378331005', name: 'Apple Inc.', reason: 'Inside information' }),
    ]);
    const ibm = await get('/v1/check?ticker=IBM');
    expect(ibm.body).toMatchObject({ restricted: false, severity: 'NONE', matches: [] });
    const byIsin = await get('/v1/check?isin=us5949181045&side=buy');
    expect(byIsin.body).toMatchObject({
      restricted: true,
      matches: [expect.objectContaining({ ticker: 'MSFT' })],
    });
    // MSFT is buy-only: selling it is allowed.
    expect((await get('/v1/check?ticker=MSFT&side=sell')).body.restricted).toBe(false);

    const status = await get('/v1/sync/status');
    expect(status.body).toMatchObject({ status: 'ok', instrument_count: 4, stale: false, last_error: null });
    expect(status.body.pages).toEqual([expect.objectContaining({ id: DEMO_PAGE_ID, version: 1 })]);
  });

  it('an edit of the page deactivates a removed instrument and records a modification', async () => {
    const synced = await syncDemoPage();
    const edited = DEMO_PAGE_STORAGE.replace(/<tr><td><p>NVDA<\/p>.*?<\/tr>\n/, '').replace(
      'Research blackout',
      'Research blackout until results',
    );
    expect(edited).not.toContain('NVDA');
    const page = p.confluence.putPage({ id: DEMO_PAGE_ID, title: DEMO_PAGE_TITLE, storage: edited });

    const result = await runSync();
    expect(result).toMatchObject({
      added: 0,
      removed: 1,
      modified: 1,
      unchanged: 2,
      listVersion: synced.listVersion + 1,
    });
    expect(await activeTickers()).toEqual(['AAPL', 'MSFT', 'TSLA']);
    const nvda = await p.database.db('restricted_instruments').where({ ticker: 'NVDA' }).first();
    expect(nvda.is_active).toBe(false); // kept, never deleted

    const changes = await p.database
      .db('instrument_changes')
      .where({ run_id: result.runId })
      .orderBy('change');
    expect(changes.map((c) => [c.change, c.ticker, c.page_version])).toEqual([
      ['modified', 'TSLA', page.version],
      ['removed', 'NVDA', page.version],
    ]);
    expect(changes[0].before.reason).toBe('Research blackout');
    expect(changes[0].after.reason).toBe('Research blackout until results');

    expect((await get('/v1/check?ticker=NVDA')).body).toMatchObject({
      restricted: false,
      list_version: result.listVersion,
    });
  });

  it('a second run on an unchanged page writes nothing but its run record', async () => {
    const synced = await syncDemoPage();
    const before = {
      rows: await p.database.db('restricted_instruments').orderBy('id'),
      changes: await p.database.db('instrument_changes').count<{ count: number }[]>('* as count'),
    };
    const result = await runSync();
    expect(result).toMatchObject({
      added: 0,
      removed: 0,
      modified: 0,
      unchanged: synced.instrumentCount,
      listVersion: synced.listVersion,
    });
    expect(await p.database.db('restricted_instruments').orderBy('id')).toEqual(before.rows);
    expect(await p.database.db('instrument_changes').count('* as count')).toEqual(before.changes);
  });
});

/** Revoked credentials on each flavour: Confluence says it differently, the run fails the same way. */
describe.each(FAKE_FLAVOURS)('revoked credentials on %s', (flavour) => {
  let p: Pipeline;
  beforeAll(async () => {
    p = await startPipeline({}, { flavour });
  });
  afterAll(() => p.stop());

  it('fail the run without retrying, keep the cache, and status says so', async () => {
    p.confluence.putPage({ id: DEMO_PAGE_ID, title: DEMO_PAGE_TITLE, storage: DEMO_PAGE_STORAGE });
    await p.runSync();
    const cached = await p.activeTickers();
    expect(cached).toEqual(['AAPL', 'MSFT', 'NVDA', 'TSLA']);
    p.confluence.revokeToken();
    const requestsBefore = p.confluence.requests.length;
    const error = await p.runSync().catch((e: unknown) => e);
    expect(error).toBeInstanceOf(WorkflowFailedError);
    expect(((error as WorkflowFailedError).cause as any)?.cause?.type).toBe('ConfluenceAuthError');
    expect(p.confluence.requests.length - requestsBefore).toBe(1); // not retried
    expect(await p.activeTickers()).toEqual(cached);

    const status = await p.get('/v1/sync/status');
    expect(status.body.status).toBe('failed');
    expect(status.body.message).toMatch(/^Sync failed - using cached data from \d{4}-\d\d-\d\dT/);
    expect(status.body.last_error.code).toBe('ConfluenceAuthError');
    expect(status.body.last_error.message).toContain(
      flavour === 'datacenter'
        ? 'Confluence rejected the personal access token (401)'
        : `Confluence rejected the credentials for user ${p.confluence.username} (401)`,
    );
    expect(JSON.stringify(status.body)).not.toContain(p.confluence.apiToken.replace('revoked-', ''));
    expect((await p.get('/v1/check?ticker=AAPL')).body.restricted).toBe(true);
  });
});
