import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { createCheckIndex } from '../../src/api/check-index.ts';
import { createDb } from '../../src/db/knex.ts';
import { createKnexStores } from '../../src/db/stores.ts';
import { DEMO_PAGE_ID, DEMO_PAGE_STORAGE, DEMO_PAGE_TITLE } from '../../src/dev/demo-page.ts';
import { startPipeline, type Pipeline } from '../helpers/pipeline.ts';
import { waitFor } from '../helpers/wait.ts';

/** The check path answers from memory; an apply reaches it by LISTEN/NOTIFY, not by polling. */
describe('check index', () => {
  let p: Pipeline;
  beforeAll(async () => {
    p = await startPipeline();
  });
  afterAll(() => p.stop());

  it('knows there is no list before the first sync, and the API answers 503', async () => {
    expect(p.checkIndex.snapshot()).toMatchObject({ listVersion: null, size: 0 });
    expect((await p.get('/v1/check?ticker=AAPL')).status).toBe(503);
    expect((await p.get('/readyz')).body).toMatchObject({ ready: false, database: 'ok', list_version: null });
  });

  it('hears of an apply by notification (polling every minute would be too slow to pass)', async () => {
    p.confluence.putPage({ id: DEMO_PAGE_ID, title: DEMO_PAGE_TITLE, storage: DEMO_PAGE_STORAGE });
    const handle = await p.startSync();
    const result = await handle.result(); // no forced refresh here
    await waitFor(
      'the index to load the applied list',
      async () => (p.checkIndex.snapshot()?.listVersion === result.listVersion ? true : undefined),
      5_000,
    );
    expect(p.checkIndex.snapshot()?.size).toBe(4);
    expect((await p.get('/v1/check?ticker=AAPL')).body).toMatchObject({ restricted: true, list_version: 1 });
    expect((await p.get('/readyz')).body).toMatchObject({
      ready: true,
      list_version: 1,
      instrument_count: 4,
    });
  });

  it('a process started later loads the current list before it answers', async () => {
    const late = createCheckIndex({ ...p.stores, pollMs: 60_000 });
    await late.start();
    try {
      const snapshot = late.snapshot()!;
      expect(snapshot.listVersion).toBe(1);
      expect(
        late.candidates(snapshot, { ticker: 'MSFT', isin: null }).map((row) => row.restriction_type),
      ).toEqual(['buy_only']);
      expect(
        late.candidates(snapshot, { ticker: null, isin: 'US0378331005' }).map((row) => row.ticker),
      ).toEqual(['AAPL']);
      expect(late.candidates(snapshot, { ticker: 'IBM', isin: null })).toEqual([]);
    } finally {
      await late.stop();
    }
  });

  it('keeps answering from the last list when the database is unreachable', async () => {
    const own = createDb(p.database.url, { min: 0, max: 2 });
    const admin = createDb(inject('databaseUrl'), { min: 0, max: 1 });
    const name = new URL(p.database.url).pathname.slice(1);
    const index = createCheckIndex({ ...createKnexStores(own, p.database.url), pollMs: 60_000 });
    await index.start();
    const loaded = index.snapshot();
    try {
      await admin.raw(`ALTER DATABASE ${name} ALLOW_CONNECTIONS false`);
      await admin.raw('SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = ?', [name]);
      await expect(index.refresh()).rejects.toThrow();
      expect(index.snapshot()).toBe(loaded);
      expect(index.candidates(loaded!, { ticker: 'AAPL', isin: null })).toHaveLength(1);
    } finally {
      await admin.raw(`ALTER DATABASE ${name} ALLOW_CONNECTIONS true`);
      await index.stop();
      await own.destroy();
      await admin.destroy();
    }
  });
});
