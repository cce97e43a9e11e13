import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { loadConfig } from '../../src/config.ts';
import {
  ConfluenceAuthError,
  ConfluenceConfigError,
  ConfluenceNotFoundError,
  ConfluenceRateLimitError,
  ConfluenceUnavailableError,
  confluenceSettings,
  createConfluenceReader,
  type ConfluenceReader,
} from '../../src/confluence/client.ts';
import {
  FAKE_FLAVOURS,
  startFakeConfluence,
  type FakeConfluence,
  type FakeConfluenceOptions,
} from '../../src/dev/fake-confluence.ts';

/**
 * A reader configured exactly as the service would be from the fake's environment: confluence.js
 * (Cloud) or our own client (Data Center) over real HTTP against the fake (never mocked).
 */
function readerFor(
  fake: FakeConfluence,
  env: Record<string, string> = {},
  settings: { timeoutMs?: number } = {},
): ConfluenceReader {
  const config = loadConfig({ ...fake.env, RESTRICTED_INSTRUMENTS_PAGE_URL: '1', ...env });
  return createConfluenceReader({ ...confluenceSettings(config.confluence), ...settings });
}

const since = (fake: FakeConfluence, before: number) => fake.requests.slice(before);

describe.each(FAKE_FLAVOURS)('Confluence reader on %s', (flavour) => {
  let fake: FakeConfluence;
  let reader: ConfluenceReader;
  const storage = '<table><tbody><tr><th>Ticker</th></tr><tr><td>AAPL</td></tr></tbody></table>';

  beforeAll(async () => {
    fake = await startFakeConfluence({ flavour });
    reader = readerFor(fake);
  });
  afterAll(() => fake.close());
  beforeEach(() => {
    fake.putPage({ id: '123456', title: 'Restricted List', storage });
  });

  it('reads the storage body, version, editor and web link of a page', async () => {
    const page = await reader.getPage('123456');
    expect(page).toMatchObject({
      id: '123456',
      title: 'Restricted List',
      storage,
      editedBy: 'Compliance Officer',
      editedAt: fake.page('123456')!.updatedAt,
    });
    expect(page.version).toBe(fake.page('123456')!.version);
    // The link people open is on the site, whichever way the API was reached.
    expect(page.url).toBe(fake.pageUrl('123456'));
    const request = fake.requests.find((r) => r.kind === 'page' && r.path.includes('123456'));
    expect(request?.authorized).toBe(true);
  });

  it('raises ConfluenceNotFoundError for a missing page, naming the page', async () => {
    const error = await reader.getPage('999').catch((e: unknown) => e);
    expect(error).toBeInstanceOf(ConfluenceNotFoundError);
    expect((error as Error).message).toMatch(/^get page 999: .*404/);
  });

  it('raises ConfluenceAuthError for rejected credentials, never showing the token', async () => {
    const wrong = readerFor(fake, { CONFLUENCE_API_TOKEN: 'wrong-token-value-42' });
    const error = await wrong.getPage('123456').catch((e: unknown) => e);
    expect(error).toBeInstanceOf(ConfluenceAuthError);
    expect((error as Error).message).toContain(
      flavour === 'datacenter' ? 'rejected the personal access token (401)' : `user ${fake.username} (401)`,
    );
    expect((error as Error).message).not.toContain('wrong-token-value-42');
    expect(JSON.stringify(error, Object.getOwnPropertyNames(error))).not.toContain('wrong-token-value-42');
  });

  it('raises ConfluenceAuthError for 403 (no permission on the page)', async () => {
    fake.fail({ status: 403 });
    await expect(reader.getPage('123456')).rejects.toBeInstanceOf(ConfluenceAuthError);
  });

  it("raises ConfluenceRateLimitError carrying the server's Retry-After", async () => {
    fake.fail({
      status: 429,
      headers: { 'retry-after': '7', 'x-ratelimit-limit': '100', 'x-ratelimit-remaining': '0' },
    });
    const error = await reader.getPage('123456').catch((e: unknown) => e);
    expect(error).toBeInstanceOf(ConfluenceRateLimitError);
    expect((error as ConfluenceRateLimitError).retryAfterMs).toBe(7000);
    expect((error as Error).message).toMatch(
      /^get page 123456: Confluence is rate limiting requests \(429, retry after 7 s\)/,
    );
  });

  it.each([500, 502, 503])('raises ConfluenceUnavailableError for %i', async (status) => {
    fake.fail({ status });
    await expect(reader.getPage('123456')).rejects.toBeInstanceOf(ConfluenceUnavailableError);
  });

  it('is held by a gate until it is released (the fake steers every flavour alike)', async () => {
    const gate = fake.hold({ kind: 'page' });
    let answered = false;
    const reading = reader.getPage('123456').then((page) => {
      answered = true;
      return page;
    });
    await gate.arrived;
    expect(answered).toBe(false);
    gate.release();
    expect((await reading).id).toBe('123456');
  });

  it('raises ConfluenceUnavailableError when the server cannot be reached', async () => {
    const closed = await startFakeConfluence({ flavour });
    const unreachable = readerFor(
      closed,
      flavour === 'cloud-scoped' ? { CONFLUENCE_CLOUD_ID: closed.cloudId } : {},
    );
    await closed.close();
    await expect(unreachable.getPage('1')).rejects.toBeInstanceOf(ConfluenceUnavailableError);
  });
});

describe.each(FAKE_FLAVOURS)('resolvePageId on %s', (flavour) => {
  let fake: FakeConfluence;
  let reader: ConfluenceReader;
  beforeAll(async () => {
    fake = await startFakeConfluence({ flavour });
    reader = readerFor(fake);
    fake.putPage({ id: '123456', title: 'Restricted Instruments (Q4)', storage: '<p/>' });
    fake.putPage({ id: '123457', title: 'Restricted Instruments (Q4) archive', storage: '<p/>' });
  });
  afterAll(() => fake.close());

  it('reads every link form Compliance may paste', async () => {
    const { id: _id, ...forms } = fake.links('123456');
    for (const form of ['123456', ...Object.values(forms)])
      expect(await reader.resolvePageId(form), form).toBe('123456');
  });

  it('looks /display/KEY/Title links up by exact title in that space', async () => {
    const before = fake.requests.length;
    expect(await reader.resolvePageId(`${fake.url}/display/COMP/Restricted+Instruments+%28Q4%29`)).toBe(
      '123456',
    );
    const requests = since(fake, before);
    expect(requests.map((r) => r.kind)).toEqual(['search']);
    expect(requests[0]!.path).toContain(
      '/rest/api/content/search?cql=type+%3D+page+and+space+%3D+%22COMP%22+and+title+%3D+%22Restricted+Instruments+%28Q4%29%22',
    );
  });

  it('says which page could not be found', async () => {
    const error = await reader
      .resolvePageId(`${fake.url}/display/COMP/No+Such+Page`)
      .catch((e: unknown) => e);
    expect(error).toBeInstanceOf(ConfluenceNotFoundError);
    expect((error as Error).message).toContain('resolve page "No Such Page" in space COMP');
  });

  it('rejects a link with no page in it', async () => {
    await expect(reader.resolvePageId(`${fake.url}/wiki/home`)).rejects.toThrow(/cannot find a page id/);
  });
});

/** How many requests each listing takes, per flavour: Cloud pages by cursor, Data Center by start/limit. */
const LISTING_COST = {
  cloud: { search: 12, space: 1 + 17, versionsOfFour: 1 },
  'cloud-scoped': { search: 12, space: 1 + 17, versionsOfFour: 1 },
  // 100 results a search; 200 ids a space listing; a page the search misses is asked for directly.
  datacenter: { search: 12, space: 1 + 21, versionsOfFour: 1 + 1 },
} as const;

describe.each(FAKE_FLAVOURS)('reading many pages on %s', (flavour) => {
  let fake: FakeConfluence;
  let reader: ConfluenceReader;
  beforeAll(async () => {
    fake = await startFakeConfluence({ flavour });
    reader = readerFor(fake, flavour === 'cloud-scoped' ? { CONFLUENCE_CLOUD_ID: fake.cloudId } : {});
    for (let i = 0; i < 1_200; i += 1) {
      fake.putPage({
        id: String(200_000 + i),
        title: `Restricted list part ${i}`,
        storage: '<p/>',
        labels: ['restricted-list'],
      });
    }
    for (let i = 0; i < 4_100; i += 1)
      fake.putPage({
        id: String(500_000 + i),
        title: `Engineering page ${i}`,
        spaceKey: 'ENG',
        storage: '<p/>',
      });
  });
  afterAll(() => fake.close());

  it('follows every page of CQL results past 1,000', async () => {
    const before = fake.requests.length;
    const found = await reader.cqlSearch('label = "restricted-list" and space = COMP');
    expect(found).toHaveLength(1_200);
    expect(new Set(found.map((p) => p.id)).size).toBe(1_200);
    expect(found[0]).toEqual({ id: '200000', title: 'Restricted list part 0', version: 1 });
    expect(since(fake, before)).toHaveLength(LISTING_COST[flavour].search);
  });

  it('lists the ids of a space of 4,000+ pages', async () => {
    const before = fake.requests.length;
    const ids = await reader.getSpacePageIds('ENG');
    expect(ids).toHaveLength(4_100);
    expect(new Set(ids).size).toBe(4_100);
    expect(since(fake, before)).toHaveLength(LISTING_COST[flavour].space);
  });

  it('says so when the space does not exist', async () => {
    await expect(reader.getSpacePageIds('NOPE')).rejects.toBeInstanceOf(ConfluenceNotFoundError);
  });

  it('asks the versions of many pages in one request, bodies not included', async () => {
    const ids = ['200000', '200001', '200002', '999999'];
    const before = fake.requests.length;
    const versions = await reader.getPageVersions(ids);
    expect([...versions.keys()].sort()).toEqual(['200000', '200001', '200002']); // a deleted page is absent
    expect(versions.get('200001')).toEqual({ id: '200001', title: 'Restricted list part 1', version: 1 });
    const requests = since(fake, before);
    expect(requests).toHaveLength(LISTING_COST[flavour].versionsOfFour);
    expect(requests[0]!.kind).toBe('versions');
    for (const request of requests) expect(request.path).not.toMatch(/body-format|body\.storage/);
  });
});

describe.each(FAKE_FLAVOURS)('transport failures on %s', (flavour) => {
  let fake: FakeConfluence;
  let reader: ConfluenceReader;
  beforeAll(async () => {
    fake = await startFakeConfluence({ flavour });
    reader = readerFor(fake, {}, { timeoutMs: 300 });
    fake.putPage({ id: '123456', title: 'Restricted List', storage: '<p>x</p>' });
    // The cloud id is discovered before the faults below, which aim at the page.
    await reader.getPage('123456');
  });
  afterAll(() => fake.close());

  it('gives up on a slow answer after the timeout, naming the operation', async () => {
    fake.fail({ delayMs: 1_000 });
    const error = await reader.getPage('123456').catch((e: unknown) => e);
    expect(error).toBeInstanceOf(ConfluenceUnavailableError);
    expect((error as Error).message).toBe('get page 123456: Confluence did not answer within 0.3 s');
  });

  it('treats a connection reset as unavailable', async () => {
    fake.fail({ reset: true });
    await expect(reader.getPage('123456')).rejects.toBeInstanceOf(ConfluenceUnavailableError);
  });

  it('treats a truncated body as unavailable', async () => {
    fake.fail({ truncate: true });
    await expect(reader.getPage('123456')).rejects.toBeInstanceOf(ConfluenceUnavailableError);
  });

  it('answers normally once the fault has passed', async () => {
    expect((await reader.getPage('123456')).storage).toBe('<p>x</p>');
  });
});

/** A service account's scoped token: every call through the gateway, the cloud id found once. */
describe('a scoped API token (Cloud service accounts)', () => {
  const started: FakeConfluence[] = [];
  const start = async (options: FakeConfluenceOptions = {}) => {
    const fake = await startFakeConfluence({ flavour: 'cloud-scoped', ...options });
    started.push(fake);
    fake.putPage({
      id: '123456',
      title: 'Restricted List',
      storage: '<p>x</p>',
      labels: ['restricted-list'],
    });
    return fake;
  };
  afterAll(() => Promise.all(started.map((fake) => fake.close())));

  it('calls the gateway with the cloud id it read once from the site, and links to the site', async () => {
    const fake = await start();
    const reader = readerFor(fake);
    const page = await reader.getPage('123456');
    await reader.getPageVersions(['123456']);
    await reader.cqlSearch('label = "restricted-list"');
    expect(page.url).toBe(`${fake.url}/wiki/spaces/COMP/pages/123456/Restricted%2BList`);
    expect(fake.requests.map((r) => [r.via, r.method, r.path.replace(/\?.*/, ''), r.scope])).toEqual([
      ['site', 'GET', '/_edge/tenant_info', null],
      ['gateway', 'GET', `/ex/confluence/${fake.cloudId}/wiki/api/v2/pages/123456`, 'read:page:confluence'],
      ['gateway', 'POST', `/ex/confluence/${fake.cloudId}/wiki/api/v2/users-bulk`, 'read:user:confluence'],
      ['gateway', 'GET', `/ex/confluence/${fake.cloudId}/wiki/api/v2/pages`, 'read:page:confluence'],
      [
        'gateway',
        'GET',
        `/ex/confluence/${fake.cloudId}/wiki/rest/api/content/search`,
        'read:content-details:confluence',
      ],
    ]);
  });

  it('does not look the cloud id up when CONFLUENCE_CLOUD_ID is set', async () => {
    const fake = await start();
    await readerFor(fake, { CONFLUENCE_CLOUD_ID: fake.cloudId }).getPage('123456');
    expect(fake.requests.map((r) => r.kind)).not.toContain('tenant-info');
  });

  it('says in one line, naming CONFLUENCE_CLOUD_ID, when the site publishes no cloud id', async () => {
    const notCloud = await startFakeConfluence({ flavour: 'datacenter', contextPath: '' });
    started.push(notCloud);
    const reader = createConfluenceReader({
      url: notCloud.url,
      username: 'bot@example.com',
      apiToken: 'scoped-token',
      scoped: { gatewayUrl: notCloud.url, cloudId: null },
    });
    const error = await reader.getPage('123456').catch((e: unknown) => e);
    expect(error).toBeInstanceOf(ConfluenceConfigError);
    expect((error as Error).message).toBe(
      `CONFLUENCE_CLOUD_ID: could not read the cloud id from ${notCloud.url}/_edge/tenant_info (HTTP 404: is CONFLUENCE_URL an Atlassian Cloud site?); set CONFLUENCE_CLOUD_ID`,
    );
  });

  it('retries the discovery after a failure that may pass (a 503), then keeps the id', async () => {
    const fake = await start();
    const reader = readerFor(fake);
    fake.fail({ kind: 'tenant-info', status: 503 });
    const error = await reader.getPage('123456').catch((e: unknown) => e);
    expect(error).toBeInstanceOf(ConfluenceUnavailableError);
    expect((error as Error).message).toMatch(
      /^CONFLUENCE_CLOUD_ID: could not read the cloud id from .* \(HTTP 503\); set CONFLUENCE_CLOUD_ID$/,
    );
    await reader.getPage('123456');
    await reader.getPage('123456');
    expect(fake.requests.filter((r) => r.kind === 'tenant-info')).toHaveLength(2);
  });

  it('names the scope a call lacks, and every scope the service needs', async () => {
    const fake = await start({ scopes: ['read:page:confluence', 'read:user:confluence'] });
    const reader = readerFor(fake);
    expect((await reader.getPage('123456')).editedBy).toBe('Compliance Officer');
    const error = await reader.cqlSearch('label = "restricted-list"').catch((e: unknown) => e);
    expect(error).toBeInstanceOf(ConfluenceAuthError);
    expect((error as Error).message).toBe(
      `search "label = "restricted-list"": Confluence refused the scoped API token of ${fake.username} (401: scope does not match): this call needs read:content-details:confluence; the token needs the scopes read:page:confluence, read:content-details:confluence, read:user:confluence`,
    );
  });

  it('accepts the classic search scope for CQL, and shows account ids without read:user', async () => {
    const fake = await start({ scopes: ['read:page:confluence', 'search:confluence'] });
    const reader = readerFor(fake);
    expect(await reader.cqlSearch('label = "restricted-list"')).toHaveLength(1);
    expect((await reader.getPage('123456')).editedBy).toBe('557058:compliance-officer');
  });

  it('tells a scoped token sent to the site (CONFLUENCE_API_TOKEN_SCOPED unset) what to set', async () => {
    const fake = await start();
    const reader = readerFor(fake, { CONFLUENCE_API_TOKEN_SCOPED: 'false' });
    const error = await reader.getPage('123456').catch((e: unknown) => e);
    expect(error).toBeInstanceOf(ConfluenceAuthError);
    expect((error as Error).message).toBe(
      `get page 123456: Confluence refused the API token of ${fake.username} (401: scope does not match): it is a scoped API token, which works only through the Atlassian API gateway; set CONFLUENCE_API_TOKEN_SCOPED=true`,
    );
  });
});

describe('Confluence Data Center specifics', () => {
  const started: FakeConfluence[] = [];
  const start = async (options: FakeConfluenceOptions = {}) => {
    const fake = await startFakeConfluence({ flavour: 'datacenter', ...options });
    started.push(fake);
    fake.putPage({ id: '123456', title: 'Restricted List', storage: '<p>x</p>' });
    return fake;
  };
  afterAll(() => Promise.all(started.map((fake) => fake.close())));

  it('sends a personal access token as a bearer token under the context path', async () => {
    const fake = await start();
    expect(fake.env).toEqual({
      CONFLUENCE_DEPLOYMENT: 'datacenter',
      CONFLUENCE_URL: `${fake.url}`,
      CONFLUENCE_API_TOKEN: fake.apiToken,
    });
    expect(fake.url).toMatch(/\/confluence$/);
    await readerFor(fake).getPage('123456');
    expect(fake.requests.map((r) => [r.path, r.authorized])).toEqual([
      ['/confluence/rest/api/content/123456?expand=body.storage%2Cversion', true],
    ]);
  });

  it('sends a username and password as basic auth, and works without a context path', async () => {
    const fake = await start({ auth: 'basic', contextPath: '' });
    expect(fake.env.CONFLUENCE_USERNAME).toBe('compliance-bot');
    expect((await readerFor(fake).getPage('123456')).url).toBe(
      `${fake.url}/pages/viewpage.action?pageId=123456`,
    );
    expect(fake.requests[0]).toMatchObject({
      path: '/rest/api/content/123456?expand=body.storage%2Cversion',
    });
    const error = await readerFor(fake, { CONFLUENCE_API_TOKEN: 'wrong' })
      .getPage('123456')
      .catch((e: unknown) => e);
    expect((error as Error).message).toBe(
      "get page 123456: Confluence rejected the credentials for user compliance-bot (401): check CONFLUENCE_USERNAME and CONFLUENCE_API_TOKEN (that user's password), and that the user can read the page",
    );
  });

  it('names the editor by display name, else by username', async () => {
    const fake = await start();
    const reader = readerFor(fake);
    fake.putPage({ id: '123456', title: 'Restricted List', storage: '<p/>', authorName: 'Carol Compliance' });
    expect((await reader.getPage('123456')).editedBy).toBe('Carol Compliance');
    fake.putPage({ id: '123456', title: 'Restricted List', storage: '<p/>', authorUsername: 'jdoe' });
    expect((await reader.getPage('123456')).editedBy).toBe('jdoe');
  });

  it('explains a 429 with the rate limiter headers Data Center sends', async () => {
    const fake = await start();
    const reader = readerFor(fake);
    fake.fail({ status: 429, headers: { 'retry-after': '2' } });
    const error = await reader.getPage('123456').catch((e: unknown) => e);
    expect(error).toBeInstanceOf(ConfluenceRateLimitError);
    expect((error as ConfluenceRateLimitError).retryAfterMs).toBe(2000);
    expect((error as Error).message).toBe(
      'get page 123456: Confluence is rate limiting requests (429, retry after 2 s): 0 of 20 requests left, 10 more every 1 s',
    );
  });

  it('reads a Retry-After date, and a blocked user (Long.MAX_VALUE, limit 0) as an hour and why', async () => {
    const fake = await start();
    const reader = readerFor(fake);
    fake.fail({ status: 429, headers: { 'retry-after': new Date(Date.now() + 30_000).toUTCString() } });
    const dated = (await reader.getPage('123456').catch((e: unknown) => e)) as ConfluenceRateLimitError;
    expect(dated.retryAfterMs).toBeGreaterThan(25_000);
    expect(dated.retryAfterMs).toBeLessThanOrEqual(30_000);
    fake.fail({
      status: 429,
      headers: {
        'retry-after': '9223372036854775807',
        'x-ratelimit-limit': '0',
        'x-ratelimit-fillrate': '0',
      },
    });
    const blocked = (await reader.getPage('123456').catch((e: unknown) => e)) as ConfluenceRateLimitError;
    expect(blocked.retryAfterMs).toBe(60 * 60 * 1000);
    expect(blocked.message).toContain('blocked by a rate limit a Confluence admin set');
  });

  it('asks for a page the search index missed before calling it gone', async () => {
    const fake = await start();
    const reader = readerFor(fake);
    fake.fail({
      kind: 'versions',
      status: 200,
      body: { results: [], start: 0, limit: 1, size: 0, _links: {} },
    });
    const versions = await reader.getPageVersions(['123456']);
    expect(versions.get('123456')?.version).toBe(fake.page('123456')!.version);
    expect(fake.requests.map((r) => r.path)).toEqual([
      '/confluence/rest/api/content/search?cql=id+in+%28123456%29&expand=version&start=0&limit=1',
      '/confluence/rest/api/content/123456?expand=version',
    ]);
  });
});
