import express from 'express';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createAuth, SESSION_COOKIE, SESSION_TTL_MS } from '../../src/api/auth.ts';
import { ROUTES } from '../../src/api/routes.ts';
import { startServer, stopServer } from '../../src/api/server.ts';
import { loadConfig } from '../../src/config.ts';
import { textOf } from '../browser/form-client.ts';
import { startApiOnFakes, type ApiOnFakes } from '../helpers/api-on-fakes.ts';

const READ = 'reader-token-0123456789abcdef';
const ADMIN = 'admin-token-0123456789abcdef';
const configWith = (tokens: { read?: string; admin?: string }) =>
  loadConfig({
    USE_MOCK_DATA: 'true',
    ...(tokens.read ? { API_READ_TOKENS: tokens.read } : {}),
    ...(tokens.admin ? { API_ADMIN_TOKENS: tokens.admin } : {}),
  });

describe('bearer tokens', () => {
  const auth = createAuth(
    configWith({
      read: `reader=${READ},risk=risk-token-0123456789abcdef,both=shared-token-0123456789abc`,
      admin: `ops-alice=${ADMIN},ops-both=shared-token-0123456789abc`,
    }),
  );

  it('name the principal of every configured token; a token listed for both roles is admin', () => {
    expect(auth.principalOfHeader(`Bearer ${READ}`)).toEqual({ name: 'reader', role: 'read' });
    expect(auth.principalOfHeader('bearer  risk-token-0123456789abcdef ')).toEqual({
      name: 'risk',
      role: 'read',
    });
    expect(auth.principalOfHeader(`Bearer ${ADMIN}`)).toEqual({ name: 'ops-alice', role: 'admin' });
    expect(auth.principalOfHeader('Bearer shared-token-0123456789abc')).toEqual({
      name: 'ops-both',
      role: 'admin',
    });
    expect(auth.signIn(` ${READ} `)).toEqual({ name: 'reader', role: 'read' });
  });

  it('accept no near miss: a prefix, an extension, one character off, another case, no token', () => {
    for (const header of [
      `Bearer ${READ.slice(0, -1)}`,
      `Bearer ${READ}0`,
      `Bearer ${READ.slice(0, -1)}g`,
      `Bearer ${READ.toUpperCase()}`,
      `Basic ${READ}`,
      `Bearer ${READ} ${READ}`,
      'Bearer ',
      undefined,
    ])
      expect(auth.principalOfHeader(header), String(header)).toBeNull();
  });
});

describe('dashboard sessions', () => {
  const config = configWith({ read: `reader=${READ}`, admin: `ops-alice=${ADMIN}` });
  const now = new Date('2026-11-21T10:00:00Z');
  const auth = createAuth(config, { clock: () => now });

  it('carry the name, role and expiry, signed, never the token', () => {
    const { value, session } = auth.issueSession({ name: 'ops-alice', role: 'admin' });
    expect(value).not.toContain(ADMIN);
    expect(value).not.toContain(Buffer.from(ADMIN).toString('base64url'));
    expect(value.split('.')).toHaveLength(5);
    expect(session.expiresAt).toEqual(new Date(now.getTime() + SESSION_TTL_MS));
    expect(auth.verifySession(value)).toEqual({
      name: 'ops-alice',
      role: 'admin',
      id: session.id,
      expiresAt: session.expiresAt,
    });
  });

  it('are rejected when any part is tampered with', () => {
    const { value } = auth.issueSession({ name: 'reader', role: 'read' });
    const [name, role, expiry, id, mac] = value.split('.') as [string, string, string, string, string];
    expect(auth.verifySession([name, 'admin', expiry, id, mac].join('.'))).toBeNull();
    expect(
      auth.verifySession([Buffer.from('ops-alice').toString('base64url'), role, expiry, id, mac].join('.')),
    ).toBeNull();
    expect(auth.verifySession([name, role, String(Number(expiry) + 3600), id, mac].join('.'))).toBeNull();
    expect(
      auth.verifySession(
        [name, role, expiry, id, `${mac.slice(0, -1)}${mac.endsWith('A') ? 'B' : 'A'}`].join('.'),
      ),
    ).toBeNull();
    expect(auth.verifySession(`${value}.extra`)).toBeNull();
    expect(auth.verifySession('')).toBeNull();
  });

  it('expire after their lifetime', () => {
    const { value } = auth.issueSession({ name: 'reader', role: 'read' });
    const later = (ms: number) => createAuth(config, { clock: () => new Date(now.getTime() + ms) });
    expect(later(SESSION_TTL_MS - 1000).verifySession(value)).not.toBeNull();
    expect(later(SESSION_TTL_MS).verifySession(value)).toBeNull();
  });

  it('are accepted by every replica with the same tokens, and invalidated by rotating them', () => {
    const { value } = auth.issueSession({ name: 'ops-alice', role: 'admin' });
    const reordered = loadConfig({
      USE_MOCK_DATA: 'true',
      API_READ_TOKENS: `reader=${READ}`,
      API_ADMIN_TOKENS: `ops-alice=${ADMIN}`,
    });
    expect(createAuth(reordered, { clock: () => now }).verifySession(value)).not.toBeNull();
    const rotated = configWith({ read: `reader=${READ}`, admin: `ops-alice=${ADMIN}-rotated` });
    expect(createAuth(rotated, { clock: () => now }).verifySession(value)).toBeNull();
  });

  it('never grant admin where no admin token is configured (a single read token cannot mint one)', () => {
    const readOnly = createAuth(configWith({ read: `reader=${READ}` }), { clock: () => now });
    expect(readOnly.verifySession(readOnly.issueSession({ name: 'reader', role: 'admin' }).value)).toBeNull();
    expect(
      readOnly.verifySession(readOnly.issueSession({ name: 'reader', role: 'read' }).value),
    ).not.toBeNull();
  });

  it('are never accepted when no tokens are configured', () => {
    const open = createAuth(configWith({}), { clock: () => now });
    expect(open.verifySession(open.issueSession({ name: 'x', role: 'admin' }).value)).toBeNull();
  });

  it('bind each CSRF token to its session', () => {
    const a = auth.issueSession({ name: 'ops-alice', role: 'admin' }).session;
    const b = auth.issueSession({ name: 'ops-alice', role: 'admin' }).session;
    expect(auth.checkCsrf(a, auth.csrfToken(a))).toBe(true);
    expect(auth.checkCsrf(a, auth.csrfToken(b))).toBe(false);
    expect(auth.checkCsrf(a, undefined)).toBe(false);
    expect(auth.checkCsrf(a, [auth.csrfToken(a)])).toBe(false);
  });

  it('set a Secure cookie when the request came over HTTPS', async () => {
    const app = express();
    app.set('trust proxy', true);
    app.get('/', (req, res) => {
      auth.setSessionCookie(req, res, 'value');
      res.end();
    });
    const { server, url } = await startServer(app, 0, '127.0.0.1');
    try {
      const [plain] = (await fetch(url)).headers.getSetCookie();
      const [https] = (
        await fetch(url, { headers: { 'x-forwarded-proto': 'https' } })
      ).headers.getSetCookie();
      expect(plain).not.toMatch(/;\s*Secure/i);
      expect(https).toMatch(/;\s*Secure/i);
    } finally {
      await stopServer(server);
    }
  });
});

describe('dashboard sign-in and admin actions', () => {
  let p: ApiOnFakes;
  beforeAll(async () => {
    p = await startApiOnFakes();
    await p.applyList();
  });
  afterAll(() => p?.stop());

  it('sends a browser without a session to the sign-in form, and keeps JSON endpoints at 401', async () => {
    const browser = p.browser();
    const home = await browser.get('/');
    expect(home.status).toBe(303);
    expect(home.location).toBe('/sign-in');
    const form = await browser.get('/sign-in');
    expect(form.status).toBe(200);
    expect(form.headers.get('content-type')).toMatch(/^text\/html/);
    expect(form.text).toContain('name="token"');
    expect((await p.get('/v1/sync/status', null)).status).toBe(401);
  });

  it('signs in with a token and sets an HttpOnly, SameSite=Strict session cookie that does not hold the token', async () => {
    const browser = p.browser();
    const signedIn = await browser.signIn(p.tokens.admin);
    expect(signedIn.status).toBe(303);
    expect(signedIn.location).toBe('/');
    const cookie = signedIn.setCookies.find((line) => line.startsWith(`${SESSION_COOKIE}=`));
    expect(cookie).toBeDefined();
    expect(cookie).toMatch(/;\s*HttpOnly/i);
    expect(cookie).toMatch(/;\s*SameSite=Strict/i);
    expect(cookie).toMatch(/;\s*Path=\//i);
    expect(cookie).not.toMatch(/;\s*Secure/i); // plain HTTP here; HTTPS gets Secure (unit test above)
    expect(cookie).not.toContain(p.tokens.admin);
    expect(cookie).not.toContain(Buffer.from(p.tokens.admin).toString('base64url'));

    const home = await browser.get('/');
    expect(home.status).toBe(200);
    expect(textOf(home.text)).toContain(
      'Restricted instruments list Signed in as ops-alice (admin) Sign out',
    );
    expect(home.text).toMatch(
      /<div class="flash info" role="status">Signed in as ops-alice \(admin\)\.<\/div>/,
    ); // POST-redirect-GET
    // The session is good for the JSON read endpoints too, but never for the JSON admin ones.
    const status = await browser.get('/v1/sync/status');
    expect(status.status).toBe(200);
    expect(JSON.parse(status.text).status).toBe('ok');
    const jsonAdmin = await browser.post('/v1/sync', {});
    expect(jsonAdmin.status).toBe(403);
  });

  it('refuses a wrong token, a sign-in form posted from another site, and one without its sign-in cookie', async () => {
    const wrong = p.browser();
    const refused = await wrong.signIn('not-a-token-0123456789abcdef');
    expect(refused.status).toBe(401);
    expect(refused.text).toContain('That token is not valid');
    expect(wrong.jar.has(SESSION_COOKIE)).toBe(false);

    const crossSite = p.browser();
    const csrf = await crossSite.csrf('/sign-in');
    const posted = await crossSite.post(
      '/sign-in',
      { csrf, token: p.tokens.admin },
      { origin: 'https://evil.example' },
    );
    expect(posted.status).toBe(403);
    expect(crossSite.jar.has(SESSION_COOKIE)).toBe(false);

    // Login CSRF: a form on another site has no SameSite=Strict sign-in cookie to go with it.
    const noCookie = await fetch(`${p.url}/sign-in`, {
      method: 'POST',
      redirect: 'manual',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: new URLSearchParams({ csrf, token: p.tokens.admin }).toString(),
    });
    expect(noCookie.status).toBe(403);
    expect(noCookie.headers.getSetCookie().some((line) => line.startsWith(`${SESSION_COOKIE}=`))).toBe(false);
  });

  it('rejects a tampered session cookie everywhere', async () => {
    const browser = p.browser();
    await browser.signIn(p.tokens.read);
    const value = browser.jar.get(SESSION_COOKIE)!;
    const [name, , expiry, id, mac] = value.split('.');
    browser.jar.set(SESSION_COOKIE, [name, 'admin', expiry, id, mac].join('.'));
    expect((await browser.get('/v1/sync/status')).status).toBe(401);
    const home = await browser.get('/');
    expect(home.status).toBe(303);
    expect(home.location).toBe('/sign-in');
    expect(browser.jar.has(SESSION_COOKIE)).toBe(false);
    expect((await browser.get('/sign-in')).text).toContain('Your session has expired; sign in again.');
  });

  it('lets only an admin session with the form’s CSRF token, from this site, start a sync', async () => {
    const reader = p.browser();
    await reader.signIn(p.tokens.read);
    const readerPage = await reader.get('/');
    expect(readerPage.text).not.toContain('Sync now');
    const readerTry = await reader.post('/dashboard/sync', { csrf: await reader.csrf() }, { origin: p.url });
    expect(readerTry.status).toBe(403);
    expect(readerTry.text).toContain('you are signed in with a read token');

    const admin = p.browser();
    await admin.signIn(p.tokens.admin);
    const adminPage = await admin.get('/');
    expect(adminPage.text).toContain('Sync now');
    const csrf = await admin.csrf();

    const noToken = await admin.post('/dashboard/sync', {}, { origin: p.url });
    expect(noToken.status).toBe(403);
    expect(noToken.text).toContain('The form is out of date or came from another site');
    expect(noToken.headers.get('content-type')).toMatch(/^text\/html/);
    expect(
      (await admin.post('/dashboard/sync', { csrf: await reader.csrf() }, { origin: p.url })).status,
    ).toBe(403);
    expect((await admin.post('/dashboard/sync', { csrf }, { origin: 'https://evil.example' })).status).toBe(
      403,
    );
    expect(
      (await admin.post('/dashboard/sync', { csrf }, { referer: 'https://evil.example/page' })).status,
    ).toBe(403);
    const anonymous = p.browser();
    expect((await anonymous.post('/dashboard/sync', { csrf }, { origin: p.url })).status).toBe(403);

    expect(p.sync.triggers).toHaveLength(0); // none of the refused forms reached Temporal

    const started = await admin.post('/dashboard/sync', { csrf }, { origin: p.url });
    expect(started.status).toBe(303);
    expect(started.location).toBe('/');
    const after = await admin.get('/');
    expect(after.text).toMatch(/Sync started by ops-alice \(|A sync is already running/);
    const [triggered] = p.sync.triggers;
    expect(after.text).toContain(
      `Sync started by ops-alice (${triggered!.workflowId}). Reload to see its result.`,
    );
    const runs = (await p.get('/v1/sync/runs?limit=5')).body.runs as {
      trigger: string;
      requested_by: string | null;
    }[];
    expect(runs.some((run) => run.trigger === 'manual' && run.requested_by === 'ops-alice')).toBe(true);
  });

  it('accepts an admin bearer header on the dashboard actions (no cookie, so no CSRF token needed)', async () => {
    const bearer = p.browser();
    expect(
      (await bearer.post('/dashboard/sync', {}, { authorization: `Bearer ${p.tokens.read}` })).status,
    ).toBe(403);
    const started = await bearer.post('/dashboard/sync', {}, { authorization: `Bearer ${p.tokens.admin}` });
    expect(started.status).toBe(303);
    const asReader = await bearer.get('/', { authorization: `Bearer ${p.tokens.read}` });
    expect(textOf(asReader.text)).toContain('Signed in as reader (read only) with a bearer token');
    expect((await bearer.get('/', { authorization: 'Bearer wrong-token-0123456789abcdef' })).status).toBe(
      401,
    );
  });

  it('signs out, needing the form’s CSRF token', async () => {
    const browser = p.browser();
    await browser.signIn(p.tokens.read);
    expect((await browser.post('/sign-out', {}, { origin: p.url })).status).toBe(403);
    const out = await browser.post('/sign-out', { csrf: await browser.csrf() }, { origin: p.url });
    expect(out.status).toBe(303);
    expect(out.location).toBe('/sign-in');
    expect(browser.jar.has(SESSION_COOKIE)).toBe(false);
    expect((await browser.get('/')).status).toBe(303);
  });
});

describe('dashboard without configured tokens (development)', () => {
  let p: ApiOnFakes;
  beforeAll(async () => {
    p = await startApiOnFakes({ tokens: 'none' });
  });
  afterAll(() => p?.stop());

  it('is open for reading and refuses admin actions', async () => {
    const browser = p.browser();
    const home = await browser.get('/');
    expect(home.status).toBe(200);
    expect(textOf(home.text)).toContain('Open access (no API tokens configured)');
    expect(home.text).not.toContain('Sync now');
    expect((await browser.post('/dashboard/sync', {})).status).toBe(403);
    expect(
      (await browser.post('/dashboard/sync', {}, { authorization: 'Bearer anything-0123456789abcdef' }))
        .status,
    ).toBe(403);
    const signIn = await browser.signIn('anything-0123456789abcdef');
    expect(signIn.status).toBe(400);
    expect(signIn.text).toContain('No API tokens are configured');
    expect(p.sync.triggers).toHaveLength(0);
  });

  it('is open for the JSON read endpoints too, and closed for the JSON admin ones', async () => {
    expect((await p.get('/v1/sync/status', null)).status).toBe(200);
    expect((await p.get('/v1/sync/status', 'anything-0123456789abcdef')).status).toBe(200); // open: no token is checked
    expect(await p.post('/v1/sync', undefined, 'anything-0123456789abcdef')).toMatchObject({
      status: 403,
      body: { error: { code: 'forbidden' } },
    });
  });
});

/** Every endpoint, asked with no token, a wrong one, a read token and an admin token. */
describe('who may call what', () => {
  let p: ApiOnFakes;
  let held: string;
  beforeAll(async () => {
    p = await startApiOnFakes();
    await p.applyList();
    held = (await p.holdRun('the sync would remove every instrument on the list (4)')).workflowId;
  });
  afterAll(() => p?.stop());

  const JSON_TYPE = /^application\/json/;
  const HTML_TYPE = /^text\/html/;
  type Expected = [none: number, wrong: number, read: number, admin: number];
  const READ: Expected = [401, 401, 200, 200];
  const ADMIN: Expected = [403, 403, 403, 202];
  const PUBLIC: Expected = [200, 200, 200, 200];
  const ADMIN_FORM: Expected = [403, 403, 403, 303];
  const MATRIX: [method: string, path: string, expected: Expected, type: RegExp, body?: unknown][] = [
    ['GET', '/v1/check?ticker=AAPL', READ, JSON_TYPE],
    ['POST', '/v1/check', READ, JSON_TYPE, { items: [{ ticker: 'AAPL' }] }],
    ['GET', '/v1/restricted', READ, JSON_TYPE],
    ['GET', '/v1/restricted/changes', READ, JSON_TYPE],
    ['GET', '/v1/sync/status', READ, JSON_TYPE],
    ['GET', '/v1/sync/runs', READ, JSON_TYPE],
    ['GET', '/v1/sync/runs/{workflow_id}', READ, JSON_TYPE],
    ['POST', '/v1/sync', ADMIN, JSON_TYPE],
    ['POST', '/v1/sync/runs/{workflow_id}/approve', ADMIN, JSON_TYPE],
    ['POST', '/v1/sync/runs/{workflow_id}/reject', ADMIN, JSON_TYPE],
    ['GET', '/healthz', PUBLIC, JSON_TYPE],
    ['GET', '/readyz', PUBLIC, JSON_TYPE],
    ['GET', '/metrics', PUBLIC, /^text\/plain/],
    ['GET', '/openapi.json', PUBLIC, JSON_TYPE],
    ['GET', '/', [303, 401, 200, 200], HTML_TYPE],
    ['GET', '/sign-in', PUBLIC, HTML_TYPE],
    ['POST', '/sign-in', [403, 403, 403, 403], HTML_TYPE], // no sign-in form was fetched: login CSRF
    ['POST', '/sign-out', [303, 303, 303, 303], /^$/],
    ['POST', '/dashboard/sync', ADMIN_FORM, HTML_TYPE],
    ['POST', '/dashboard/runs/{workflow_id}/approve', ADMIN_FORM, HTML_TYPE],
    ['POST', '/dashboard/runs/{workflow_id}/reject', ADMIN_FORM, HTML_TYPE],
    ['GET', '/dashboard.css', PUBLIC, /^text\/css/],
    ['GET', '/v1/nothing-here', [404, 404, 404, 404], JSON_TYPE],
    ['POST', '/nothing-here', [404, 404, 404, 404], JSON_TYPE],
    ['DELETE', '/v1/check?ticker=AAPL', [405, 405, 405, 405], JSON_TYPE],
    ['GET', '/v1/sync', [405, 405, 405, 405], JSON_TYPE],
    ['PUT', '/v1/sync/runs/{workflow_id}/approve', [405, 405, 405, 405], JSON_TYPE],
    ['POST', '/v1/sync/status', [405, 405, 405, 405], JSON_TYPE],
    ['GET', '/sign-out', [405, 405, 405, 405], JSON_TYPE],
    ['POST', '/', [405, 405, 405, 405], JSON_TYPE],
  ];

  it.each(MATRIX)('%s %s', async (method, template, expected, type, body) => {
    const path = template.replace('{workflow_id}', held);
    const tokens = [null, 'not-a-token-at-all-1234', p.tokens.read, p.tokens.admin];
    const answers = [];
    for (const token of tokens) {
      const form = method === 'POST' && !path.startsWith('/v1/');
      const answer = await p.request(method, path, {
        token,
        ...(form ? { raw: '', contentType: 'application/x-www-form-urlencoded' } : { body }),
      });
      answers.push(answer.status);
      if (answer.status < 300 || answer.status >= 400)
        expect(answer.headers.get('content-type') ?? '', `${method} ${path}`).toMatch(
          answer.status >= 400 && type === JSON_TYPE ? JSON_TYPE : type,
        );
      if (answer.status === 401 || answer.status === 403) {
        const code = type === JSON_TYPE ? answer.json().error.code : null;
        if (code !== null) expect(code).toBe(answer.status === 401 ? 'unauthorized' : 'forbidden');
      }
    }
    expect(answers).toEqual(expected);
  });

  it('covers every route of the table', () => {
    const asked = new Set(
      MATRIX.filter(([, , expected]) => expected[3] !== 405).map(
        ([method, path]) => `${method.toLowerCase()} ${path.split('?')[0]}`,
      ),
    );
    for (const route of ROUTES)
      expect(asked, `${route.method} ${route.path}`).toContain(`${route.method} ${route.path}`);
  });

  it('words each refusal for what is missing', async () => {
    const message = async (path: string, token: string | null, method = 'GET') =>
      (await p.request(method, path, { token })).json().error.message;
    expect(await message('/v1/sync/status', null)).toBe(
      'a bearer token is required (Authorization: Bearer <token>)',
    );
    expect(await message('/v1/sync/status', 'not-a-token-at-all-1234')).toBe('the bearer token is not valid');
    expect(
      (
        await p.request('GET', '/v1/sync/status', {
          token: null,
          headers: { cookie: 'rls_session=a.b.c.d.e' },
        })
      ).json().error.message,
    ).toBe('the session has expired or is not valid; sign in again');
    expect(await message('/v1/sync', p.tokens.read, 'POST')).toBe(
      'this action needs an admin token (API_ADMIN_TOKENS)',
    );
  });
});
