import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DEMO_PAGE_ID, DEMO_PAGE_TITLE } from '../../src/dev/demo-page.ts';
import { assertSucceeded } from '../../src/temporal/contract.ts';
import { ensureWatch, watchWorkflowId } from '../../src/temporal/watch.ts';
import { request, startFleet, type Fleet } from '../helpers/fleet.ts';
import { waitFor } from '../helpers/wait.ts';

const WATCH_SECONDS = 2;

function listPage(tickers: readonly string[]): string {
  const rows = tickers.map((t) => `<tr><td><p>${t}</p></td><td><p>${t} Inc.</p></td></tr>`).join('');
  return `<table><tbody><tr><th><p>Ticker</p></th><th><p>Name</p></th></tr>${rows}</tbody></table>`;
}

/** One watch for a fleet of two workers, and what happens when the worker running it dies. */
describe('the edit watch in a fleet', () => {
  let fleet: Fleet;
  beforeAll(async () => {
    fleet = await startFleet({
      workers: 2,
      apis: 2,
      env: { RESTRICTED_LIST_WATCH_SECONDS: String(WATCH_SECONDS) },
    });
    fleet.confluence.putPage({
      id: DEMO_PAGE_ID,
      title: DEMO_PAGE_TITLE,
      storage: listPage(['AAPL', 'MSFT']),
    });
    assertSucceeded(await (await fleet.startRun()).result());
    // Each worker ensures the watch at start; there is still one.
    for (const _worker of fleet.workers)
      expect(await ensureWatch(fleet.client, fleet.config)).toBe('watching');
  }, 60_000);
  afterAll(async () => {
    await fleet?.client.workflow
      .getHandle(watchWorkflowId(fleet.config.temporal.taskQueue))
      .cancel()
      .catch(() => undefined);
    await fleet?.stop();
  });

  const watchHolder = async () => {
    const { raw } = await fleet.client.workflow
      .getHandle(watchWorkflowId(fleet.config.temporal.taskQueue))
      .describe();
    const pending = raw.pendingActivities?.find((a) => a.activityType?.name === 'watchForEdits');
    return pending?.lastWorkerIdentity || undefined;
  };

  it('moves to the other worker when its worker is killed, and the next edit is still enforced within the bound', async () => {
    const holder = await waitFor('a worker to run the watch', watchHolder, 15_000);
    const victim = fleet.workers.find((worker) => worker.identity === holder);
    expect(victim, `the watch runs on ${holder}`).toBeDefined();
    const survivor = fleet.workers.find((worker) => worker !== victim)!;
    expect(await fleet.kill(victim!)).toEqual({ code: null, signal: 'SIGKILL' });

    fleet.confluence.putPage({
      id: DEMO_PAGE_ID,
      title: DEMO_PAGE_TITLE,
      storage: listPage(['AAPL', 'MSFT', 'NVDA']),
    });
    const savedAt = Date.now();
    await Promise.all(
      fleet.apis.map((api) =>
        waitFor(
          `${api.name} to restrict the added instrument`,
          async () =>
            (await request(`${api.url}/v1/check?ticker=NVDA`)).body.restricted === true ? true : undefined,
          (WATCH_SECONDS + 30) * 1000,
          50,
        ),
      ),
    );
    const lagMs = Date.now() - savedAt;
    console.log(
      `[watch] after the watching worker was killed, an edit was enforced by both APIs in ${lagMs} ms`,
    );
    expect(lagMs).toBeLessThan((WATCH_SECONDS + 30) * 1000);
    expect(await watchHolder()).toBe(survivor.identity);
    const runs = await fleet.database.db('sync_runs').where({ trigger: 'watch' });
    expect(runs.map((run) => run.status)).toEqual(['succeeded']);
  }, 90_000);
});
