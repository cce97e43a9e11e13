import { existsSync } from 'node:fs';
import { mkdir } from 'node:fs/promises';
import { fileURLToPath } from 'node:url';
import { chromium, type Browser, type BrowserContext, type Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DEMO_PAGE_ID, DEMO_PAGE_STORAGE, DEMO_PAGE_TITLE } from '../../src/dev/demo-page.ts';
import { startPipeline, type Pipeline } from '../helpers/pipeline.ts';
import { waitFor } from '../helpers/wait.ts';

const CHROMIUM = '/usr/bin/chromium';
const SCREENSHOTS = fileURLToPath(new URL('../../test-results/screenshots/', import.meta.url));

const AMZN_ROW =
  '<tr><td><p>AMZN</p></td><td><p>US0231351067</p></td><td><p>Amazon.com, Inc.</p></td><td><p>Pending M&amp;A advisory</p></td><td><p>Full</p></td></tr>\n</tbody>';
const EDITED_PAGE = DEMO_PAGE_STORAGE.replace(
  '<td><p>Inside information</p></td>',
  '<td><p>Deal team wall-crossed</p></td>',
).replace('</tbody>', AMZN_ROW);
/** Only AAPL left: four of five instruments would go, so the removal guard holds the run. */
const GUTTED_PAGE = EDITED_PAGE.replace(/<tr><td><p>(MSFT|TSLA|NVDA|AMZN)<\/p>.*?<\/tr>\n/g, '');

/** The dashboard as a compliance officer sees it: real headless Chromium against the real stack. */
describe('dashboard in a browser', () => {
  let p: Pipeline;
  let browser: Browser;
  let context: BrowserContext;
  let page: Page;

  beforeAll(async () => {
    if (!existsSync(CHROMIUM)) {
      throw new Error(
        `Chromium is not installed at ${CHROMIUM}: the dashboard browser test needs it (Debian: apt-get install -y chromium)`,
      );
    }
    await mkdir(SCREENSHOTS, { recursive: true });
    p = await startPipeline();
    p.confluence.putPage({ id: DEMO_PAGE_ID, title: DEMO_PAGE_TITLE, storage: DEMO_PAGE_STORAGE });
    await p.runSync();
    p.confluence.putPage({
      id: DEMO_PAGE_ID,
      title: DEMO_PAGE_TITLE,
      storage: EDITED_PAGE,
      authorName: 'Carol Compliance',
    });
    await p.runSync();
    browser = await chromium.launch({
      executablePath: CHROMIUM,
      args: [
        '--headless',
        '--no-sandbox',
        '--disable-gpu',
        '--disable-background-networking',
        '--disable-component-update',
        '--disable-sync',
        '--no-first-run',
      ],
    });
    context = await browser.newContext({ viewport: { width: 1366, height: 900 } });
    page = await context.newPage();
  });
  afterAll(async () => {
    await context?.close();
    await browser?.close();
    await p?.stop();
  });

  const shoot = (state: string) => page.screenshot({ path: `${SCREENSHOTS}${state}.png`, fullPage: true });

  async function signIn(token: string) {
    await page.goto(`${p.apiUrl}/`);
    expect(new URL(page.url()).pathname).toBe('/sign-in');
    await page.getByLabel('API token (read or admin)').fill(token);
    await page.getByRole('button', { name: 'Sign in' }).click();
    await page.waitForURL(`${p.apiUrl}/`);
  }

  const listRows = () => page.locator('section[aria-labelledby="list-h"] tbody tr');

  it('healthy: signs in through the form and shows status, the list, runs and changes', async () => {
    await signIn(p.tokens.read);
    expect(await page.locator('header.top .who').innerText()).toContain('Signed in as reader (read only)');
    expect(await page.locator('.banner.ok').innerText()).toContain('Synced 5 instruments');
    expect(await page.locator('.banner').count()).toBe(1);
    expect(await listRows().count()).toBe(5);
    await expect(page.getByRole('button', { name: 'Sync now' }).count()).resolves.toBe(0);
    const changes = await page.locator('section.changes').innerText();
    expect(changes).toContain('reason: Inside information → Deal team wall-crossed');
    expect(changes).toContain('Carol Compliance');
    const runs = page.locator('section[aria-labelledby="runs-h"] tbody tr');
    expect(await runs.count()).toBe(2);
    expect(await runs.first().getByRole('link', { name: 'Temporal UI' }).getAttribute('href')).toMatch(
      /^http:\/\/localhost:8233\/namespaces\/default\/workflows\//,
    );
    await shoot('healthy');

    await page.getByLabel('Search by ticker, ISIN or name').fill('micro');
    await page.getByRole('button', { name: 'Search' }).click();
    await page.waitForURL(/\?q=micro$/);
    expect(await listRows().count()).toBe(1);
    expect(await listRows().first().innerText()).toContain('MSFT');
  });

  it('failed sync: says so in a banner and keeps showing the cached list', async () => {
    p.confluence.deletePage(DEMO_PAGE_ID);
    await expect(p.runSync()).rejects.toThrow();
    await page.goto(`${p.apiUrl}/`);
    const banner = await page.locator('.banner.failed').innerText();
    expect(banner).toMatch(/^Sync failed - using cached data from \d{4}-\d\d-\d\dT[\d:.]+Z$/m);
    expect(banner).toContain('ConfluenceNotFoundError');
    expect(await listRows().count()).toBe(5);
    await shoot('failed');
  });

  it('awaiting approval: shows the held reason; an admin signs in and approves, and the run completes', async () => {
    p.confluence.putPage({
      id: DEMO_PAGE_ID,
      title: DEMO_PAGE_TITLE,
      storage: GUTTED_PAGE,
      authorName: 'Carol Compliance',
    });
    const handle = await p.startSync();
    await waitFor('the run to be held', async () =>
      (await p.get('/v1/sync/status')).body.status === 'awaiting_approval' ? true : undefined,
    );

    await page.goto(`${p.apiUrl}/`);
    const held = page.locator('.banner.held');
    expect(await held.innerText()).toContain('Sync awaiting approval: nothing has been applied');
    expect(await held.innerText()).toMatch(/Held by the removal guard: .*remove 4/);
    expect(await held.innerText()).toContain('An admin must approve or reject this run');
    expect(await page.getByRole('button', { name: /^Approve/ }).count()).toBe(0);

    await page.getByRole('button', { name: 'Sign out' }).click();
    await page.waitForURL(`${p.apiUrl}/sign-in`);
    expect(await page.locator('.flash').innerText()).toBe('Signed out.');
    await signIn(p.tokens.admin);
    expect(await page.locator('header.top .who').innerText()).toContain('Signed in as ops-alice (admin)');
    await expect(page.getByRole('button', { name: 'Sync now' }).count()).resolves.toBe(1);
    await expect(page.getByRole('button', { name: /^Reject/ }).count()).resolves.toBe(1);
    await shoot('awaiting-approval');

    await page.getByRole('button', { name: /^Approve/ }).click();
    await page.waitForURL(`${p.apiUrl}/`);
    expect(await page.locator('.flash').innerText()).toBe(
      `Run ${handle.workflowId} approved by ops-alice: its changes are being applied.`,
    );
    expect(await handle.result()).toMatchObject({ status: 'succeeded', removed: 4 });

    await page.goto(`${p.apiUrl}/`);
    expect(await page.locator('.banner.ok').innerText()).toMatch(/^Synced 1 instrument$/m);
    expect(await listRows().count()).toBe(1);
    const latestRun = await page.locator('section[aria-labelledby="runs-h"] tbody tr').first().innerText();
    expect(latestRun).toContain('approved by ops-alice');
    await shoot('approved');
  });
});
