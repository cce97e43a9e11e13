import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ROUTES } from '../../src/api/openapi.ts';
import * as schemas from '../../src/api/schemas.ts';
import { DEMO_PAGE_ID, DEMO_PAGE_STORAGE, DEMO_PAGE_TITLE } from '../../src/dev/demo-page.ts';
import { startPipeline, type Pipeline } from '../helpers/pipeline.ts';

/** Every endpoint of the contract over HTTP: access, errors, batch size, metrics. */
describe('HTTP API', () => {
  let p: Pipeline;
  beforeAll(async () => {
    p = await startPipeline();
    p.confluence.putPage({ id: DEMO_PAGE_ID, title: DEMO_PAGE_TITLE, storage: DEMO_PAGE_STORAGE });
    await p.runSync();
  });
  afterAll(() => p.stop());

  const request = async (method: string, path: string, token: string | null, body?: unknown) => {
    const response = await fetch(`${p.apiUrl}${path}`, {
      method,
      headers: {
        ...(token ? { authorization: `Bearer ${token}` } : {}),
        ...(body === undefined ? {} : { 'content-type': 'application/json' }),
      },
      ...(body === undefined ? {} : { body: JSON.stringify(body) }),
    });
    const text = await response.text();
    return { status: response.status, headers: response.headers, text, json: () => JSON.parse(text) };
  };

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
    const bad = await fetch(`${p.apiUrl}/v1/check`, {
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

  it('keeps a caller’s request id and makes one otherwise', async () => {
    const given = await fetch(`${p.apiUrl}/v1/sync/status`, {
      headers: { authorization: `Bearer ${p.tokens.read}`, 'x-request-id': 'trade-123' },
    });
    expect(given.headers.get('x-request-id')).toBe('trade-123');
    const made = await fetch(`${p.apiUrl}/v1/sync/status`, {
      headers: { authorization: `Bearer ${p.tokens.read}` },
    });
    expect(made.headers.get('x-request-id')).toMatch(/^[0-9a-f-]{36}$/);
  });

  it('exports check results, latency, list size and sync health as Prometheus metrics', async () => {
    await request('GET', '/v1/check?ticker=AAPL', p.tokens.read);
    await request('GET', '/v1/check?ticker=NOPE', p.tokens.read);
    const { text } = await request('GET', '/metrics', null);
    expect(text).toMatch(/^rls_checks_total\{result="restricted"\} [1-9]\d*$/m);
    expect(text).toMatch(/^rls_checks_total\{result="not_restricted"\} [1-9]\d*$/m);
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
    const finished = await request('POST', '/v1/sync?wait=true', p.tokens.admin);
    expect(() => schemas.runSchema.parse(finished.json())).not.toThrow();
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
