import { WorkflowFailedError } from '@temporalio/client';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DEMO_PAGE_ID, DEMO_PAGE_STORAGE, DEMO_PAGE_TITLE } from '../../src/dev/demo-page.ts';
import { formClient, squash, textOf } from '../browser/form-client.ts';
import { startPipeline, type Pipeline } from '../helpers/pipeline.ts';

const AMZN_ROW =
  '<tr><td><p>AMZN</p></td><td><p>US0231351067</p></td><td><p>Amazon.com, Inc.</p></td><td><p>Pending M&amp;A advisory</p></td><td><p>Full</p></td></tr>\n</tbody>';

/** The demo page (4 instruments) stating its own count. */
const withCount = (count: number, storage = DEMO_PAGE_STORAGE) =>
  `<p>Instrument count: ${count}</p>\n${storage}`;

/** A page whose checksum does not hold is refused whole; once Compliance corrects it, the sync goes on. */
describe('the page checksum end to end', () => {
  let p: Pipeline;
  beforeAll(async () => {
    p = await startPipeline();
  });
  afterAll(() => p.stop());

  it('refuses a page that reads otherwise than it says, keeps the cache, says so; and recovers when corrected', async () => {
    p.confluence.putPage({ id: DEMO_PAGE_ID, title: DEMO_PAGE_TITLE, storage: withCount(4) });
    expect(await p.runSync()).toMatchObject({ status: 'succeeded', added: 4, listVersion: 1 });

    // Compliance adds AMZN, but the row is written so that it does not read (no ticker, a broken ISIN),
    // and the count says 5: the sync must not apply a list that silently lacks it.
    const broken = AMZN_ROW.replace('<p>AMZN</p>', '<p></p>').replace('US0231351067', 'US0231351068');
    const saved = p.confluence.putPage({
      id: DEMO_PAGE_ID,
      title: DEMO_PAGE_TITLE,
      storage: withCount(5, DEMO_PAGE_STORAGE.replace('</tbody>', broken)),
    });
    const failure = await p.runSync().then(
      () => undefined,
      (error: unknown) => error,
    );
    expect(failure).toBeInstanceOf(WorkflowFailedError);
    expect(((failure as WorkflowFailedError).cause as { cause?: { type?: string } }).cause?.type).toBe(
      'ChecksumMismatch',
    );
    const mismatch = `page ${DEMO_PAGE_ID} "${DEMO_PAGE_TITLE}" v${saved.version} says it lists 5 instruments ("Instrument count: 5", in a paragraph) but 4 were read from it; nothing applied`;
    const { body: status } = await p.get('/v1/sync/status');
    expect(status).toMatchObject({
      status: 'failed',
      last_error: { code: 'ChecksumMismatch', message: mismatch },
    });
    expect(status.message).toMatch(/^Sync failed - using cached data from /);
    expect(await p.activeTickers()).toEqual(['AAPL', 'MSFT', 'NVDA', 'TSLA']);
    expect((await p.get('/v1/check?ticker=AAPL')).body).toMatchObject({ restricted: true, list_version: 1 });

    // The run's detail has the warnings that explain the mismatch, and the page's count.
    const [run] = (await p.get('/v1/sync/runs?limit=1')).body.runs;
    const { body: detail } = await p.get(`/v1/sync/runs/${encodeURIComponent(run.workflow_id)}`);
    expect(detail.checksums).toEqual([
      {
        page_id: DEMO_PAGE_ID,
        expected: 5,
        found: 4,
        holds: false,
        text: 'Instrument count: 5',
        where: 'a paragraph',
      },
    ]);
    expect(detail.warnings).toContainEqual(
      expect.objectContaining({ page: DEMO_PAGE_ID, table: 1, row: 6, code: 'row_without_identifier' }),
    );
    // The dashboard says it where people look: the failure, and what the run read.
    const browser = formClient(p.apiUrl);
    await browser.signIn(p.tokens.read);
    const page = await browser.get('/');
    expect(textOf(page.text)).toContain(`ChecksumMismatch: ${mismatch}`);
    expect(squash(page.text)).toContain('<h2 id="reading-h">What the latest run read</h2>');
    expect(textOf(page.text)).toContain(
      `Page ${DEMO_PAGE_ID} says “Instrument count: 5” (in a paragraph): 4 instruments were read, it does not hold; the run applied nothing.`,
    );
    expect(textOf(page.text)).toContain('row has neither a ticker nor a valid ISIN; row skipped');

    // Compliance corrects the row; the count holds and the sync applies it.
    p.confluence.putPage({
      id: DEMO_PAGE_ID,
      title: DEMO_PAGE_TITLE,
      storage: withCount(5, DEMO_PAGE_STORAGE.replace('</tbody>', AMZN_ROW)),
    });
    expect(await p.runSync()).toMatchObject({ status: 'succeeded', added: 1, listVersion: 2 });
    expect(await p.activeTickers()).toEqual(['AAPL', 'AMZN', 'MSFT', 'NVDA', 'TSLA']);
    expect((await p.get('/v1/sync/status')).body).toMatchObject({ status: 'ok', last_error: null });
  });
});
