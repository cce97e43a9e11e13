import { WorkflowFailedError } from '@temporalio/client';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { DEMO_PAGE_ID, DEMO_PAGE_STORAGE, DEMO_PAGE_TITLE } from '../../src/dev/demo-page.ts';
import { FAKE_FLAVOURS } from '../../src/dev/fake-confluence.ts';
import { startPipeline, type Pipeline } from '../helpers/pipeline.ts';
import { waitFor } from '../helpers/wait.ts';

/**
 * What each failure does to a run, to the cache and to the status a person reads, on each
 * Confluence flavour. A parse error is the same on all of them (Cloud only); 5xx and 429 reach
 * confluence.js the same way from the gateway as from the site (Cloud and Data Center).
 */
describe.each(FAKE_FLAVOURS)('sync failures on %s', (flavour) => {
  let p: Pipeline;
  const cached = ['AAPL', 'MSFT', 'NVDA', 'TSLA'];

  beforeAll(async () => {
    p = await startPipeline({}, { flavour });
    p.confluence.putPage({ id: DEMO_PAGE_ID, title: DEMO_PAGE_TITLE, storage: DEMO_PAGE_STORAGE });
    await p.runSync();
  });
  afterAll(() => p.stop());
  beforeEach(() => {
    p.confluence.putPage({ id: DEMO_PAGE_ID, title: DEMO_PAGE_TITLE, storage: DEMO_PAGE_STORAGE });
  });

  async function failureType(run: Promise<unknown>): Promise<string | undefined> {
    const error = await run.then(
      () => undefined,
      (e: unknown) => e,
    );
    expect(error).toBeInstanceOf(WorkflowFailedError);
    return ((error as WorkflowFailedError).cause as { cause?: { type?: string } } | undefined)?.cause?.type;
  }

  async function expectFailedStatus(code: string) {
    const status = await p.get('/v1/sync/status');
    expect(status.body.status).toBe('failed');
    expect(status.body.message).toMatch(/^Sync failed - using cached data from \d{4}-\d\d-\d\dT[\d:.]+Z$/);
    expect(status.body.last_error.code).toBe(code);
    expect(status.body.instrument_count).toBe(cached.length);
    expect(await p.activeTickers()).toEqual(cached);
    expect((await p.get('/v1/check?ticker=AAPL')).body.restricted).toBe(true);
  }

  it('a deleted page fails the run as not found (never an empty list), without retrying', async () => {
    p.confluence.deletePage(DEMO_PAGE_ID);
    expect(await failureType(p.runSync())).toBe('ConfluenceNotFoundError');
    await expectFailedStatus('ConfluenceNotFoundError');
  });

  if (flavour === 'cloud')
    it('a page reformatted so that no list table remains fails the run with a parse error', async () => {
      p.confluence.putPage({
        id: DEMO_PAGE_ID,
        title: DEMO_PAGE_TITLE,
        storage:
          '<p>The list has moved to a spreadsheet.</p><table><tbody><tr><th>Owner</th><th>Since</th></tr><tr><td>Compliance</td><td>2026</td></tr></tbody></table>',
      });
      expect(await failureType(p.runSync())).toBe('ParseError');
      await expectFailedStatus('ParseError');
      const run = await p.database.db('sync_runs').orderBy('started_at', 'desc').first();
      expect(run.error).toMatch(/page 163841 "Restricted Instruments List" v\d+: /);
    });

  if (flavour !== 'cloud-scoped')
    it('Confluence 503s are retried with backoff and the run then succeeds', async () => {
      // A version the cache has not stored (a deleted page comes back as v1), so the body is fetched.
      p.confluence.putPage({ id: DEMO_PAGE_ID, title: DEMO_PAGE_TITLE, storage: DEMO_PAGE_STORAGE });
      p.confluence.fail({ status: 503, times: 2, kind: 'page' });
      const pageRequests = () =>
        p.confluence.requests.filter((r) => r.kind === 'page' && r.path.includes(DEMO_PAGE_ID)).length;
      const retried = async () => {
        const text = await (await fetch(`${p.apiUrl}/metrics`)).text();
        const line = text
          .split('\n')
          .find((l) =>
            l.startsWith(
              'rls_sync_step_failures_total{step="fetchPages",type="ConfluenceUnavailableError",retried="true"}',
            ),
          );
        return Number(line?.split(' ').pop() ?? 0);
      };
      const before = pageRequests();
      const retriedBefore = await retried();
      const result = await p.runSync();
      expect(result.status).toBe('succeeded');
      expect(pageRequests() - before).toBe(3); // two 503s, then the answer
      expect((await p.get('/v1/sync/status')).body.status).toBe('ok');
      // Each failed attempt is counted by step and failure type.
      expect((await retried()) - retriedBefore).toBe(2);
    });

  // How the status reads while a step retries does not depend on the flavour: once is enough.
  if (flavour === 'cloud')
    it('while Confluence answers 503 the status says the run is retrying, within 10 s, and why', async () => {
      p.confluence.fail({ status: 503, times: 3, kind: ['versions', 'page'] });
      const firstFailureAfter = Date.now();
      const handle = await p.startSync();
      const retrying = await waitFor(
        'the status to name the failure being retried',
        async () => {
          const { body } = await p.get('/v1/sync/status');
          return body.message.startsWith('Sync retrying') ? body : undefined;
        },
        15_000,
        50,
      );
      const firstFailure = p.confluence.requests.find(
        (r) => r.at >= firstFailureAfter && (r.kind === 'versions' || r.kind === 'page'),
      )!;
      const ms = Date.now() - firstFailure.at;
      console.log(`[status] the status named the 503 ${ms} ms after Confluence first answered it`);
      expect(ms).toBeLessThan(10_000);
      expect(retrying).toMatchObject({
        status: 'running',
        last_error: {
          code: 'ConfluenceUnavailableError',
          message: `get versions of pages ${DEMO_PAGE_ID}: Confluence answered 503 Service Unavailable`,
          attempt: expect.any(Number),
          next_retry_at: expect.stringMatching(/^\d{4}-\d\d-\d\dT/),
        },
      });
      expect(retrying.message).toMatch(
        new RegExp(
          `^Sync retrying - get versions of pages ${DEMO_PAGE_ID}: Confluence answered 503 Service Unavailable \\(attempt \\d+\\); checks keep using cached data from \\d{4}-`,
        ),
      );
      expect(retrying.last_error.attempt).toBeGreaterThanOrEqual(2);
      // The retries succeed; the run ends well and the status forgets the failure.
      await handle.result();
      const { body: after } = await p.get('/v1/sync/status');
      expect(after).toMatchObject({ status: 'ok', last_error: null });
    });

  if (flavour !== 'cloud-scoped')
    it("a storm of 429s is retried after the server's Retry-After each time, then succeeds", async () => {
      p.confluence.fail({
        status: 429,
        headers: { 'retry-after': '1' },
        times: 3,
        kind: ['versions', 'page'],
      });
      const started = Date.now();
      const result = await p.runSync();
      expect(result.status).toBe('succeeded');
      // Three waits of the server's 1 s, not the 1 s, 2 s, 4 s backoff (which would take 7 s).
      expect(Date.now() - started).toBeGreaterThanOrEqual(3000);
      expect(Date.now() - started).toBeLessThan(6_500);
    });

  it('after every failure above, the next run recovers and status reads ok again', async () => {
    p.confluence.putPage({
      id: DEMO_PAGE_ID,
      title: DEMO_PAGE_TITLE,
      storage: DEMO_PAGE_STORAGE.replace('Advisory mandate', 'Advisory mandate (renewed)'),
    });
    const result = await p.runSync();
    expect(result).toMatchObject({ status: 'succeeded', modified: 1 });
    const status = (await p.get('/v1/sync/status')).body;
    expect(status).toMatchObject({ status: 'ok', last_error: null, instrument_count: 4, stale: false });
    expect(status.message).toBe('Synced 4 instruments');
  });
});
