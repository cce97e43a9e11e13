import { WorkflowFailedError } from '@temporalio/client';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import * as schemas from '../../src/api/schemas.ts';
import { DEMO_PAGE_ID, DEMO_PAGE_STORAGE, DEMO_PAGE_TITLE } from '../../src/dev/demo-page.ts';
import { formClient } from '../browser/form-client.ts';
import { startPipeline, type Pipeline } from '../helpers/pipeline.ts';
import { waitFor } from '../helpers/wait.ts';

const EMPTIED_PAGE = '<table><tbody><tr><th>Ticker</th><th>ISIN</th><th>Reason</th></tr></tbody></table>';

/**
 * The API's admin actions against a real Temporal server, worker and Postgres: what the fakes
 * (test/fakes/sync-control.ts) stand in for everywhere else in test/api.
 */
describe('API and dashboard on real Temporal and Postgres', () => {
  let p: Pipeline;
  beforeAll(async () => {
    p = await startPipeline();
    p.confluence.putPage({ id: DEMO_PAGE_ID, title: DEMO_PAGE_TITLE, storage: DEMO_PAGE_STORAGE });
    await p.runSync();
  });
  afterAll(() => p?.stop());

  it('POST /v1/sync?wait=true starts a run through the schedule and answers with it finished, in its schema', async () => {
    const finished = await p.post('/v1/sync?wait=true');
    expect(finished.status).toBe(200);
    expect(() => schemas.runSchema.parse(finished.body)).not.toThrow();
    expect(finished.body).toMatchObject({
      status: 'succeeded',
      trigger: 'manual',
      requested_by: 'ops-alice',
    });
  });

  it('the dashboard’s Sync now starts a run through the schedule, recorded as the admin’s', async () => {
    const admin = formClient(p.apiUrl);
    await admin.signIn(p.tokens.admin);
    const started = await admin.post('/dashboard/sync', { csrf: await admin.csrf() }, { origin: p.apiUrl });
    expect(started.status).toBe(303);
    const flash = /Sync started by ops-alice \((?<workflowId>[^)]+)\)/.exec((await admin.get('/')).text);
    expect(flash).not.toBeNull();
    const run = await waitFor('the run to finish', async () => {
      const [latest] = (await p.get('/v1/sync/runs?limit=1')).body.runs;
      return latest?.workflow_id === flash!.groups!.workflowId && latest.status === 'succeeded'
        ? latest
        : undefined;
    });
    expect(run).toMatchObject({ trigger: 'manual', requested_by: 'ops-alice' });
  });

  it('the dashboard rejects a run held by the removal guard: nothing is applied', async () => {
    p.confluence.putPage({ id: DEMO_PAGE_ID, title: DEMO_PAGE_TITLE, storage: EMPTIED_PAGE });
    const handle = await p.startSync();
    await waitFor('the run to be held', async () =>
      (await p.get('/v1/sync/status')).body.status === 'awaiting_approval' ? true : undefined,
    );
    const admin = formClient(p.apiUrl);
    await admin.signIn(p.tokens.admin);
    const rejected = await admin.post(
      `/dashboard/runs/${encodeURIComponent(handle.workflowId)}/reject`,
      { csrf: await admin.csrf() },
      { origin: p.apiUrl },
    );
    expect(rejected.status).toBe(303);
    const error = await handle.result().catch((e: unknown) => e);
    expect(error).toBeInstanceOf(WorkflowFailedError);
    expect(((error as WorkflowFailedError).cause as { type?: string }).type).toBe('RemovalRejected');
    expect(await p.activeTickers()).toEqual(['AAPL', 'MSFT', 'NVDA', 'TSLA']);
    expect((await p.get('/v1/sync/runs?limit=1')).body.runs[0].decision).toMatchObject({
      decision: 'rejected',
      by: 'ops-alice',
    });
  });
});
