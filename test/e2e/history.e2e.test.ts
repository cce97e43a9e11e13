import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DEMO_PAGE_ID, DEMO_PAGE_STORAGE, DEMO_PAGE_TITLE } from '../../src/dev/demo-page.ts';
import { startPipeline, type Pipeline } from '../helpers/pipeline.ts';

/** "Was XYZ restricted on 3 March at 10:15?" — answered from the change log, for any instant. */
describe('the list at any past instant', () => {
  let p: Pipeline;
  const instants: Record<string, string> = {};
  const pause = () => new Promise((resolve) => setTimeout(resolve, 30));
  /**
   * Publishes `storage` as the demo page's next version, by `authorName`, and syncs it; returns an
   * instant after the sync.
   */
  const publishAndSync = async (storage: string, authorName: string) => {
    p.confluence.putPage({ id: DEMO_PAGE_ID, title: DEMO_PAGE_TITLE, storage, authorName });
    await p.runSync();
    await pause();
    return new Date().toISOString();
  };

  beforeAll(async () => {
    p = await startPipeline();
    instants.beforeFirstSync = new Date().toISOString();
    await pause();
    instants.afterFirst = await publishAndSync(DEMO_PAGE_STORAGE, 'Carol Compliance');
    await pause();
    const edited = DEMO_PAGE_STORAGE.replace(/<tr><td><p>NVDA<\/p>.*?<\/tr>\n/, '')
      .replace('<td><p>Buy only</p></td>', '<td><p>Full</p></td>')
      .replace(
        '</tbody>',
        '<tr><td><p>IBM</p></td><td><p></p></td><td><p>IBM Corp.</p></td><td><p>New mandate</p></td><td><p>Sell only</p></td></tr></tbody>',
      );
    instants.afterSecond = await publishAndSync(edited, 'Dan Desk');
  });
  afterAll(() => p.stop());

  it('answers a check as the service would have at that instant', async () => {
    const nvdaThen = await p.get(`/v1/check?ticker=NVDA&at=${instants.afterFirst}`);
    expect(nvdaThen.body).toMatchObject({ restricted: true, list_version: 1 });
    const nvdaNow = await p.get(`/v1/check?ticker=NVDA&at=${instants.afterSecond}`);
    expect(nvdaNow.body).toMatchObject({ restricted: false, list_version: 2 });
    // MSFT was buy-only at first (selling allowed), then fully restricted.
    expect((await p.get(`/v1/check?ticker=MSFT&side=sell&at=${instants.afterFirst}`)).body.restricted).toBe(
      false,
    );
    expect((await p.get(`/v1/check?ticker=MSFT&side=sell&at=${instants.afterSecond}`)).body.restricted).toBe(
      true,
    );
    expect((await p.get(`/v1/check?ticker=IBM&at=${instants.afterFirst}`)).body.restricted).toBe(false);
    expect((await p.get('/v1/check?ticker=IBM')).body).toMatchObject({ restricted: true, list_version: 2 });
  });

  it('answers 503 list_unavailable for an instant before the first successful sync', async () => {
    const early = await p.get(`/v1/check?ticker=AAPL&at=${instants.beforeFirstSync}`);
    expect(early).toMatchObject({ status: 503, body: { error: { code: 'list_unavailable' } } });
  });

  it('lists the instruments as they were, with inactive ones on request', async () => {
    const then = await p.get(`/v1/restricted?at=${instants.afterFirst}`);
    expect(then.body.count).toBe(4);
    expect(then.body.instruments.map((i: { ticker: string }) => i.ticker)).toEqual([
      'AAPL',
      'MSFT',
      'NVDA',
      'TSLA',
    ]);
    const now = await p.get('/v1/restricted?include_inactive=true');
    expect(
      now.body.instruments.map((i: { ticker: string; is_active: boolean }) => [i.ticker, i.is_active]),
    ).toEqual([
      ['AAPL', true],
      ['IBM', true],
      ['MSFT', true],
      ['NVDA', false],
      ['TSLA', true],
    ]);
    expect(now.body.instruments[0]).toEqual({
      ticker: 'AAPL',
      isin: 'US0378331005',
      name: 'Apple Inc.',
      reason: 'Inside information',
      restriction_type: 'full',
      effective_from: null,
      expires_at: null,
      is_active: true,
      source_page_id: DEMO_PAGE_ID,
    });
  });

  it('lists the changes newest first, with who edited the page and which run applied them', async () => {
    const { body } = await p.get(`/v1/restricted/changes?since=${instants.afterFirst}`);
    expect(body.changes.map((c: { change: string; ticker: string }) => [c.change, c.ticker]).sort()).toEqual([
      ['added', 'IBM'],
      ['modified', 'MSFT'],
      ['removed', 'NVDA'],
    ]);
    const msft = body.changes.find((c: { ticker: string }) => c.ticker === 'MSFT');
    expect(msft).toMatchObject({
      page_id: DEMO_PAGE_ID,
      page_version: 2,
      edited_by: 'Dan Desk',
      before: { restriction_type: 'buy_only' },
      after: { restriction_type: 'full' },
    });
    const all = (await p.get('/v1/restricted/changes?limit=100')).body.changes;
    expect(all).toHaveLength(7);
    expect(all.at(-1)).toMatchObject({ change: 'added', edited_by: 'Carol Compliance', page_version: 1 });
  });

  it('lists the runs newest first with their counts and a link to the Temporal UI', async () => {
    const { body } = await p.get('/v1/sync/runs?limit=5');
    expect(
      body.runs.map((r: { added: number; removed: number; modified: number }) => [
        r.added,
        r.removed,
        r.modified,
      ]),
    ).toEqual([
      [1, 1, 1],
      [4, 0, 0],
    ]);
    expect(body.runs[0].temporal_ui_url).toBe(
      `http://localhost:8233/namespaces/default/workflows/${body.runs[0].workflow_id}/${body.runs[0].run_id}/history`,
    );
  });

  it.each([
    ['/v1/check?ticker=AAPL&at=yesterday', 'invalid_at'],
    ['/v1/check?ticker=AAPL&at=2026-13-45T99:00:00Z', 'invalid_at'],
    ['/v1/restricted/changes?since=soon', 'invalid_since'],
    ['/v1/restricted/changes?limit=0', 'invalid_limit'],
    ['/v1/sync/runs?limit=lots', 'invalid_limit'],
  ])('%s → 400 %s', async (path, code) => {
    expect(await p.get(path)).toMatchObject({ status: 400, body: { error: { code } } });
  });
});
