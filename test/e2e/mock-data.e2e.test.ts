import { mkdtemp, readFile, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { WorkflowFailedError } from '@temporalio/client';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startPipeline, type Pipeline } from '../helpers/pipeline.ts';
import { waitFor } from '../helpers/wait.ts';

const SEED = new URL('../data/restricted_instruments.json', import.meta.url);

/** USE_MOCK_DATA=true: the seed file replaces Confluence; the rest of the pipeline is unchanged. */
describe('USE_MOCK_DATA', () => {
  let p: Pipeline;
  let file: string;

  beforeAll(async () => {
    file = join(await mkdtemp(join(tmpdir(), 'rls-mock-')), 'restricted_instruments.json');
    await writeFile(file, await readFile(SEED, 'utf8'));
    p = await startPipeline({
      USE_MOCK_DATA: 'true',
      MOCK_DATA_PATH: file,
      CONFLUENCE_URL: '',
      RESTRICTED_INSTRUMENTS_PAGE_URL: '',
    });
  });
  afterAll(() => p.stop());

  it('loads the seed file through the normal pipeline, never calling Confluence', async () => {
    const seed = JSON.parse(await readFile(SEED, 'utf8')) as { ticker: string }[];
    const result = await p.runSync();
    expect(result).toMatchObject({ status: 'succeeded', added: seed.length, listVersion: 1 });
    expect(await p.activeTickers()).toEqual(seed.map((entry) => entry.ticker).sort());
    expect(p.confluence.requests).toHaveLength(0);
    const msft = await p.get('/v1/check?ticker=MSFT&side=buy');
    expect(msft.body).toMatchObject({
      restricted: true,
      matches: [{ restriction_type: 'buy_only', isin: 'US5949181045' }],
    });
  });

  it('applies an edit of the file as a diff (this one large enough to need an approval)', async () => {
    await writeFile(
      file,
      JSON.stringify([
        {
          ticker: 'aapl us equity',
          isin: 'us0378331005',
          reason: 'Inside information',
          restriction_type: 'full',
        },
        { ticker: 'IBM', isin: null, reason: 'New mandate', restriction_type: 'sell_only' },
      ]),
    );
    const handle = await p.startSync();
    await waitFor('the run to be held', async () =>
      (await p.get('/v1/sync/status')).body.status === 'awaiting_approval' ? true : undefined,
    );
    expect((await p.post(`/v1/sync/runs/${handle.workflowId}/approve`)).status).toBe(202);
    expect(await handle.result()).toMatchObject({ added: 1, modified: 1, removed: 4 });
    expect(await p.activeTickers()).toEqual(['AAPL US', 'IBM']);
  });

  it('fails the run with a clear message on a malformed seed file, keeping the cache', async () => {
    await writeFile(file, '[{"ticker": "AAPL", "restriction_type": "sometimes"}]');
    const error = await p.runSync().catch((e: unknown) => e);
    expect(error).toBeInstanceOf(WorkflowFailedError);
    const status = await p.get('/v1/sync/status');
    expect(status.body.last_error.code).toBe('InvalidMockData');
    expect(status.body.last_error.message).toContain('restriction_type');
    expect(await p.activeTickers()).toEqual(['AAPL US', 'IBM']);
  });
});
