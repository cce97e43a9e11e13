import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { dashboardPage } from '../../src/api/dashboard/render.ts';
import type { RunAnswer, StatusAnswer as Status } from '../../src/api/schemas.ts';
import { squash, textOf } from '../browser/form-client.ts';
import {
  DEMO_LIST,
  DEMO_PAGE,
  instrument,
  startApiOnFakes,
  type ApiOnFakes,
} from '../helpers/api-on-fakes.ts';

const HOSTILE = instrument(
  'EVIL',
  null,
  '<script>alert("name")</script>',
  'full',
  '<img src=x onerror=alert(1)> & "quotes"',
);
const EDITED_LIST = DEMO_LIST.map((entry) =>
  entry.ticker === 'AAPL' ? { ...entry, reason: 'Deal team wall-crossed' } : entry,
);
const HELD = 'the sync would remove every instrument on the list (4)';

type Browser = ReturnType<ApiOnFakes['browser']>;

/** A fresh API on fakes, and a browser signed in to it with the read token. */
async function startWithReader(): Promise<{ p: ApiOnFakes; reader: Browser }> {
  const p = await startApiOnFakes();
  const reader = p.browser();
  await reader.signIn(p.tokens.read);
  return { p, reader };
}

/** What the dashboard shows a compliance officer, over plain HTTP (the browser test looks at it rendered). */
describe('dashboard page', () => {
  let p: ApiOnFakes;
  let browser: Browser;
  /** The page's HTML with whitespace collapsed. */
  const page = async (path = '/') => squash((await browser.get(path)).text);
  beforeEach(async () => {
    ({ p, reader: browser } = await startWithReader());
  });
  afterEach(() => p?.stop());

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

  it('sends every security header on redirects and error pages too, and none is lost on the stylesheet', async () => {
    const expected = {
      'x-frame-options': 'DENY',
      'x-content-type-options': 'nosniff',
      'referrer-policy': 'same-origin',
      'cross-origin-opener-policy': 'same-origin',
      'cache-control': 'no-store',
    };
    const directives = (csp: string | null) =>
      (csp ?? '')
        .split(';')
        .map((directive) => directive.trim())
        .filter(Boolean)
        .sort();
    const POLICY = [
      "base-uri 'none'",
      "default-src 'none'",
      "form-action 'self'",
      "frame-ancestors 'none'",
      "img-src 'self'",
      "style-src 'self'",
    ];
    const anonymous = p.browser();
    for (const response of [
      await browser.get('/'),
      await anonymous.get('/'), // 303 to the sign-in form
      await anonymous.get('/sign-in'),
      await anonymous.post('/dashboard/sync', {}), // 403 error page
      await browser.get('/', { authorization: 'Bearer wrong-token-0123456789abcdef' }), // 401 error page
    ]) {
      expect(
        Object.fromEntries(Object.keys(expected).map((name) => [name, response.headers.get(name)])),
      ).toEqual(expected);
      expect(directives(response.headers.get('content-security-policy'))).toEqual(POLICY);
    }
    const css = await browser.get('/dashboard.css');
    expect(css.headers.get('x-content-type-options')).toBe('nosniff');
    expect(css.headers.get('cache-control')).toBe('public, max-age=300');
    expect(css.headers.get('content-security-policy')).toBeNull();
  });

  it('sends only the headers it always did: none of helmet’s others, and none on the JSON API', async () => {
    const home = await browser.get('/');
    for (const name of [
      'strict-transport-security',
      'cross-origin-resource-policy',
      'cross-origin-embedder-policy',
      'origin-agent-cluster',
      'x-dns-prefetch-control',
      'x-download-options',
      'x-permitted-cross-domain-policies',
      'x-xss-protection',
      'x-powered-by',
    ])
      expect(home.headers.get(name), name).toBeNull();
    const check = await p.request('GET', '/v1/check?ticker=AAPL', { token: p.tokens.read });
    for (const name of [
      'content-security-policy',
      'x-frame-options',
      'x-content-type-options',
      'cache-control',
    ])
      expect(check.headers.get(name), name).toBeNull();
  });

  it('shows the list, searchable by ticker, ISIN or name, case-insensitively', async () => {
    await p.applyList();
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
    expect(textOf(await page('/?q=apple&q=msft'))).toContain('1 of 4 instruments match “apple”'); // the first
  });

  it('escapes everything that comes from the page', async () => {
    await p.applyList([...DEMO_LIST, HOSTILE], {
      pages: [{ ...DEMO_PAGE, title: '<i>Restricted</i> "list"', editedBy: '<b>Mallory</b>' }],
    });
    const html = await page();
    expect(html).toContain('&lt;script&gt;alert(&quot;name&quot;)&lt;/script&gt;');
    expect(html).toContain('&lt;img src=x onerror=alert(1)&gt; &amp; &quot;quotes&quot;');
    expect(html).toContain('&lt;i&gt;Restricted&lt;/i&gt; &quot;list&quot;');
    expect(html).toContain('&lt;b&gt;Mallory&lt;/b&gt;');
    expect(html).not.toMatch(/<script|<img|<i>Restricted|<b>Mallory/);
  });

  it('shows recent changes with who edited the page, its version, and before/after of modifications', async () => {
    await p.applyList([...DEMO_LIST, HOSTILE]);
    const saved = { ...DEMO_PAGE, version: 2, editedBy: 'Carol Compliance' };
    await p.applyList(EDITED_LIST, { pages: [saved] });
    const html = await page();
    const changes = html.slice(html.indexOf('id="changes-h"'));
    expect(changes).toContain('<span class="badge modified">modified</span>');
    expect(changes).toContain('reason: <del>Inside information</del> → <ins>Deal team wall-crossed</ins>');
    expect(textOf(changes)).toContain(`${DEMO_PAGE.id}, v${saved.version} Carol Compliance`);
    expect(changes).toContain('<span class="badge removed">removed</span>');
  });

  it('lists recent runs with their counts, trigger and a link to the Temporal UI', async () => {
    await p.applyList();
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
    await p.applyList();
    p.stores.failNext('runs.latest', new Error('relation "sync_runs" does not exist'));
    const response = await browser.get('/');
    expect(response.status).toBe(500);
    expect(response.headers.get('content-type')).toMatch(/^text\/html/);
    expect(textOf(response.text)).toContain('The dashboard could not be shown because of an internal error');
    expect(response.text).not.toMatch(/sync_runs|at \w+ \(|node_modules|relation/);
    expect(
      p.logs.some((line) => JSON.stringify(line).includes('relation \\"sync_runs\\" does not exist')),
    ).toBe(true);
  });

  it('turns a refused admin action into a message on the page (POST-redirect-GET)', async () => {
    const admin = p.browser();
    await admin.signIn(p.tokens.admin);
    const refused = await admin.post(
      '/dashboard/runs/no-such-run/approve',
      { csrf: await admin.csrf() },
      { origin: p.url },
    );
    expect(refused.status).toBe(303);
    expect((await admin.get('/')).text).toContain(
      '<div class="flash error" role="status">Not done: no sync run has workflow id no-such-run.</div>',
    );
    expect((await admin.get('/')).text).not.toContain('Not done:'); // shown once
  });

  it('reads a too large or unreadable form as an HTML error page', async () => {
    const admin = p.browser();
    await admin.signIn(p.tokens.admin);
    const csrf = await admin.csrf();
    const large = await admin.post(
      '/dashboard/sync',
      { csrf, padding: 'x'.repeat(20_000) },
      { origin: p.url },
    );
    expect(large.status).toBe(413);
    expect(large.headers.get('content-type')).toMatch(/^text\/html/);
    expect(textOf(large.text)).toContain('Request too large The form is too large.');
    const many = Object.fromEntries(Array.from({ length: 30 }, (_, i) => [`field${i}`, 'x']));
    const unreadable = await admin.post('/dashboard/sync', { csrf, ...many }, { origin: p.url });
    expect(unreadable.status).toBe(400);
    expect(textOf(unreadable.text)).toContain('Bad request The form could not be read.');
    expect(p.sync.triggers).toHaveLength(0);
  });
});

/** The banner a compliance officer must not miss, for each state the sync can be in. */
describe('dashboard banners, over HTTP', () => {
  let p: ApiOnFakes;
  let reader: Browser;
  const home = async (browser = reader) => squash((await browser.get('/')).text);
  const banners = (html: string) => [...html.matchAll(/class="banner (\w+)"/g)].map((match) => match[1]);
  beforeEach(async () => {
    ({ p, reader } = await startWithReader());
  });
  afterEach(() => p?.stop());

  it('never: no list, and checks answer 503', async () => {
    const html = await home();
    expect(banners(html)).toEqual(['never']);
    expect(textOf(html)).toContain('Until a sync succeeds, checks answer 503 list_unavailable');
  });

  it('ok: synced, with when', async () => {
    await p.applyList();
    const html = await home();
    expect(banners(html)).toEqual(['ok']);
    expect(html).toContain('<strong class="title">Synced 4 instruments</strong>');
    expect(textOf(html)).toMatch(/Last successful sync \d{4}-\d\d-\d\d [\d:.]+ UTC \(just now\)/);
  });

  it('failed: the seed’s words and the error, and the cached list still shown', async () => {
    await p.applyList();
    await p.failRun('ConfluenceAuthError', 'the API token was refused');
    const html = await home();
    expect(banners(html)).toEqual(['failed']);
    expect(html).toMatch(
      /<strong class="title">Sync failed - using cached data from [\d-]+T[\d:.]+Z<\/strong>/,
    );
    expect(html).toContain('<code>ConfluenceAuthError</code>: the API token was refused');
    expect(html.match(/<td class="mono">[A-Z]{4}<\/td>/g)).toHaveLength(4);
  });

  it('stale: no successful sync for longer than allowed', async () => {
    await p.applyList();
    p.clock.advance(181 * 60_000);
    const html = await home();
    expect(banners(html)).toEqual(['stale']);
    expect(textOf(html)).toMatch(
      /Data is stale: the last successful sync was \d{4}-\d\d-\d\d [\d:]+ UTC \(3 h ago\)/,
    );
    expect(textOf(html)).toContain('No sync has succeeded for more than 180 minutes');
  });

  it('running: a sync in progress while checks keep the cached list', async () => {
    await p.applyList();
    await p.startRun();
    const html = await home();
    expect(banners(html)).toEqual(['running']);
    expect(textOf(html)).toMatch(/Sync in progress Meanwhile checks keep using cached data from \d{4}-/);
  });

  it('awaiting approval: the held reason; a reader is told an admin must decide', async () => {
    await p.applyList();
    await p.holdRun(HELD);
    const html = await home();
    expect(banners(html)).toEqual(['held']);
    expect(html).toContain('<strong class="title">Sync awaiting approval: nothing has been applied</strong>');
    expect(html).toContain(`Held by the removal guard: ${HELD}.`);
    expect(textOf(html)).toContain('An admin must approve or reject this run (sign in with an admin token).');
    expect(html).not.toContain('/approve');
  });

  it('awaiting approval: an admin approves or rejects through the forms, which signal Temporal', async () => {
    await p.applyList();
    const held = await p.holdRun(HELD);
    const admin = p.browser();
    await admin.signIn(p.tokens.admin);
    const html = await home(admin);
    const csrf = await admin.csrf();
    expect(html).toContain(
      `<form method="post" action="/dashboard/runs/${held.workflowId}/approve" class="inline"> <input type="hidden" name="csrf" value="${csrf}" />`,
    );

    const approved = await admin.post(
      `/dashboard/runs/${held.workflowId}/approve`,
      { csrf },
      { origin: p.url },
    );
    expect(approved).toMatchObject({ status: 303, location: '/' });
    expect(p.sync.decisions).toEqual([
      { workflowId: held.workflowId, runId: held.runId, approve: true, by: 'ops-alice' },
    ]);
    expect(await home(admin)).toContain(
      `<div class="flash info" role="status">Run ${held.workflowId} approved by ops-alice: its changes are being applied.</div>`,
    );

    await admin.post(`/dashboard/runs/${held.workflowId}/reject`, { csrf }, { origin: p.url });
    expect(p.sync.decisions.at(-1)).toEqual({
      workflowId: held.workflowId,
      runId: held.runId,
      approve: false,
      by: 'ops-alice',
    });
    expect(await home(admin)).toContain(
      `Run ${held.workflowId} rejected by ops-alice: the current list is kept.`,
    );
  });
});

describe('dashboard admin forms', () => {
  let p: ApiOnFakes;
  let admin: Browser;
  const sync = async () => {
    const answer = await admin.post('/dashboard/sync', { csrf: await admin.csrf() }, { origin: p.url });
    return { answer, page: answer.status === 303 ? squash((await admin.get('/')).text) : '' };
  };
  beforeAll(async () => {
    p = await startApiOnFakes();
    await p.applyList();
    admin = p.browser();
    await admin.signIn(p.tokens.admin);
  });
  afterAll(() => p?.stop());

  it('Sync now starts a sync, and says so', async () => {
    const { page } = await sync();
    const [triggered] = p.sync.triggers;
    expect(page).toContain(
      `<div class="flash info" role="status">Sync started by ops-alice (${triggered!.workflowId}). Reload to see its result.</div>`,
    );
    expect((await p.get(`/v1/sync/runs?limit=1`)).body.runs[0]).toMatchObject({
      run_id: triggered!.runId,
      trigger: 'manual',
      requested_by: 'ops-alice',
    });
  });

  it('Sync now during a run says a sync is already running, and starts none', async () => {
    const running = await p.startRun();
    p.sync.setRunning(running);
    const { page } = await sync();
    expect(page).toContain(`A sync is already running (${running.workflowId}); it was not started twice.`);
    p.sync.setRunning(null);
  });

  it('Sync now when Temporal fails shows the error page, without internals, and logs it', async () => {
    p.sync.failNext('trigger', new Error('14 UNAVAILABLE: connect ECONNREFUSED 10.0.0.7:7233'));
    const { answer } = await sync();
    expect(answer.status).toBe(500);
    expect(answer.headers.get('content-type')).toMatch(/^text\/html/);
    expect(textOf(answer.text)).toContain('The dashboard could not be shown because of an internal error');
    expect(answer.text).not.toContain('ECONNREFUSED');
    expect(p.logs.some((line) => JSON.stringify(line).includes('ECONNREFUSED'))).toBe(true);
  });
});

describe('dashboard admin forms without Temporal', () => {
  it('say that nothing was done, and why', async () => {
    const p = await startApiOnFakes({ temporal: false });
    try {
      const admin = p.browser();
      await admin.signIn(p.tokens.admin);
      await admin.post('/dashboard/sync', { csrf: await admin.csrf() }, { origin: p.url });
      expect((await admin.get('/')).text).toContain(
        '<div class="flash error" role="status">Not done: this API process has no Temporal connection.</div>',
      );
    } finally {
      await p.stop();
    }
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
    watch: {
      enabled: true,
      every_seconds: 30,
      last_probe_at: '2026-11-21T11:59:50.000Z',
      last_change_seen_at: null,
      last_enforcement_lag_seconds: 12.5,
      error: null,
    },
    ...extra,
  });
  const render = (s: Status, role: 'read' | 'admin' = 'read', runs: RunAnswer[] = []) =>
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
        runs,
        latest: null,
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
        last_error: {
          code: 'ConfluenceAuthError',
          message: 'the API token was refused',
        },
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

  it('says who or what started each run: the operator who asked, the edit watch, or the schedule', () => {
    const run = (trigger: RunAnswer['trigger'], requestedBy: string | null): RunAnswer => ({
      workflow_id: `restricted-list-sync-${trigger}`,
      run_id: `run-${trigger}`,
      status: 'succeeded',
      trigger,
      requested_by: requestedBy,
      started_at: '2026-11-21T11:00:00.000Z',
      finished_at: '2026-11-21T11:00:02.000Z',
      added: 1,
      removed: 0,
      modified: 0,
      unchanged: 3,
      warnings: 0,
      error: null,
      held_reason: null,
      decision: null,
      list_version: 4,
      pages: [],
      temporal_ui_url: 'http://temporal.example/namespaces/default/workflows/x',
    });
    const page = render(status({}), 'read', [
      run('manual', 'ops-alice'),
      run('watch', null),
      run('schedule', null),
    ]);
    const triggers = [...page.matchAll(/<td> ?(manual[^<]*|edit watch|schedule) ?<\/td>/g)].map((m) => m[1]);
    expect(triggers).toEqual(['manual, by ops-alice', 'edit watch', 'schedule']);
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
