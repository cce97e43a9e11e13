import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import {
  ConfluenceAuthError,
  ConfluenceNotFoundError,
  ConfluenceRateLimitError,
  ConfluenceUnavailableError,
  createConfluenceReader,
  type ConfluenceReader,
} from '../../src/confluence/client.ts';
import { startFakeConfluence, type FakeConfluence } from '../../src/dev/fake-confluence.ts';

/** confluence.js over real HTTP against our fake Confluence (never mocked). */
describe('Confluence reader', () => {
  let fake: FakeConfluence;
  let reader: ConfluenceReader;
  const storage = '<table><tbody><tr><th>Ticker</th></tr><tr><td>AAPL</td></tr></tbody></table>';

  beforeAll(async () => {
    fake = await startFakeConfluence();
    reader = createConfluenceReader({ url: fake.url, username: fake.username, apiToken: fake.apiToken });
  });
  afterAll(() => fake.close());
  beforeEach(() => {
    fake.putPage({ id: '123456', title: 'Restricted List', storage });
  });

  it('reads the storage body, version, editor and web link of a page', async () => {
    fake.putPage({ id: '123456', title: 'Restricted List', storage });
    const page = await reader.getPage('123456');
    expect(page).toMatchObject({
      id: '123456',
      title: 'Restricted List',
      storage,
      editedBy: 'Compliance Officer',
    });
    expect(page.version).toBe(fake.page('123456')!.version);
    expect(page.url).toBe(`${fake.url}/wiki/spaces/COMP/pages/123456/Restricted%2BList`);
    const request = fake.requests.find((r) => r.path === '/wiki/api/v2/pages/123456?body-format=storage');
    expect(request?.authorized).toBe(true);
  });

  it('raises ConfluenceNotFoundError for a missing page, naming the page', async () => {
    const error = await reader.getPage('999').catch((e: unknown) => e);
    expect(error).toBeInstanceOf(ConfluenceNotFoundError);
    expect((error as Error).message).toMatch(/^get page 999: .*404/);
  });

  it('raises ConfluenceAuthError for rejected credentials, never showing the token', async () => {
    const wrong = createConfluenceReader({
      url: fake.url,
      username: fake.username,
      apiToken: 'wrong-token-value-42',
    });
    const error = await wrong.getPage('123456').catch((e: unknown) => e);
    expect(error).toBeInstanceOf(ConfluenceAuthError);
    expect((error as Error).message).toContain(`user ${fake.username} (401)`);
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
  });

  it.each([500, 502, 503])('raises ConfluenceUnavailableError for %i', async (status) => {
    fake.fail({ status });
    await expect(reader.getPage('123456')).rejects.toBeInstanceOf(ConfluenceUnavailableError);
  });

  it('raises ConfluenceUnavailableError when the server cannot be reached', async () => {
    const closed = await startFakeConfluence();
    await closed.close();
    const unreachable = createConfluenceReader({
      url: closed.url,
      username: 'bot@example.com',
      apiToken: 'token',
    });
    await expect(unreachable.getPage('1')).rejects.toBeInstanceOf(ConfluenceUnavailableError);
  });
});

describe('resolvePageId', () => {
  let fake: FakeConfluence;
  let reader: ConfluenceReader;
  beforeAll(async () => {
    fake = await startFakeConfluence();
    reader = createConfluenceReader({ url: fake.url, username: fake.username, apiToken: fake.apiToken });
    fake.putPage({ id: '123456', title: 'Restricted Instruments (Q4)', storage: '<p/>' });
    fake.putPage({ id: '123457', title: 'Restricted Instruments (Q4) archive', storage: '<p/>' });
  });
  afterAll(() => fake.close());

  it('reads every link form Compliance may paste', async () => {
    const forms = [
      '123456',
      fake.pageUrl('123456'),
      `${fake.url}/wiki/pages/viewpage.action?pageId=123456`,
      fake.tinyLink('123456'),
      fake.displayUrl('123456'),
    ];
    for (const form of forms) expect(await reader.resolvePageId(form), form).toBe('123456');
  });

  it('looks /display/KEY/Title links up by exact title in that space', async () => {
    const before = fake.requests.length;
    expect(await reader.resolvePageId(`${fake.url}/display/COMP/Restricted+Instruments+%28Q4%29`)).toBe(
      '123456',
    );
    expect(fake.requests.slice(before).map((r) => r.path)).toEqual([
      expect.stringMatching(
        /^\/wiki\/rest\/api\/content\/search\?cql=type\+%3D\+page\+and\+space\+%3D\+%22COMP%22\+and\+title\+%3D\+%22Restricted\+Instruments\+%28Q4%29%22/,
      ),
    ]);
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

describe('reading many pages', () => {
  let fake: FakeConfluence;
  let reader: ConfluenceReader;
  beforeAll(async () => {
    fake = await startFakeConfluence();
    reader = createConfluenceReader({ url: fake.url, username: fake.username, apiToken: fake.apiToken });
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
    expect(fake.requests.length - before).toBe(12); // 100 a request, cursor-paginated
  });

  it('lists the ids of a space of 4,000+ pages in requests of 250', async () => {
    const before = fake.requests.length;
    const ids = await reader.getSpacePageIds('ENG');
    expect(ids).toHaveLength(4_100);
    expect(fake.requests.length - before).toBe(1 + 17); // the space lookup, then 17 pages of ids
  });

  it('asks the versions of many pages in one request, bodies not included', async () => {
    const ids = ['200000', '200001', '200002', '999999'];
    const before = fake.requests.length;
    const versions = await reader.getPageVersions(ids);
    expect([...versions.keys()].sort()).toEqual(['200000', '200001', '200002']); // a deleted page is absent
    expect(versions.get('200001')).toEqual({ id: '200001', title: 'Restricted list part 1', version: 1 });
    const requests = fake.requests.slice(before);
    expect(requests).toHaveLength(1);
    expect(requests[0]!.path).not.toContain('body-format');
  });
});

describe('transport failures', () => {
  let fake: FakeConfluence;
  let reader: ConfluenceReader;
  beforeAll(async () => {
    fake = await startFakeConfluence();
    reader = createConfluenceReader({
      url: fake.url,
      username: fake.username,
      apiToken: fake.apiToken,
      timeoutMs: 300,
    });
    fake.putPage({ id: '123456', title: 'Restricted List', storage: '<p>x</p>' });
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
