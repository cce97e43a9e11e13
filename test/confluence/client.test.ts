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
    expect(page).toMatchObject({ id: '123456', title: 'Restricted List', storage, editedBy: '557058:compliance-officer' });
    expect(page.version).toBe(fake.page('123456')!.version);
    expect(page.url).toBe(`${fake.url}/wiki/spaces/COMP/pages/123456/Restricted%2BList`);
    const last = fake.requests.at(-1)!;
    expect(last.path).toBe('/wiki/api/v2/pages/123456?body-format=storage');
    expect(last.authorized).toBe(true);
  });

  it('raises ConfluenceNotFoundError for a missing page, naming the page', async () => {
    const error = await reader.getPage('999').catch((e: unknown) => e);
    expect(error).toBeInstanceOf(ConfluenceNotFoundError);
    expect((error as Error).message).toMatch(/^get page 999: .*404/);
  });

  it('raises ConfluenceAuthError for rejected credentials, never showing the token', async () => {
    const wrong = createConfluenceReader({ url: fake.url, username: fake.username, apiToken: 'wrong-token-value-42' });
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
    fake.fail({ status: 429, headers: { 'retry-after': '7', 'x-ratelimit-limit': '100', 'x-ratelimit-remaining': '0' } });
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
    const unreachable = createConfluenceReader({ url: closed.url, username: 'bot@example.com', apiToken: 'token' });
    await expect(unreachable.getPage('1')).rejects.toBeInstanceOf(ConfluenceUnavailableError);
  });
});
