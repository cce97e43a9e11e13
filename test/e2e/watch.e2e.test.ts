import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DEMO_PAGE_ID, DEMO_PAGE_STORAGE, DEMO_PAGE_TITLE } from '../../src/dev/demo-page.ts';
import { FAKE_FLAVOURS } from '../../src/dev/fake-confluence.ts';
import { ensureWatch, watchWorkflowId } from '../../src/temporal/watch.ts';
import { startPipeline, type Pipeline } from '../helpers/pipeline.ts';
import { staticMetadataOf } from '../helpers/temporal-history.ts';
import { waitFor } from '../helpers/wait.ts';

const AMZN_ROW =
  '<tr><td><p>AMZN</p></td><td><p>US0231351067</p></td><td><p>Amazon.com, Inc.</p></td><td><p>Pending M&amp;A advisory</p></td><td><p>Full</p></td></tr>\n</tbody>';

/**
 * The edit watch on real parts: a watcher on the Temporal server, probing the fake Confluence
 * every second, on each flavour (each asks for versions its own way).
 */
describe.each(FAKE_FLAVOURS)('the edit watch on %s', (flavour) => {
  let p: Pipeline;
  const probes = () => p.confluence.requests.filter((r) => r.kind === 'versions');
  const downloads = () => p.confluence.requests.filter((r) => r.kind === 'page');

  beforeAll(async () => {
    p = await startPipeline({ RESTRICTED_LIST_WATCH_SECONDS: '1' }, { flavour });
    p.confluence.putPage({ id: DEMO_PAGE_ID, title: DEMO_PAGE_TITLE, storage: DEMO_PAGE_STORAGE });
    await p.runSync();
    expect(await ensureWatch(p.client, p.config)).toBe('watching');
    // A second worker's start finds the watch already running: one watch for the fleet.
    expect(await ensureWatch(p.client, p.config)).toBe('watching');
  });
  afterAll(async () => {
    await p.client.workflow
      .getHandle(watchWorkflowId(p.config.temporal.taskQueue))
      .cancel()
      .catch(() => undefined);
    await p.stop();
  });

  it('an edit saved in Confluence is enforced within a few seconds, by a sync the watch started', async () => {
    const saved = p.confluence.putPage({
      id: DEMO_PAGE_ID,
      title: DEMO_PAGE_TITLE,
      storage: DEMO_PAGE_STORAGE.replace('</tbody>', AMZN_ROW),
      authorName: 'Carol Compliance',
    });
    const savedAt = Date.now();
    const answer = await waitFor(
      'the check to restrict the added instrument',
      async () => {
        const check = await p.get('/v1/check?ticker=AMZN');
        return check.body.restricted === true ? check.body : undefined;
      },
      15_000,
      20,
    );
    const lagMs = Date.now() - savedAt;
    console.log(`[watch, ${flavour}] edit enforced ${lagMs} ms after it was saved (watch every 1 s)`);
    expect(lagMs).toBeLessThan(1_000 + 30_000);
    expect(answer.list_version).toBe(2);

    const [run] = await p.database.db('sync_runs').where({ trigger: 'watch' });
    expect(run).toMatchObject({ status: 'succeeded', list_version: 2 });
    const metadata = await staticMetadataOf(p.client.workflow.getHandle(run.workflow_id, run.id));
    expect(metadata.summary).toBe(
      `Sync started by the edit watch: page ${DEMO_PAGE_ID} is at v${saved.version} (the list has v${saved.version - 1})`,
    );
    // Each API process measures the lag from the edit being saved to it answering from it.
    const metrics = await (await fetch(`${p.apiUrl}/metrics`)).text();
    const observed = Number(/^rls_edit_to_enforcement_seconds_count (\d+)$/m.exec(metrics)?.[1] ?? 0);
    expect(observed).toBeGreaterThanOrEqual(1);
    // The change log says when the edit was saved, beside when it was applied.
    const [change] = (await p.get('/v1/restricted/changes?limit=1')).body.changes;
    expect(change).toMatchObject({ change: 'added', ticker: 'AMZN', edited_by: 'Carol Compliance' });
  });

  it('while nothing changes, probes only ask for versions: no body, no run, no row', async () => {
    await waitFor('the watch to settle', async () => {
      const running = await p.database.db('sync_runs').whereIn('status', ['running', 'awaiting_approval']);
      return running.length === 0 ? true : undefined;
    });
    const rows = async () => ({
      runs: Number((await p.database.db('sync_runs').count('* as n').first())?.n),
      changes: Number((await p.database.db('instrument_changes').count('* as n').first())?.n),
      pages: Number((await p.database.db('sync_run_pages').count('* as n').first())?.n),
    });
    const before = {
      rows: await rows(),
      probes: probes().length,
      downloads: downloads().length,
      requests: p.confluence.requests.length,
    };
    await waitFor(
      'three more probes',
      async () => (probes().length >= before.probes + 3 ? true : undefined),
      15_000,
    );
    expect(await rows()).toEqual(before.rows);
    expect(downloads().length).toBe(before.downloads);
    const quiet = p.confluence.requests.slice(before.requests);
    // Each probe is one request for the named page's version, no body.
    expect(quiet.every((r) => r.kind === 'versions')).toBe(true);
    expect(quiet.every((r) => !/body-format|body\.storage/.test(r.path))).toBe(true);
  });
});
