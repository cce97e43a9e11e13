import fc from 'fast-check';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { ROUTES } from '../../src/api/routes.ts';
import * as schemas from '../../src/api/schemas.ts';
import { startApiOnFakes, type ApiOnFakes } from '../helpers/api-on-fakes.ts';
import { waitFor } from '../helpers/wait.ts';

/** Every endpoint of the contract over HTTP, on the in-memory stores: access, errors, batch size, metrics. */
describe('HTTP API', () => {
  let p: ApiOnFakes;
  beforeAll(async () => {
    p = await startApiOnFakes();
    await p.applyList();
  });
  afterAll(() => p.stop());

  const request = (method: string, path: string, token: string | null, body?: unknown) =>
    p.request(method, path, { token, body });

  const READ_ENDPOINTS: [string, string, unknown?][] = [
    ['GET', '/v1/check?ticker=AAPL'],
    ['POST', '/v1/check', { items: [{ ticker: 'AAPL' }] }],
    ['GET', '/v1/restricted'],
    ['GET', '/v1/restricted/changes'],
    ['GET', '/v1/sync/status'],
    ['GET', '/v1/sync/runs'],
  ];

  it.each(READ_ENDPOINTS)(
    '%s %s: 401 without a token, 200 with a read or an admin token',
    async (method, path, body) => {
      const none = await request(method, path, null, body);
      expect(none.status).toBe(401);
      expect(none.json()).toEqual({ error: { code: 'unauthorized', message: expect.any(String) } });
      expect((await request(method, path, 'not-a-token-at-all-1234', body)).status).toBe(401);
      expect((await request(method, path, p.tokens.read, body)).status).toBe(200);
      expect((await request(method, path, p.tokens.admin, body)).status).toBe(200);
    },
  );

  it.each([
    ['POST', '/v1/sync'],
    ['POST', '/v1/sync/runs/any/approve'],
    ['POST', '/v1/sync/runs/any/reject'],
  ])('%s %s: 403 without an admin token (none, read)', async (method, path) => {
    for (const token of [null, p.tokens.read, 'not-a-token-at-all-1234']) {
      const answer = await request(method, path, token);
      expect(answer.status).toBe(403);
      expect(answer.json().error.code).toBe('forbidden');
    }
    expect((await request(method, path.replace('any', 'no-such-run'), p.tokens.admin)).status).not.toBe(403);
  });

  it.each(['/healthz', '/readyz', '/metrics'])('%s needs no token', async (path) => {
    expect((await request('GET', path, null)).status).toBe(200);
  });

  it('answers a batch of 1,000 checks in order, and refuses 1,001', async () => {
    const items = Array.from({ length: 1000 }, (_, i) =>
      i % 4 === 0
        ? { ticker: 'AAPL' }
        : i % 4 === 1
          ? { isin: 'US5949181045', side: 'sell' }
          : i % 4 === 2
            ? { ticker: `ZZ${i}` }
            : { ticker: 'msft', side: 'buy' },
    );
    const answer = await request('POST', '/v1/check', p.tokens.read, { items });
    expect(answer.status).toBe(200);
    const { results } = answer.json();
    expect(results).toHaveLength(1000);
    expect(results.slice(0, 4).map((r: { restricted: boolean }) => r.restricted)).toEqual([
      true,
      false,
      false,
      true,
    ]);
    expect(results.every((r: { list_version: number }) => r.list_version === 1)).toBe(true);
    const tooMany = await request('POST', '/v1/check', p.tokens.read, { items: [...items, { ticker: 'X' }] });
    expect(tooMany.status).toBe(400);
    expect(tooMany.json().error.code).toBe('invalid_items');
  });

  it('answers each item of a batch as the single check of that item, however the items overlap', async () => {
    const items: Record<string, string>[] = [
      { ticker: 'AAPL' },
      { isin: 'US0378331005' },
      { ticker: 'AAPL', isin: 'US0378331005', side: 'buy' },
      { ticker: 'AAPL' },
      { ticker: 'MSFT', isin: 'US0378331005', side: 'sell' },
      { ticker: 'NOPE' },
    ];
    const { results } = (await request('POST', '/v1/check', p.tokens.read, { items })).json();
    for (const [index, item] of items.entries()) {
      const single = await request('GET', `/v1/check?${new URLSearchParams(item)}`, p.tokens.read);
      expect(results[index], JSON.stringify(item)).toEqual(single.json());
    }
    expect(results.map((r: { matches: unknown[] }) => r.matches.length)).toEqual([1, 1, 1, 1, 1, 0]);
  });

  it.each([
    ['/v1/check', 'missing_identifier'],
    ['/v1/check?ticker=', 'missing_identifier'],
    ['/v1/check?ticker=AAPL&side=short', 'invalid_side'],
    ['/v1/check?isin=US0378331006', 'invalid_isin'],
    ['/v1/check?isin=AAPL', 'invalid_isin'],
    ['/v1/check?ticker=AAPL&ticker=MSFT', 'invalid_query'],
    ['/v1/check?ticker=AAPL&at=now', 'invalid_at'],
  ])('GET %s → 400 %s', async (path, code) => {
    const answer = await request('GET', path, p.tokens.read);
    expect(answer.status).toBe(400);
    expect(answer.json().error.code).toBe(code);
  });

  it('answers malformed bodies, unknown paths and oversized bodies with JSON errors', async () => {
    const bad = await fetch(`${p.url}/v1/check`, {
      method: 'POST',
      headers: { authorization: `Bearer ${p.tokens.read}`, 'content-type': 'application/json' },
      body: '{"items": [',
    });
    expect(bad.status).toBe(400);
    expect(((await bad.json()) as { error: { code: string } }).error.code).toBe('invalid_json');
    const unknown = await request('GET', '/v1/nothing-here', p.tokens.read);
    expect(unknown.status).toBe(404);
    expect(unknown.json().error.code).toBe('not_found');
    const huge = await request('POST', '/v1/check', p.tokens.read, {
      items: [{ ticker: 'A'.repeat(300_000) }],
    });
    expect(huge.status).toBe(413);
  });

  it('answers 405, with the methods it allows, to a method a known path does not declare', async () => {
    const cases: [method: string, path: string, allow: string][] = [
      ['DELETE', '/v1/check', 'GET, HEAD, POST'],
      ['PUT', '/v1/check?ticker=AAPL', 'GET, HEAD, POST'],
      ['GET', '/v1/sync', 'POST'],
      ['HEAD', '/v1/sync', 'POST'],
      ['GET', '/v1/sync/runs/any-run/approve', 'POST'],
      ['PATCH', '/v1/sync/status', 'GET, HEAD'],
      ['OPTIONS', '/v1/restricted', 'GET, HEAD'],
      ['DELETE', '/', 'GET, HEAD'],
      ['PUT', '/sign-in', 'GET, HEAD, POST'],
      ['GET', '/sign-out', 'POST'],
      ['GET', '/dashboard/runs/any-run/reject', 'POST'],
      ['POST', '/healthz', 'GET, HEAD'],
      ['POST', '/V1/SYNC/STATUS/', 'GET, HEAD'], // Express matches paths case-insensitively, with a trailing slash
    ];
    for (const [method, path, allow] of cases) {
      const answer = await request(method, path, null);
      expect(answer.status, `${method} ${path}`).toBe(405);
      expect(answer.headers.get('allow'), `${method} ${path}`).toBe(allow);
      expect(answer.headers.get('content-type')).toMatch(/^application\/json/);
      if (method !== 'HEAD')
        expect(answer.json()).toEqual({
          error: {
            code: 'method_not_allowed',
            message: `${method} is not allowed here; use ${allow.split(', ').join(' or ')}`,
          },
        });
    }
    const unknown = await request('DELETE', '/v1/sync/nothing', p.tokens.admin);
    expect(unknown.status).toBe(404);
    expect(unknown.headers.get('allow')).toBeNull();
    expect(unknown.json()).toEqual({ error: { code: 'not_found', message: 'no such endpoint' } });
  });

  it('answers 405 for every table path and method it does not declare', async () => {
    const declared = new Map<string, string[]>();
    for (const route of ROUTES) declared.set(route.path, [...(declared.get(route.path) ?? []), route.method]);
    for (const [path, methods] of declared) {
      const concrete = path.replace('{workflow_id}', 'any-run');
      for (const method of ['get', 'post', 'put', 'delete', 'patch'].filter((m) => !methods.includes(m))) {
        const answer = await request(method.toUpperCase(), concrete, p.tokens.admin);
        expect(answer.status, `${method} ${path}`).toBe(405);
        expect(answer.json().error.code).toBe('method_not_allowed');
      }
    }
  });

  it('never answers 5xx to any query string, and never echoes a token', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.dictionary(
          fc.constantFrom('ticker', 'isin', 'side', 'at', 'x', 'ticker[]', 'isin[0]'),
          fc.oneof(fc.string(), fc.string({ unit: 'binary' }), fc.constant('')),
          { maxKeys: 4 },
        ),
        async (query) => {
          const search = new URLSearchParams(query).toString();
          const answer = await request('GET', `/v1/check?${search}`, p.tokens.read);
          expect(answer.status).toBeLessThan(500);
          expect(answer.text).not.toContain(p.tokens.read);
          if (answer.status !== 200) expect(answer.json().error.code).toMatch(/^[a-z_]+$/);
        },
      ),
      { numRuns: 300 },
    );
  });

  it('never answers 5xx to any query string on the other read endpoints either', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.constantFrom('/v1/restricted', '/v1/restricted/changes', '/v1/sync/runs', '/v1/sync/status'),
        fc.array(
          fc.tuple(
            fc.constantFrom('at', 'since', 'limit', 'include_inactive', 'x'),
            fc.oneof(fc.string(), fc.constantFrom('', '0', '5', 'true', '2026-11-21', 'now')),
          ),
          { maxLength: 4 },
        ),
        async (path, pairs) => {
          const answer = await request('GET', `${path}?${new URLSearchParams(pairs)}`, p.tokens.read);
          // An instant before the first applied list is the one 5xx: the service has no list to answer from.
          if (answer.status === 503) expect(answer.json().error.code).toBe('list_unavailable');
          else expect(answer.status).toBeLessThan(500);
          if (answer.status !== 200 && answer.status !== 503)
            expect(answer.json().error.code).toMatch(/^invalid_[a-z_]+$/);
        },
      ),
      { numRuns: 200 },
    );
  });

  it('never answers 5xx to any batch body', async () => {
    const value = fc.oneof(
      fc.string({ maxLength: 14 }),
      fc.integer(),
      fc.constant(null),
      fc.boolean(),
      fc.constantFrom('AAPL', 'US0378331005', 'buy', ' SELL ', ''),
      fc.array(fc.string(), { maxLength: 2 }),
    );
    const item = fc.oneof(
      { weight: 5, arbitrary: fc.record({ ticker: value, isin: value, side: value }, { requiredKeys: [] }) },
      { weight: 1, arbitrary: value },
    );
    await fc.assert(
      fc.asyncProperty(
        fc.record(
          { items: fc.oneof({ weight: 6, arbitrary: fc.array(item, { maxLength: 4 }) }, value), at: value },
          { requiredKeys: [] },
        ),
        async (body) => {
          const answer = await request('POST', '/v1/check', p.tokens.read, body);
          expect(answer.status).toBeLessThan(500);
          if (answer.status !== 200) expect(answer.json().error.code).toMatch(/^[a-z_]+$/);
        },
      ),
      { numRuns: 200 },
    );
  });

  it('keeps a caller’s request id and makes one otherwise', async () => {
    const given = await fetch(`${p.url}/v1/sync/status`, {
      headers: { authorization: `Bearer ${p.tokens.read}`, 'x-request-id': 'trade-123' },
    });
    expect(given.headers.get('x-request-id')).toBe('trade-123');
    const made = await fetch(`${p.url}/v1/sync/status`, {
      headers: { authorization: `Bearer ${p.tokens.read}` },
    });
    expect(made.headers.get('x-request-id')).toMatch(/^[0-9a-f-]{36}$/);
  });

  it('exports check results, latency, list size and sync health as Prometheus metrics', async () => {
    await request('GET', '/v1/check?ticker=AAPL', p.tokens.read);
    await request('GET', '/v1/check?ticker=NOPE', p.tokens.read);
    await request('GET', '/v1/check?isin=XX', p.tokens.read);
    const { text } = await request('GET', '/metrics', null);
    expect(text).toMatch(/^rls_checks_total\{result="restricted"\} [1-9]\d*$/m);
    expect(text).toMatch(/^rls_checks_total\{result="not_restricted"\} [1-9]\d*$/m);
    expect(text).toMatch(/^rls_checks_total\{result="invalid"\} [1-9]\d*$/m);
    expect(text).toMatch(/^rls_check_duration_seconds_count [1-9]\d*$/m);
    expect(text).toMatch(/^rls_active_instruments 4$/m);
    expect(text).toMatch(/^rls_list_version 1$/m);
    expect(text).toMatch(/^rls_sync_runs\{status="succeeded"\} [1-9]\d*$/m);
    expect(text).toMatch(/^rls_seconds_since_last_successful_sync \d+(\.\d+)?(e[-+]?\d+)?$/m);
  });

  it('answers every endpoint in the shape its schema (and so /openapi.json) documents', async () => {
    const cases: [string, string, unknown, { parse(value: unknown): unknown }][] = [
      ['GET', '/v1/check?ticker=AAPL&side=buy', undefined, schemas.checkResultSchema],
      ['GET', '/v1/check?isin=US5949181045&at=2099-01-01T00:00:00Z', undefined, schemas.checkResultSchema],
      [
        'POST',
        '/v1/check',
        { items: [{ ticker: 'AAPL' }, { isin: 'US88160R1014', side: 'sell' }] },
        schemas.batchCheckResultSchema,
      ],
      ['GET', '/v1/restricted?include_inactive=true', undefined, schemas.listSchema],
      ['GET', '/v1/restricted/changes', undefined, schemas.changesSchema],
      ['GET', '/v1/sync/status', undefined, schemas.statusSchema],
      ['GET', '/v1/sync/runs', undefined, schemas.runsSchema],
      ['GET', '/readyz', undefined, schemas.readinessSchema],
      ['GET', '/healthz', undefined, schemas.healthSchema],
      ['GET', '/v1/check?ticker=AAPL&side=sideways', undefined, schemas.errorSchema],
    ];
    for (const [method, path, body, schema] of cases) {
      const answer = await request(method, path, p.tokens.admin, body);
      expect(() => schema.parse(answer.json()), `${method} ${path}`).not.toThrow();
    }
    const before = p.sync.triggers.length;
    const waiting = request('POST', '/v1/sync?wait=true', p.tokens.admin);
    const triggered = await waitFor('the trigger', async () => p.sync.triggers[before]);
    await waitFor('the run record', () => p.stores.runs.get(triggered.runId));
    await p.applyList(undefined, { runId: triggered.runId, workflowId: triggered.workflowId });
    p.sync.end(triggered!.runId);
    const finished = await waiting;
    expect(() => schemas.runSchema.parse(finished.json())).not.toThrow();
    expect(finished.json()).toMatchObject({
      run_id: triggered!.runId,
      status: 'succeeded',
      requested_by: 'ops-alice',
    });
  });

  it('answers every JSON route of the table in the schema that route declares for the status', async () => {
    const held = await p.holdRun('the sync would remove every instrument on the list (4)');
    const cases: [method: string, path: string, body?: unknown][] = [
      ['GET', '/v1/check?ticker=AAPL&side=buy'],
      ['GET', '/v1/check?ticker=NOPE'],
      ['GET', '/v1/check?ticker=AAPL&at=2099-01-01T00:00:00Z'],
      ['GET', '/v1/check?isin=bad'],
      ['POST', '/v1/check', { items: [{ ticker: 'AAPL' }, { isin: 'US88160R1014', side: 'sell' }] }],
      ['POST', '/v1/check', { items: [] }],
      ['GET', '/v1/restricted'],
      ['GET', '/v1/restricted?include_inactive=true&at=2099-01-01'],
      ['GET', '/v1/restricted?at=1999-01-01'],
      ['GET', '/v1/restricted/changes?limit=2'],
      ['GET', '/v1/restricted/changes?since=soon'],
      ['GET', '/v1/sync/status'],
      ['GET', '/v1/sync/runs?limit=5'],
      ['GET', '/v1/sync/runs?limit=0'],
      ['GET', `/v1/sync/runs/${held.workflowId}`],
      ['GET', '/v1/sync/runs/no-such-run'],
      ['POST', '/v1/sync'],
      ['POST', '/v1/sync?wait=maybe'],
      ['POST', `/v1/sync/runs/${held.workflowId}/approve`],
      ['POST', `/v1/sync/runs/${held.workflowId}/reject`],
      ['POST', '/v1/sync/runs/no-such-run/approve'],
      ['GET', '/healthz'],
      ['GET', '/readyz'],
      ['GET', '/metrics'],
      ['GET', '/openapi.json'],
    ];
    const covered = new Set<string>();
    for (const [method, path, body] of cases) {
      const route = ROUTES.find(
        (candidate) =>
          candidate.method === method.toLowerCase() &&
          new RegExp(`^${candidate.path.replace(/\{\w+\}/g, '[^/]+')}$`).test(path.split('?')[0]!),
      );
      expect(route, `${method} ${path}`).toBeDefined();
      covered.add(`${route!.method} ${route!.path}`);
      const answer = await request(method, path, p.tokens.admin, body);
      const declared = (route!.responses as Record<number, { schema?: { parse(v: unknown): unknown } }>)[
        answer.status
      ];
      if (answer.status >= 400) expect(() => schemas.errorSchema.parse(answer.json())).not.toThrow();
      else if (declared?.schema)
        expect(() => declared.schema!.parse(answer.json()), `${method} ${path}`).not.toThrow();
      else
        expect(
          declared,
          `${method} ${path} answered ${answer.status}, which it does not declare`,
        ).toBeDefined();
    }
    const jsonRoutes = ROUTES.filter((route) => route.kind === 'json').map((r) => `${r.method} ${r.path}`);
    expect([...covered].sort()).toEqual([...new Set(jsonRoutes)].sort());
  });

  it('counts a check refused by its schema as one invalid check', async () => {
    const invalid = async () =>
      Number(
        /^rls_checks_total\{result="invalid"\} (\d+)$/m.exec(
          (await request('GET', '/metrics', null)).text,
        )?.[1] ?? 0,
      );
    const before = await invalid();
    await request('GET', '/v1/check?ticker=AAPL&side=short', p.tokens.read);
    await request('GET', '/v1/check?ticker=AAPL&at=soon', p.tokens.read);
    await request('GET', '/v1/check', p.tokens.read);
    await request('POST', '/v1/check', p.tokens.read, { items: [{ ticker: 'AAPL' }, { isin: 'bad' }] });
    await request('POST', '/v1/check', p.tokens.read, { items: [] });
    expect(await invalid()).toBe(before + 5);
  });

  it('publishes every route of the table in its OpenAPI document, with who may call it', async () => {
    const document = (await request('GET', '/openapi.json', null)).json();
    const security: Record<string, unknown[]> = {
      public: [],
      read: [{ bearer: [] }, { session: [] }],
      admin: [{ bearer: [] }],
      'admin-form': [{ bearer: [] }, { session: [] }],
    };
    for (const route of ROUTES) {
      const operation = document.paths[route.path]?.[route.method];
      expect(operation, `${route.method} ${route.path}`).toBeDefined();
      expect(operation.summary).toBe(route.summary);
      expect(operation.security, `${route.method} ${route.path}`).toEqual(security[route.access as string]);
      if (route.access === 'admin') expect(operation.responses['403']).toBeDefined();
      if (route.access === 'read' && route.kind === 'json') expect(operation.responses['401']).toBeDefined();
      if (route.query && route.kind === 'json') expect(operation.responses['400']).toBeDefined();
      if (route.body) expect(operation.requestBody).toBeDefined();
      for (const name of (route.path.match(/\{(\w+)\}/g) ?? []).map((match) => match.slice(1, -1)))
        expect(operation.parameters).toContainEqual(
          expect.objectContaining({ name, in: 'path', required: true }),
        );
    }
    const batch = document.paths['/v1/check'].post.requestBody.content['application/json'].schema;
    expect(batch.properties.items).toMatchObject({ type: 'array', minItems: 1, maxItems: 1000 });
    expect(batch.properties.items.items.properties.side.enum).toEqual(['buy', 'sell']);
    expect(
      document.paths['/sign-in'].post.requestBody.content['application/x-www-form-urlencoded'].schema
        .properties,
    ).toHaveProperty('token');
  });

  it('publishes an OpenAPI 3.1 document of every endpoint', async () => {
    const { status, json } = await request('GET', '/openapi.json', null);
    expect(status).toBe(200);
    const document = json();
    expect(document.openapi).toBe('3.1.0');
    for (const route of ROUTES)
      expect(document.paths[route.path]?.[route.method], `${route.method} ${route.path}`).toBeDefined();
    const check = document.paths['/v1/check'].get;
    expect(check.parameters.map((parameter: { name: string }) => parameter.name)).toEqual([
      'ticker',
      'isin',
      'side',
      'at',
    ]);
    expect(check.responses['200'].content['application/json'].schema.properties.severity.enum).toEqual([
      'CRITICAL',
      'NONE',
    ]);
    expect(document.paths['/v1/sync'].post.responses['403']).toBeDefined();
  });
});

/** What an admin asks of Temporal through the API, against the fake SyncControl. */
describe('admin actions', () => {
  let p: ApiOnFakes;
  beforeAll(async () => {
    p = await startApiOnFakes();
    await p.applyList();
  });
  afterAll(() => p.stop());
  afterEach(() => p.sync.setRunning(null));

  it('starts a sync, recorded as manual with the admin token’s name', async () => {
    const started = await p.post('/v1/sync');
    const triggered = p.sync.triggers.at(-1)!;
    expect(started).toEqual({
      status: 202,
      body: { workflow_id: triggered.workflowId, run_id: triggered.runId, already_running: false },
    });
    const runs = (await p.get('/v1/sync/runs?limit=1')).body.runs;
    expect(runs[0]).toMatchObject({ run_id: triggered.runId, trigger: 'manual', requested_by: 'ops-alice' });
  });

  it('returns the run in progress instead of starting another, and records nothing new', async () => {
    const running = await p.startRun();
    p.sync.setRunning(running);
    const before = (await p.get('/v1/sync/runs?limit=50')).body.runs.length;
    const answer = await p.post('/v1/sync');
    expect(answer).toEqual({
      status: 202,
      body: { workflow_id: running.workflowId, run_id: running.runId, already_running: true },
    });
    expect((await p.get('/v1/sync/runs?limit=50')).body.runs).toHaveLength(before);
    expect((await p.get('/v1/sync/runs?limit=1')).body.runs[0]).toMatchObject({
      trigger: 'schedule',
      requested_by: null,
    });
  });

  it('with wait=true, answers with the run held for approval rather than staying open', async () => {
    const before = p.sync.triggers.length;
    const waiting = p.post('/v1/sync?wait=true');
    const triggered = await waitFor('the trigger', async () => p.sync.triggers[before]);
    await waitFor('the run record', () => p.stores.runs.get(triggered.runId));
    await p.stores.runs.markAwaitingApproval(
      triggered.runId,
      'the sync would remove every instrument on the list (4)',
    );
    const held = await waiting;
    expect(held.status).toBe(200);
    expect(held.body).toMatchObject({
      run_id: triggered.runId,
      status: 'awaiting_approval',
      held_reason: 'the sync would remove every instrument on the list (4)',
      requested_by: 'ops-alice',
    });
  });

  it('signals an approval or a rejection to a held run, with who decided', async () => {
    const held = await p.holdRun('the sync would remove 3 of 4 instruments');
    const approved = await p.post(`/v1/sync/runs/${held.workflowId}/approve`);
    expect(approved).toEqual({
      status: 202,
      body: { workflow_id: held.workflowId, run_id: held.runId, decision: 'approved', by: 'ops-alice' },
    });
    const rejected = await p.post(`/v1/sync/runs/${encodeURIComponent(held.workflowId)}/reject`);
    expect(rejected.body.decision).toBe('rejected');
    expect(p.sync.decisions.slice(-2)).toEqual([
      { workflowId: held.workflowId, runId: held.runId, approve: true, by: 'ops-alice' },
      { workflowId: held.workflowId, runId: held.runId, approve: false, by: 'ops-alice' },
    ]);
  });

  it('refuses a decision on an unknown run (404) and on a run not held (409), signalling nothing', async () => {
    const signalled = p.sync.decisions.length;
    expect(await p.post('/v1/sync/runs/no-such-run/approve')).toEqual({
      status: 404,
      body: { error: { code: 'run_not_found', message: 'no sync run has workflow id no-such-run' } },
    });
    const failed = await p.failRun('ConfluenceNotFoundError', 'page 163841 was not found');
    expect(await p.post(`/v1/sync/runs/${failed.workflowId}/reject`)).toEqual({
      status: 409,
      body: {
        error: {
          code: 'not_awaiting_approval',
          message: `run ${failed.workflowId} is failed, not awaiting approval`,
        },
      },
    });
    expect(p.sync.decisions).toHaveLength(signalled);
  });

  it('answers 500 without internals, and logs it, when Temporal refuses', async () => {
    p.sync.failNext('trigger', new Error('14 UNAVAILABLE: connect ECONNREFUSED 10.0.0.7:7233'));
    const answer = await p.request('POST', '/v1/sync');
    expect(answer.status).toBe(500);
    expect(answer.json()).toEqual({ error: { code: 'internal', message: 'internal error' } });
    expect(answer.text).not.toContain('ECONNREFUSED');
    expect(p.logs.some((line) => line.err?.message.includes('ECONNREFUSED'))).toBe(true);

    const held = await p.holdRun('the sync would remove every instrument on the list (4)');
    p.sync.failNext('decide', new Error('workflow execution already completed'));
    const decided = await p.request('POST', `/v1/sync/runs/${held.workflowId}/approve`);
    expect(decided.status).toBe(500);
    expect(decided.text).not.toContain('already completed');
  });

  it('reports a run Temporal has closed without finishing as failed, with what Temporal says', async () => {
    const run = await p.startRun();
    p.sync.setStatus(run.runId, 'TERMINATED');
    const status = (await p.get('/v1/sync/status')).body;
    expect(status).toMatchObject({ status: 'failed', last_error: { code: 'WorkflowTERMINATED' } });
    expect(status.last_error.message).toBe(
      'the workflow is terminated in Temporal; nothing was applied by it',
    );
    p.sync.failNext('progress', new Error('Temporal is down'));
    expect((await p.get('/v1/sync/status')).body.status).toBe('running'); // unknown to Temporal: as recorded
  });
});

describe('API without Temporal, and before the first sync', () => {
  let p: ApiOnFakes;
  beforeAll(async () => {
    p = await startApiOnFakes({ temporal: false });
  });
  afterAll(() => p.stop());

  it('answers 503 list_unavailable to checks and the list, and is not ready', async () => {
    const unavailable = {
      error: {
        code: 'list_unavailable',
        message:
          'no restricted list has been loaded yet (no sync has succeeded): the service cannot say an instrument is not restricted',
      },
    };
    expect(await p.get('/v1/check?ticker=AAPL')).toEqual({ status: 503, body: unavailable });
    expect(await p.post('/v1/check', { items: [{ ticker: 'AAPL' }] })).toEqual({
      status: 503,
      body: unavailable,
    });
    expect(await p.get('/v1/restricted')).toEqual({ status: 503, body: unavailable });
    expect(await p.get('/readyz')).toEqual({
      status: 503,
      body: { ready: false, database: 'ok', list_version: null, instrument_count: 0 },
    });
    expect((await p.get('/v1/sync/status')).body).toMatchObject({
      status: 'never',
      message: 'No sync has run yet',
    });
    const { text } = await p.request('GET', '/metrics', { token: null });
    expect(text).toMatch(/^rls_checks_total\{result="unavailable"\} 2$/m);
  });

  it('answers 503 temporal_unavailable to triggers and decisions', async () => {
    const noTemporal = {
      status: 503,
      body: {
        error: { code: 'temporal_unavailable', message: 'this API process has no Temporal connection' },
      },
    };
    expect(await p.post('/v1/sync')).toEqual(noTemporal);
    const held = await p.holdRun('the sync would remove every instrument on the list (4)');
    expect(await p.post(`/v1/sync/runs/${held.workflowId}/approve`)).toEqual(noTemporal);
  });

  it('answers 500 without internals, logged, when the database fails', async () => {
    p.stores.failNext('runs.latest', new Error('relation "sync_runs" does not exist'));
    const answer = await p.request('GET', '/v1/sync/status');
    expect(answer.status).toBe(500);
    expect(answer.json()).toEqual({ error: { code: 'internal', message: 'internal error' } });
    expect(answer.text).not.toContain('sync_runs');
    expect(p.logs.some((line) => line.err?.message === 'relation "sync_runs" does not exist')).toBe(true);
    p.stores.failNext('runs.currentListVersion', new Error('connection refused'));
    expect(await p.get('/readyz')).toMatchObject({ status: 503, body: { database: 'unreachable' } });
  });
});
