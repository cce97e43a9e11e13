import { WorkflowFailedError } from '@temporalio/client';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  FAKE_FLAVOURS,
  type FakeConfluence,
  type FakeFault,
  type FakeFlavour,
  type RecordedRequest,
} from '../../src/dev/fake-confluence.ts';
import { createListSource } from '../../src/sync/sources.ts';
import { startPipeline, type Pipeline } from '../helpers/pipeline.ts';

const table = (...rows: [string, string, string][]) =>
  `<table><tbody><tr><th>Ticker</th><th>Reason</th><th>Type</th></tr>${rows
    .map(([ticker, reason, type]) => `<tr><td><p>${ticker}</p></td><td>${reason}</td><td>${type}</td></tr>`)
    .join('')}</tbody></table>`;

function putListPages(confluence: FakeConfluence) {
  confluence.putPage({
    id: '300001',
    title: 'Restricted - Equities',
    storage: table(['AAPL', 'MNPI', 'Full'], ['MSFT', 'Mandate', 'Buy only']),
  });
  confluence.putPage({
    id: '300002',
    title: 'Restricted - Bonds',
    storage: table(['XS1', 'Underwriting', 'Full']),
    authorName: 'Bond Desk Compliance',
  });
  confluence.putPage({
    id: '300003',
    title: 'Restricted - EMEA',
    storage: table(['VOD LN', 'Advisory', 'Sell only'], ['AAPL', 'Also EMEA', 'Full']),
  });
}

/** The API paths each flavour's client asks, as the fake records them. */
function apiOf(flavour: FakeFlavour, confluence: FakeConfluence) {
  const wiki = flavour === 'cloud-scoped' ? `/ex/confluence/${confluence.cloudId}/wiki` : '/wiki';
  if (flavour === 'datacenter') {
    return {
      versions: (ids: string[]) =>
        `/confluence/rest/api/content/search?cql=id+in+%28${ids.join('%2C')}%29&expand=version&start=0&limit=${ids.length}`,
      page: (id: string) => `/confluence/rest/api/content/${id}?expand=body.storage%2Cversion`,
      search: (cql: string) =>
        `/confluence/rest/api/content/search?${new URLSearchParams({ cql, expand: 'version', start: '0', limit: '100' })}`,
    };
  }
  return {
    versions: (ids: string[]) => `${wiki}/api/v2/pages?${ids.map((id) => `id=${id}`).join('&')}&limit=250`,
    page: (id: string) => `${wiki}/api/v2/pages/${id}?body-format=storage`,
    search: (cql: string) =>
      `${wiki}/rest/api/content/search?${new URLSearchParams({ cql, expand: 'version', limit: '100' })}`,
  };
}

/** Method, path and (gateway) scope of each request, for assertions and for the record. */
const shapes = (requests: RecordedRequest[]) =>
  requests.map((r) => `${r.method} ${r.path}${r.scope ? `  [${r.scope}]` : ''}`);

describe.each(FAKE_FLAVOURS)('Confluence pages on %s', (flavour) => {
  /** A list spread over several pages, named by every link form; change detection by versions. */
  describe('a list on several named pages', () => {
    let p: Pipeline;
    let api: ReturnType<typeof apiOf>;

    beforeAll(async () => {
      p = await startPipeline(
        (confluence) => {
          putListPages(confluence);
          return {
            RESTRICTED_INSTRUMENTS_PAGE_URL: [
              confluence.links('300001').spaces,
              confluence.links('300002').tiny,
              confluence.links('300003').viewpage,
            ].join(', '),
          };
        },
        { flavour },
      );
      api = apiOf(flavour, p.confluence);
    });
    afterAll(() => p.stop());

    it('syncs the union of the pages, merging an instrument listed twice', async () => {
      const result = await p.runSync();
      expect(result).toMatchObject({ status: 'succeeded', added: 4, warningCount: expect.any(Number) });
      expect(result.pages.map((page) => [page.id, page.version])).toEqual([
        ['300001', 1],
        ['300002', 1],
        ['300003', 1],
      ]);
      expect(await p.activeTickers()).toEqual(['AAPL', 'MSFT', 'VOD LN', 'XS1']);
      const aapl = await p.database.db('restricted_instruments').where({ ticker: 'AAPL' }).first();
      expect(aapl.reason).toBe('MNPI; Also EMEA');
      const bondChange = await p.database.db('instrument_changes').where({ ticker: 'XS1' }).first();
      expect(bondChange).toMatchObject({
        change: 'added',
        page_id: '300002',
        page_version: 1,
        edited_by: 'Bond Desk Compliance',
      });
      // The links shown to people are the site's, in that flavour's shape.
      const status = (await p.get('/v1/sync/status')).body;
      expect(status.pages.map((page: { url: string }) => page.url)).toEqual(
        ['300001', '300002', '300003'].map((id) => p.confluence.pageUrl(id)),
      );
    });

    it('an unchanged hourly sync of a 3-page list makes one request (versions only)', async () => {
      const before = p.confluence.requests.length;
      const result = await p.runSync();
      expect(result).toMatchObject({ added: 0, removed: 0, modified: 0, unchanged: 4 });
      expect(p.confluence.requests.slice(before).map((r) => r.path)).toEqual([
        api.versions(['300001', '300002', '300003']),
      ]);
    });

    it('downloads only the page that changed', async () => {
      p.confluence.putPage({
        id: '300002',
        title: 'Restricted - Bonds',
        storage: table(['XS1', 'Underwriting', 'Full'], ['XS2', 'New issue', 'Full']),
      });
      const before = p.confluence.requests.length;
      const result = await p.runSync();
      expect(result).toMatchObject({ added: 1, unchanged: 4 });
      const downloads = p.confluence.requests.slice(before).filter((r) => r.kind === 'page');
      expect(downloads.map((r) => r.path)).toEqual([api.page('300002')]);
    });

    it('a named page that disappears fails the run as not found and keeps the list', async () => {
      p.confluence.deletePage('300003');
      const error = await p.runSync().catch((e: unknown) => e);
      expect(error).toBeInstanceOf(WorkflowFailedError);
      const status = await p.get('/v1/sync/status');
      expect(status.body.last_error).toMatchObject({
        code: 'ConfluenceNotFoundError',
        message: expect.stringContaining('get page 300003'),
      });
      expect(await p.activeTickers()).toEqual(['AAPL', 'MSFT', 'VOD LN', 'XS1', 'XS2']);
    });
  });

  describe('list pages found by CQL', () => {
    const CQL = 'label = "restricted-list" and space = COMP';
    const TITLE_CQL = 'type = page and space = "COMP" and title = "Restricted - main"';
    let p: Pipeline;
    let api: ReturnType<typeof apiOf>;
    beforeAll(async () => {
      p = await startPipeline(
        (confluence) => {
          confluence.putPage({
            id: '400001',
            title: 'Restricted - main',
            storage: table(['AAPL', 'MNPI', 'Full']),
          });
          confluence.putPage({
            id: '400002',
            title: 'Restricted - deal team',
            storage: table(['NVDA', 'Deal', 'Full']),
            labels: ['restricted-list'],
          });
          confluence.putPage({
            id: '400003',
            title: 'Unrelated',
            storage: table(['ZZZ', 'not a list page', 'Full']),
          });
          return {
            RESTRICTED_INSTRUMENTS_PAGE_URL: confluence.links('400001').display,
            RESTRICTED_INSTRUMENTS_CQL: CQL,
          };
        },
        { flavour },
      );
      api = apiOf(flavour, p.confluence);
    });
    afterAll(() => p.stop());

    it('adds the pages the CQL finds to the named ones (a first sync: these requests)', async () => {
      const before = p.confluence.requests.length;
      await p.runSync();
      expect(await p.activeTickers()).toEqual(['AAPL', 'NVDA']);
      const requests = p.confluence.requests.slice(before);
      console.log(`[${flavour}] a first sync:\n  ${shapes(requests).join('\n  ')}`);
      const gateway = flavour === 'cloud-scoped';
      const userLookup = `POST ${gateway ? `/ex/confluence/${p.confluence.cloudId}` : ''}/wiki/api/v2/users-bulk`;
      expect(requests.map((r) => `${r.method} ${r.path}`)).toEqual([
        ...(gateway ? ['GET /_edge/tenant_info'] : []),
        `GET ${api.search(TITLE_CQL)}`,
        `GET ${api.versions(['400001'])}`,
        `GET ${api.search(CQL)}`,
        `GET ${api.page('400001')}`,
        ...(flavour === 'datacenter' ? [] : [userLookup]),
        `GET ${api.page('400002')}`,
      ]);
      if (gateway) {
        expect(requests.slice(1).map((r) => r.scope)).toEqual([
          'read:content-details:confluence',
          'read:page:confluence',
          'read:content-details:confluence',
          'read:page:confluence',
          'read:user:confluence',
          'read:page:confluence',
        ]);
      }
    });

    it('an unchanged sync and a probe ask only for versions and the search', async () => {
      let before = p.confluence.requests.length;
      expect(await p.runSync()).toMatchObject({ added: 0, removed: 0, modified: 0 });
      const sync = p.confluence.requests.slice(before);
      // A probe as the edit watch makes it, once its named pages are resolved.
      const source = createListSource(p.config);
      await source.probe();
      before = p.confluence.requests.length;
      const probe = await source.probe();
      const probed = p.confluence.requests.slice(before);
      console.log(
        `[${flavour}] an unchanged sync:\n  ${shapes(sync).join('\n  ')}\n[${flavour}] a probe:\n  ${shapes(probed).join('\n  ')}`,
      );
      expect(sync.map((r) => r.path)).toEqual([
        api.search(TITLE_CQL),
        api.versions(['400001']),
        api.search(CQL),
      ]);
      expect(probed.map((r) => r.path)).toEqual([api.versions(['400001']), api.search(CQL)]);
      expect(probe).toEqual({
        versions: new Map([
          ['400001', 1],
          ['400002', 1],
        ]),
        missing: [],
      });
    });

    it('a page the CQL no longer matches takes its instruments off the list', async () => {
      p.confluence.putPage({
        id: '400002',
        title: 'Restricted - deal team',
        storage: table(['NVDA', 'Deal', 'Full']),
        labels: [],
      });
      const result = await p.runSync();
      expect(result).toMatchObject({ removed: 1 });
      expect(result.pages.map((page) => page.id)).toEqual(['400001']);
      expect(await p.activeTickers()).toEqual(['AAPL']);
    });
  });

  describe('transport failures through Temporal', () => {
    let p: Pipeline;
    beforeAll(async () => {
      p = await startPipeline(
        (confluence) => {
          putListPages(confluence);
          return { RESTRICTED_INSTRUMENTS_PAGE_URL: '300001' };
        },
        { flavour, confluenceTimeoutMs: 500 },
      );
      await p.runSync();
    });
    afterAll(() => p.stop());

    /**
     * Retried on Cloud: every fault. On Data Center: the two our own client turns into
     * ConfluenceUnavailableError itself (a socket error, its deadline); its 5xx and truncated
     * bodies are the reader tests'. The gateway changes only confluence.js's host: none.
     */
    const faults: [string, FakeFault][] = [
      ['a connection reset', { reset: true }],
      ['a truncated body', { truncate: true }],
      ['a 502 from the gateway', { status: 502 }],
      ['a 500', { status: 500 }],
      ['an answer slower than the timeout', { delayMs: 1_500 }],
    ];
    const retried = { cloud: faults, 'cloud-scoped': [], datacenter: [faults[0]!, faults[4]!] }[flavour];
    if (retried.length > 0)
      it.each(retried)('%s is retried and the run succeeds', async (_label, fault) => {
        p.confluence.putPage({
          id: '300001',
          title: 'Restricted - Equities',
          storage: table(['AAPL', `MNPI ${Math.random()}`, 'Full']),
        });
        p.confluence.fail({ ...fault, kind: 'page' });
        const result = await p.runSync();
        expect(result.status).toBe('succeeded');
        expect(result.modified).toBe(1);
      });

    it('a 403 (the user lost access to the page) fails the run at once, without retrying', async () => {
      p.confluence.fail({ status: 403, kind: 'versions' });
      const before = p.confluence.requests.length;
      const error = await p.runSync().catch((e: unknown) => e);
      expect(error).toBeInstanceOf(WorkflowFailedError);
      expect(p.confluence.requests.length - before).toBe(1);
      expect((await p.get('/v1/sync/status')).body.last_error.code).toBe('ConfluenceAuthError');
    });

    it('never lets the API token into a log line, a run record, an API answer or a workflow history', async () => {
      const token = p.confluence.apiToken;
      p.confluence.revokeToken();
      await p.runSync().catch(() => undefined);
      const histories: string[] = [];
      for await (const run of p.client.workflow.list({ query: `TaskQueue = "${p.taskQueue}"` })) {
        histories.push(
          JSON.stringify(await p.client.workflow.getHandle(run.workflowId, run.runId).fetchHistory()),
        );
      }
      expect(histories.length).toBeGreaterThanOrEqual(3); // at least the first sync, the 403, the revoked token
      const runs = JSON.stringify(await p.database.db('sync_runs').select());
      const answers = JSON.stringify([
        (await p.get('/v1/sync/status')).body,
        (await p.get('/v1/check?ticker=AAPL')).body,
      ]);
      expect(globalThis.temporalLogLines.length).toBeGreaterThan(0);
      for (const text of [...histories, runs, answers, ...globalThis.temporalLogLines]) {
        expect(text).not.toContain(token);
        expect(text).not.toContain(Buffer.from(`${p.confluence.username}:${token}`).toString('base64'));
      }
      expect(runs).toMatch(/rejected the (credentials|personal access token)/);
    });
  });
});
