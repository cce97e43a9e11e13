import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { dashboardPage, type Status } from '../../src/api/dashboard/render.ts';
import { DEMO_PAGE_ID, DEMO_PAGE_STORAGE, DEMO_PAGE_TITLE } from '../../src/dev/demo-page.ts';
import { formClient, squash, textOf } from '../browser/form-client.ts';
import { startPipeline, type Pipeline } from '../helpers/pipeline.ts';

const HOSTILE_ROW = `<tr><td><p>EVIL</p></td><td><p></p></td><td><p>&lt;script&gt;alert("name")&lt;/script&gt;</p></td><td><p>&lt;img src=x onerror=alert(1)&gt; &amp; "quotes"</p></td><td><p>Full</p></td></tr>\n</tbody>`;

/** What the dashboard shows a compliance officer, over plain HTTP (the browser test looks at it rendered). */
describe('dashboard page', () => {
  let p: Pipeline;
  let browser: ReturnType<typeof formClient>;
  /** The page's HTML with whitespace collapsed. */
  const page = async (path = '/') => squash((await browser.get(path)).text);
  beforeAll(async () => {
    p = await startPipeline();
    browser = formClient(p.apiUrl);
    await browser.signIn(p.tokens.read);
  });
  afterAll(() => p?.stop());

  it('before the first successful sync, says no list is loaded (never that nothing is restricted)', async () => {
    const response = await browser.get('/');
    expect(response.status).toBe(200);
    const text = textOf(response.text);
    expect(text).toContain('No list is loaded yet: no sync has succeeded');
    expect(text).toContain('this does not mean that nothing is restricted');
    expect(text).not.toMatch(/0 instruments? restricted|The list is empty/);
  });

  it('sends security headers and no script', async () => {
    const response = await browser.get('/');
    const csp = response.headers.get('content-security-policy') ?? '';
    expect(csp).toContain("default-src 'none'");
    expect(csp).toContain("style-src 'self'");
    expect(csp).toContain("frame-ancestors 'none'");
    expect(csp).not.toContain('unsafe-inline');
    expect(response.headers.get('x-frame-options')).toBe('DENY');
    expect(response.headers.get('x-content-type-options')).toBe('nosniff');
    expect(response.headers.get('referrer-policy')).toBe('same-origin');
    expect(response.headers.get('cache-control')).toBe('no-store');
    expect(response.text).not.toMatch(/<script|\son\w+=/i);
    const css = await browser.get('/dashboard.css');
    expect(css.status).toBe(200);
    expect(css.headers.get('content-type')).toMatch(/^text\/css/);
  });

  it('shows the list, searchable by ticker, ISIN or name, case-insensitively', async () => {
    p.confluence.putPage({ id: DEMO_PAGE_ID, title: DEMO_PAGE_TITLE, storage: DEMO_PAGE_STORAGE });
    await p.runSync();
    const all = await page();
    expect(textOf(all)).toContain('4 instruments restricted, as of');
    for (const ticker of ['AAPL', 'MSFT', 'NVDA', 'TSLA'])
      expect(all).toContain(`<td class="mono">${ticker}</td>`);
    expect(all).toContain('Buy only: buying restricted, selling allowed');

    const byName = await page('/?q=apple');
    expect(textOf(byName)).toContain('1 of 4 instruments match “apple”');
    expect(byName).toContain('<td class="mono">AAPL</td>');
    expect(byName).not.toContain('<td class="mono">MSFT</td>');
    expect(await page('/?q=us5949')).toContain('<td class="mono">MSFT</td>');
    expect(textOf(await page('/?q=tsl'))).toContain('1 of 4 instruments match “tsl”');
    expect(textOf(await page('/?q=nothing-like-this'))).toContain(
      'No instrument on the list matches “nothing-like-this”',
    );
    expect(await page('/?q=%3Cb%3Ex')).toContain('value="&lt;b&gt;x"');
  });

  it('escapes everything that comes from the page', async () => {
    p.confluence.putPage({
      id: DEMO_PAGE_ID,
      title: '<i>Restricted</i> "list"',
      storage: DEMO_PAGE_STORAGE.replace('</tbody>', HOSTILE_ROW),
      authorName: '<b>Mallory</b>',
    });
    await p.runSync();
    const html = await page();
    expect(html).toContain('&lt;script&gt;alert(&quot;name&quot;)&lt;/script&gt;');
    expect(html).toContain('&lt;img src=x onerror=alert(1)&gt; &amp; &quot;quotes&quot;');
    expect(html).toContain('&lt;i&gt;Restricted&lt;/i&gt; &quot;list&quot;');
    expect(html).toContain('&lt;b&gt;Mallory&lt;/b&gt;');
    expect(html).not.toMatch(/<script|<img|<i>Restricted|<b>Mallory/);
  });

  it('shows recent changes with who edited the page, its version, and before/after of modifications', async () => {
    const edited = DEMO_PAGE_STORAGE.replace(
      '<td><p>Inside information</p></td>',
      '<td><p>Deal team wall-crossed</p></td>',
    );
    const saved = p.confluence.putPage({
      id: DEMO_PAGE_ID,
      title: DEMO_PAGE_TITLE,
      storage: edited,
      authorName: 'Carol Compliance',
    });
    await p.runSync();
    const html = await page();
    const changes = html.slice(html.indexOf('id="changes-h"'));
    expect(changes).toContain('<span class="badge modified">modified</span>');
    expect(changes).toContain('reason: <del>Inside information</del> → <ins>Deal team wall-crossed</ins>');
    expect(textOf(changes)).toContain(`${DEMO_PAGE_ID}, v${saved.version} Carol Compliance`);
    expect(changes).toContain('<span class="badge removed">removed</span>');
  });

  it('lists recent runs with their counts, trigger and a link to the Temporal UI', async () => {
    const html = await page();
    const [run] = (await p.get('/v1/sync/runs?limit=1')).body.runs as {
      temporal_ui_url: string;
      workflow_id: string;
    }[];
    expect(html).toContain(
      `<a href="${run!.temporal_ui_url}" rel="noopener noreferrer" title="${run!.workflow_id}" class="nowrap">Temporal UI</a>`,
    );
    expect(html).toContain('<span class="badge succeeded">succeeded</span>');
  });

  it('shows an HTML error page, without internals, when the data cannot be read', async () => {
    await p.database.db.raw('ALTER TABLE sync_runs RENAME TO sync_runs_hidden');
    try {
      const response = await browser.get('/');
      expect(response.status).toBe(500);
      expect(response.headers.get('content-type')).toMatch(/^text\/html/);
      expect(textOf(response.text)).toContain(
        'The dashboard could not be shown because of an internal error',
      );
      expect(response.text).not.toMatch(/sync_runs|at \w+ \(|node_modules|relation/);
    } finally {
      await p.database.db.raw('ALTER TABLE sync_runs_hidden RENAME TO sync_runs');
    }
  });

  it('turns a refused admin action into a message on the page (POST-redirect-GET)', async () => {
    const admin = formClient(p.apiUrl);
    await admin.signIn(p.tokens.admin);
    const refused = await admin.post(
      '/dashboard/runs/no-such-run/approve',
      { csrf: await admin.csrf() },
      { origin: p.apiUrl },
    );
    expect(refused.status).toBe(303);
    expect((await admin.get('/')).text).toContain(
      '<div class="flash error" role="status">Not done: no sync run has workflow id no-such-run.</div>',
    );
    expect((await admin.get('/')).text).not.toContain('Not done:'); // shown once
  });
});

describe('dashboard banners', () => {
  const now = new Date('2026-11-21T12:00:00Z');
  const status = (extra: Partial<Status>): Status => ({
    status: 'ok',
    last_attempt_at: '2026-11-21T08:00:00.000Z',
    last_success_at: '2026-11-21T08:00:00.000Z',
    instrument_count: 4,
    stale: false,
    message: 'Synced 4 instruments',
    last_error: null,
    pages: [{ id: '1', title: 'List', version: 3, url: 'javascript:alert(1)' }],
    ...extra,
  });
  const render = (s: Status, role: 'read' | 'admin' = 'read') =>
    squash(
      dashboardPage({
        now,
        viewer: { principal: { name: 'someone', role }, via: 'session', csrf: 'token' },
        adminConfigured: true,
        flash: null,
        status: s,
        list: { instruments: [], count: 0, as_of: '2026-11-21T08:00:00.000Z' },
        query: '',
        maxRows: 1000,
        runs: [],
        changes: [],
        staleAfterMinutes: 180,
      }),
    );

  it('warns when the data is stale, with when the last sync succeeded', () => {
    const page = render(
      status({ stale: true, message: 'List is stale: last successful sync at 2026-11-21T08:00:00.000Z' }),
    );
    expect(page).toContain(
      '<strong class="title">Data is stale: the last successful sync was <time datetime="2026-11-21T08:00:00.000Z">',
    );
    expect(page).toContain('(4 h ago)');
    expect(page).toContain('No sync has succeeded for more than 180 minutes');
    expect(page).not.toContain('class="banner ok"');
  });

  it('shows both the failure and the staleness when both hold', () => {
    const page = render(
      status({
        status: 'failed',
        stale: true,
        message: 'Sync failed - using cached data from 2026-11-21T08:00:00.000Z',
        last_error: { code: 'ConfluenceAuthError', message: 'the API token was refused' },
      }),
    );
    expect(page).toContain(
      '<strong class="title">Sync failed - using cached data from 2026-11-21T08:00:00.000Z</strong>',
    );
    expect(page).toContain('<code>ConfluenceAuthError</code>: the API token was refused');
    expect(page).toContain('class="banner stale"');
  });

  it('says a sync is running while checks keep the cached list', () => {
    expect(render(status({ status: 'running' }))).toContain(
      '<strong class="title">Sync in progress</strong>',
    );
  });

  it('never renders a non-http link from a page URL', () => {
    const page = render(status({}));
    expect(page).not.toContain('javascript:');
    expect(page).toContain('List (v3)');
  });

  it('shows approve and reject only to admins, each form with its CSRF token', () => {
    const held = status({
      status: 'awaiting_approval',
      current_run: {
        workflow_id: 'wf/1',
        held_reason: 'the sync would remove every instrument on the list (4)',
      },
    } as Partial<Status>);
    const admin = render(held, 'admin');
    expect(admin).toContain(
      '<form method="post" action="/dashboard/runs/wf%2F1/approve" class="inline"> <input type="hidden" name="csrf" value="token" />',
    );
    expect(admin).toContain('action="/dashboard/runs/wf%2F1/reject"');
    expect(admin).toContain(
      'Held by the removal guard: the sync would remove every instrument on the list (4).',
    );
    const reader = render(held, 'read');
    expect(reader).not.toContain('/approve');
    expect(reader).toContain('An admin must approve or reject this run (sign in with an admin token).');
  });
});
