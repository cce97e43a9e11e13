import { join } from 'node:path';
import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { DEMO_PAGE_ID, DEMO_PAGE_STORAGE, DEMO_PAGE_TITLE } from '../../src/dev/demo-page.ts';
import { launchChromium, SCREENSHOTS } from '../helpers/browser.ts';
import { startPipeline, type Pipeline } from '../helpers/pipeline.ts';

/** As long as Playwright waits for an element: the UI renders when its queries answer, later on a busy machine. */
const UI_WAIT_MS = 30_000;

/** The demo page with every row gone: the removal guard holds the run. */
const EMPTIED_PAGE = DEMO_PAGE_STORAGE.replace(/<tr><td><p>[A-Z]+<\/p>.*?<\/tr>\n/g, '');

/**
 * What an operator sees of a run in the Temporal UI (the dev server's UI 2.42, in real
 * Chromium): the run's summary and details, and every step's summary on the timeline.
 */
describe('runs in the Temporal UI', () => {
  let p: Pipeline;
  let browser: Browser;
  let page: Page;

  beforeAll(async () => {
    browser = await launchChromium('the Temporal UI browser test');
    p = await startPipeline({ TEMPORAL_UI_URL: inject('temporalUiUrl') });
    page = await (await browser.newContext({ viewport: { width: 1400, height: 1000 } })).newPage();
  });
  afterAll(async () => {
    await browser?.close();
    await p?.stop();
  });

  /** Opens the run as the dashboard and /v1/sync/runs link it, and waits for its timeline. */
  async function openRun(temporalUiUrl: string, workflowId: string) {
    expect(temporalUiUrl.startsWith(inject('temporalUiUrl'))).toBe(true);
    await page.goto(temporalUiUrl);
    await page.getByRole('heading', { name: workflowId }).waitFor();
    await page.getByRole('heading', { name: 'Event History' }).waitFor();
  }

  async function userMetadata() {
    await page
      .getByRole('link', { name: 'User Metadata' })
      .or(page.getByRole('tab', { name: 'User Metadata' }))
      .first()
      .click();
    await page.getByText('Events with Metadata').waitFor();
    // The summary and details are Markdown, rendered in sandboxed frames of their own.
    const rendered = async () => {
      const frames = page.frames().filter((frame) => frame !== page.mainFrame());
      const texts = await Promise.all(
        frames.map((frame) =>
          frame
            .locator('body')
            .innerText()
            .catch(() => ''),
        ),
      );
      return texts.filter((text) => text.trim() !== '');
    };
    await expect.poll(rendered, { timeout: UI_WAIT_MS }).toHaveLength(2);
    return [await page.locator('main').innerText(), ...(await rendered())].join('\n');
  }

  it('a finished run says who started it, which pages, and what each step did', async () => {
    p.confluence.putPage({ id: DEMO_PAGE_ID, title: DEMO_PAGE_TITLE, storage: DEMO_PAGE_STORAGE });
    const { body: run } = await p.post('/v1/sync?wait=true');
    expect(run).toMatchObject({ status: 'succeeded', requested_by: 'ops-alice' });

    await openRun(run.temporal_ui_url, run.workflow_id);
    const steps = [
      'startRun • Record the run (skipped if another sync is in progress)',
      'fetchPages • Fetch the list page(s) (none stored yet: every body is downloaded)',
      `parsePages • Parse 1 page (${DEMO_PAGE_ID} v1)`,
      'diffList • Compare 4 instruments with the empty cache (no list yet)',
      'applyDiff • Apply +4 −0 ~0 → list v1',
    ];
    // Playwright waits for each to be on the page (30 s at most): the UI renders the timeline when
    // its queries answer, later on a busy machine.
    for (const step of steps) await page.getByText(step).first().waitFor({ state: 'attached' });
    await page.screenshot({ path: join(SCREENSHOTS, 'temporal-ui-run.png') });

    const metadata = await userMetadata();
    expect(metadata).toContain('Sync requested by ops-alice');
    expect(metadata).toContain('Started by ops-alice (manual).');
    expect(metadata).toContain(`page ${DEMO_PAGE_ID}`);
    expect(metadata).toContain('Starts from no list: no sync has succeeded yet.');
    for (const step of steps) expect(metadata).toContain(step.split(' • ')[1]);
    await page.screenshot({ path: join(SCREENSHOTS, 'temporal-ui-run-metadata.png') });
  });

  it('a held run shows the wait for an operator, with the reason', async () => {
    p.confluence.putPage({ id: DEMO_PAGE_ID, title: DEMO_PAGE_TITLE, storage: DEMO_PAGE_STORAGE });
    await p.post('/v1/sync?wait=true');
    p.confluence.putPage({ id: DEMO_PAGE_ID, title: DEMO_PAGE_TITLE, storage: EMPTIED_PAGE });
    const { body: held } = await p.post('/v1/sync?wait=true');
    expect(held.status).toBe('awaiting_approval');
    try {
      await openRun(held.temporal_ui_url, held.workflow_id);
      const reason = 'the sync would remove every instrument on the list (4)';
      await page
        .getByText(`Wait up to 24 h for an operator's decision: ${reason}`)
        .first()
        .waitFor({ state: 'attached' });
      expect(
        await page.getByText(`holdForApproval • Mark the run held for an operator: ${reason}`).count(),
      ).toBeGreaterThan(0);
      await page.screenshot({ path: join(SCREENSHOTS, 'temporal-ui-held.png') });
    } finally {
      await p.post(`/v1/sync/runs/${encodeURIComponent(held.workflow_id)}/reject`);
      await p.client.workflow
        .getHandle(held.workflow_id, held.run_id)
        .result()
        .catch(() => undefined);
    }
  });

  it('a failed run says what failed, in words', async () => {
    p.confluence.deletePage(DEMO_PAGE_ID);
    const { body: failed } = await p.post('/v1/sync?wait=true');
    expect(failed.status).toBe('failed');
    await openRun(failed.temporal_ui_url, failed.workflow_id);
    await page
      .getByText(/^markRunFailed • Record the failure: ConfluenceNotFoundError: /)
      .first()
      .waitFor({ state: 'attached' });
    await page.screenshot({ path: join(SCREENSHOTS, 'temporal-ui-failed.png') });
  });
});
