import { WorkflowFailedError } from '@temporalio/client';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { DEMO_PAGE_ID, DEMO_PAGE_STORAGE, DEMO_PAGE_TITLE } from '../../src/dev/demo-page.ts';
import { FAKE_FLAVOURS } from '../../src/dev/fake-confluence.ts';
import { startPipeline, type Pipeline } from '../helpers/pipeline.ts';
import { waitFor } from '../helpers/wait.ts';

const EMPTIED_PAGE = '<table><tbody><tr><th>Ticker</th><th>ISIN</th><th>Reason</th></tr></tbody></table>';
const ALL_TICKERS = ['AAPL', 'MSFT', 'NVDA', 'TSLA'];

/**
 * An emptied or reformatted page must never silently lift restrictions. The page read from each
 * Confluence flavour is held the same way; what happens once it is held is the same on all of
 * them (Cloud only).
 */
describe.each(FAKE_FLAVOURS)('removal guard on %s', (flavour) => {
  let p: Pipeline;
  beforeAll(async () => {
    p = await startPipeline({}, { flavour });
  });
  /** Tests of what follows a hold, which no flavour changes. */
  const onCloud = (name: string, test: () => Promise<void>) => {
    if (flavour === 'cloud') it(name, test);
  };
  afterAll(() => p.stop());
  beforeEach(async () => {
    p.confluence.putPage({ id: DEMO_PAGE_ID, title: DEMO_PAGE_TITLE, storage: DEMO_PAGE_STORAGE });
    await p.runSync();
    expect(await p.activeTickers()).toEqual(ALL_TICKERS);
  });

  async function holdEmptiedPage(input = {}) {
    p.confluence.putPage({ id: DEMO_PAGE_ID, title: DEMO_PAGE_TITLE, storage: EMPTIED_PAGE });
    const handle = await p.startSync(input);
    const status = await waitFor('the run to be held', async () => {
      const { body } = await p.get('/v1/sync/status');
      return body.status === 'awaiting_approval' ? body : undefined;
    });
    return { handle, status };
  }

  it('holds an emptied page, keeps answering from the current list, and applies nothing on reject', async () => {
    const { handle, status } = await holdEmptiedPage();
    expect(status.message).toMatch(
      /^Sync awaiting approval - the sync would remove every instrument on the list \(4\); checks keep using cached data from /,
    );
    expect(status.current_run).toMatchObject({ workflow_id: handle.workflowId, status: 'awaiting_approval' });
    expect((await p.get('/v1/check?ticker=AAPL')).body.restricted).toBe(true);
    expect(await handle.query('stage')).toMatch(
      /^Waiting for an operator: the sync would remove every instrument/,
    );

    const rejected = await p.post(`/v1/sync/runs/${handle.workflowId}/reject`);
    expect(rejected).toEqual({
      status: 202,
      body: {
        workflow_id: handle.workflowId,
        run_id: handle.firstExecutionRunId,
        decision: 'rejected',
        by: 'ops-alice',
      },
    });
    const error = await handle.result().catch((e: unknown) => e);
    expect(error).toBeInstanceOf(WorkflowFailedError);
    expect(((error as WorkflowFailedError).cause as { type?: string }).type).toBe('RemovalRejected');

    expect(await p.activeTickers()).toEqual(ALL_TICKERS);
    const after = (await p.get('/v1/sync/status')).body;
    expect(after.status).toBe('failed');
    expect(after.message).toMatch(/^Sync failed - using cached data from /);
    expect(after.last_error).toEqual({
      code: 'RemovalRejected',
      message:
        'rejected by ops-alice: the sync would remove every instrument on the list (4); nothing applied',
    });
    const run = (await p.get('/v1/sync/runs?limit=1')).body.runs[0];
    expect(run.decision).toMatchObject({ decision: 'rejected', by: 'ops-alice' });
  });

  onCloud('applies the held diff when an operator approves, recording who approved', async () => {
    const { handle } = await holdEmptiedPage();
    expect((await p.post(`/v1/sync/runs/${handle.workflowId}/approve`)).status).toBe(202);
    expect(await handle.result()).toMatchObject({ removed: 4, added: 0 });
    expect(await p.activeTickers()).toEqual([]);
    const run = (await p.get('/v1/sync/runs?limit=1')).body.runs[0];
    expect(run).toMatchObject({
      status: 'succeeded',
      decision: { decision: 'approved', by: 'ops-alice' },
      removed: 4,
    });
  });

  onCloud('applies nothing when nobody answers in time, and says so', async () => {
    const { handle } = await holdEmptiedPage({ approvalTimeoutMs: 1_500 });
    const error = await handle.result().catch((e: unknown) => e);
    expect(((error as WorkflowFailedError).cause as { type?: string }).type).toBe('ApprovalTimedOut');
    expect(await p.activeTickers()).toEqual(ALL_TICKERS);
    expect((await p.get('/v1/sync/status')).body.last_error.message).toMatch(
      /^nobody approved within [\d.]+ (h|min|s): the sync would remove every instrument/,
    );
  });

  onCloud('does not hold a small removal', async () => {
    p.confluence.putPage({
      id: DEMO_PAGE_ID,
      title: DEMO_PAGE_TITLE,
      storage: DEMO_PAGE_STORAGE.replace(/<tr><td><p>NVDA<\/p>.*?<\/tr>\n/, ''),
    });
    expect(await p.runSync()).toMatchObject({ removed: 1 });
  });

  onCloud('refuses decisions without an admin token, on unknown runs and on runs not held', async () => {
    const { handle } = await holdEmptiedPage();
    expect(
      (await p.post(`/v1/sync/runs/${handle.workflowId}/approve`, undefined, p.tokens.read)).body.error.code,
    ).toBe('forbidden');
    expect((await p.post(`/v1/sync/runs/${handle.workflowId}/approve`, undefined, null)).status).toBe(403);
    expect((await p.post('/v1/sync/runs/no-such-run/approve')).status).toBe(404);
    await p.post(`/v1/sync/runs/${handle.workflowId}/reject`);
    await handle.result().catch(() => undefined);
    const again = await p.post(`/v1/sync/runs/${handle.workflowId}/approve`);
    expect(again).toMatchObject({ status: 409, body: { error: { code: 'not_awaiting_approval' } } });
  });

  onCloud('POST /v1/sync?wait=true answers with the held run instead of waiting for a decision', async () => {
    p.confluence.putPage({ id: DEMO_PAGE_ID, title: DEMO_PAGE_TITLE, storage: EMPTIED_PAGE });
    const held = await p.post('/v1/sync?wait=true');
    expect(held.status).toBe(200);
    expect(held.body).toMatchObject({
      status: 'awaiting_approval',
      held_reason: expect.stringContaining('every instrument'),
      requested_by: 'ops-alice',
    });
    expect((await p.post(`/v1/sync/runs/${held.body.workflow_id}/reject`)).status).toBe(202);
    await p.client.workflow
      .getHandle(held.body.workflow_id, held.body.run_id)
      .result()
      .catch(() => undefined);
    expect(await p.activeTickers()).toEqual(ALL_TICKERS);
  });
});
